// async_with: aenter, the body, aexit on every exit path, suppression, the result.
#include <stdexcept>
#include <string>
#include <vector>

#include "support/aio_test.hpp"

namespace aio {
namespace {

using Log = std::vector<std::string>;

struct Manager {
  Log* log;
  bool suppress = false;
  Coro<int> aenter() {
    log->push_back("enter");
    co_await sleep(0.5);
    co_return 10;
  }
  Coro<bool> aexit(std::exception_ptr e) {
    co_await sleep(0.5);
    if (!e) {
      log->push_back("exit clean");
    } else if (is_cancelled_error(e)) {
      log->push_back("exit cancelled");
    } else {
      log->push_back("exit " + exception_str(e));
    }
    co_return suppress;
  }
};

struct VoidManager {
  Log* log;
  Coro<> aenter() {
    log->push_back("enter");
    co_return;
  }
  Coro<> aexit(std::exception_ptr e) {
    log->push_back(e ? "exit with error" : "exit");
    co_return;
  }
};

TEST(AsyncWith, TheBodyGetsWhatAenterReturnedAndTheResultComesBack) {
  Log log;
  auto main_ = [&]() -> Coro<int> {
    co_return co_await async_with(Manager{&log}, [&](int& entered) -> Coro<int> {
      log.push_back("body " + std::to_string(entered));
      co_return entered + 1;
    });
  };
  double elapsed = 0;
  EXPECT_EQ(test::run_virtual(main_(), &elapsed), 11);
  EXPECT_EQ(log, (Log{"enter", "body 10", "exit clean"}));
  EXPECT_DOUBLE_EQ(elapsed, 1.0);
}

TEST(AsyncWith, AVoidAenterGivesTheManagerItself) {
  Log log;
  auto main_ = [&]() -> Coro<> {
    co_await async_with(VoidManager{&log}, [&](VoidManager& m) -> Coro<> {
      EXPECT_EQ(m.log, &log);
      log.push_back("body");
      co_return;
    });
  };
  test::run_virtual(main_());
  EXPECT_EQ(log, (Log{"enter", "body", "exit"}));
}

TEST(AsyncWith, AexitRunsWhenTheBodyThrowsAndTheErrorPropagates) {
  Log log;
  auto main_ = [&]() -> Coro<> {
    EXPECT_THROW(co_await async_with(Manager{&log}, [](int&) -> Coro<int> {
      co_await sleep(0);
      throw std::runtime_error("body failed");
    }), std::runtime_error);
  };
  test::run_virtual(main_());
  EXPECT_EQ(log, (Log{"enter", "exit std::runtime_error: body failed"}));
}

TEST(AsyncWith, AexitRunsWhenTheBodyIsCancelled) {
  Log log;
  auto body = [&]() -> Coro<> {
    co_await async_with(Manager{&log}, [](int&) -> Coro<int> {
      co_await sleep(10);
      co_return 0;
    });
  };
  auto main_ = [&]() -> Coro<> {
    Task<> t = create_task(body());
    co_await sleep(1);
    t.cancel();
    EXPECT_THROW(co_await t, CancelledError);
  };
  test::run_virtual(main_());
  EXPECT_EQ(log, (Log{"enter", "exit cancelled"}));
}

TEST(AsyncWith, AexitReturningTrueSuppressesTheError) {
  Log log;
  auto main_ = [&]() -> Coro<int> {
    co_return co_await async_with(Manager{&log, true}, [](int&) -> Coro<int> {
      co_await sleep(0);
      throw std::runtime_error("swallowed");
    });
  };
  EXPECT_EQ(test::run_virtual(main_()), 0);  // no value: the result type's default
  EXPECT_EQ(log, (Log{"enter", "exit std::runtime_error: swallowed"}));
}

}  // namespace
}  // namespace aio
