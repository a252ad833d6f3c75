// timeout() and timeout_at(), used through async_with: asyncio 3.12 state for state.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/aio_test.hpp"

namespace aio {
namespace {

using Log = std::vector<std::string>;

TEST(Timeout, CancelsTheBodyAtTheDeadlineAndRaisesTimeoutError) {
  Log log;
  auto main_ = [&]() -> Coro<> {
    try {
      co_await async_with(timeout(2), [&](Timeout& cm) -> Coro<> {
        EXPECT_DOUBLE_EQ(cm.when().value(), 2.0);
        try {
          co_await sleep(10);
        } catch (const CancelledError&) {
          log.push_back("body cancelled");
          throw;
        }
      });
    } catch (const TimeoutError&) {
      log.push_back("timeout at " + std::to_string(get_running_loop().time()));
    }
    EXPECT_EQ(current_task().cancelling(), 0u);
  };
  test::run_virtual(main_());
  EXPECT_EQ(log, (Log{"body cancelled", "timeout at 2.000000"}));
}

TEST(WaitFor, AMoveOnlyResultComesOutWithAnyTimeout) {
  auto make = []() -> Coro<std::unique_ptr<int>> { co_return std::make_unique<int>(7); };
  auto main_ = [&]() -> Coro<> {
    std::unique_ptr<int> a = co_await wait_for(make(), 1.0);
    EXPECT_EQ(*a, 7);
    Future<std::unique_ptr<int>> done = get_running_loop().create_future<std::unique_ptr<int>>();
    done.set_result(std::make_unique<int>(8));
    std::unique_ptr<int> b = co_await wait_for(done, 0);  // a zero timeout on a done future
    EXPECT_EQ(*b, 8);
  };
  test::run_virtual(main_());
}

TEST(Timeout, NoTimeoutWhenTheBodyFinishesInTime) {
  auto main_ = []() -> Coro<int> {
    co_return co_await async_with(timeout(2), [](Timeout& cm) -> Coro<int> {
      co_await sleep(1);
      EXPECT_FALSE(cm.expired());
      co_return 4;
    });
  };
  double elapsed = 0;
  EXPECT_EQ(test::run_virtual(main_(), &elapsed), 4);
  EXPECT_DOUBLE_EQ(elapsed, 1.0);
}

TEST(Timeout, NulloptMeansNoDeadline) {
  auto main_ = []() -> Coro<> {
    co_await async_with(timeout(std::nullopt), [](Timeout& cm) -> Coro<> {
      EXPECT_FALSE(cm.when().has_value());
      co_await sleep(1000);
    });
  };
  double elapsed = 0;
  test::run_virtual(main_(), &elapsed);
  EXPECT_DOUBLE_EQ(elapsed, 1000.0);
}

TEST(Timeout, TimeoutAtTakesALoopTime) {
  auto main_ = []() -> Coro<> {
    co_await sleep(1);
    const double deadline = get_running_loop().time() + 0.5;
    EXPECT_THROW(co_await async_with(timeout_at(deadline), [](Timeout&) -> Coro<> { co_await sleep(5); }),
                 TimeoutError);
    EXPECT_DOUBLE_EQ(get_running_loop().time(), 1.5);
  };
  test::run_virtual(main_());
}

TEST(Timeout, RescheduleMovesTheDeadline) {
  auto main_ = []() -> Coro<> {
    // later
    EXPECT_THROW(co_await async_with(timeout(1), [](Timeout& cm) -> Coro<> {
      cm.reschedule(3);
      co_await sleep(10);
    }), TimeoutError);
    EXPECT_DOUBLE_EQ(get_running_loop().time(), 3.0);
    // earlier, into the past: expires on the next iteration
    EXPECT_THROW(co_await async_with(timeout(10), [](Timeout& cm) -> Coro<> {
      cm.reschedule(get_running_loop().time() - 1);
      co_await sleep(10);
    }), TimeoutError);
    EXPECT_DOUBLE_EQ(get_running_loop().time(), 3.0);
    // removed
    co_await async_with(timeout(1), [](Timeout& cm) -> Coro<> {
      cm.reschedule(std::nullopt);
      co_await sleep(5);
    });
    EXPECT_DOUBLE_EQ(get_running_loop().time(), 8.0);
  };
  test::run_virtual(main_());
}

TEST(Timeout, ExpiredAndWhen) {
  auto main_ = []() -> Coro<> {
    Timeout* seen = nullptr;
    try {
      co_await async_with(timeout(1), [&](Timeout& cm) -> Coro<> {
        seen = &cm;
        EXPECT_FALSE(cm.expired());
        co_await sleep(2);
      });
    } catch (const TimeoutError&) {
    }
    (void)seen;  // the manager lived in async_with's frame; checked inside instead
    co_await async_with(timeout(1), [](Timeout& cm) -> Coro<> {
      bool caught = false;
      try {
        co_await sleep(2);
      } catch (const CancelledError&) {
        caught = true;  // swallowing it: the timeout expired but raises nothing
      }
      EXPECT_TRUE(caught);
      EXPECT_TRUE(cm.expired());
    });
  };
  test::run_virtual(main_());
}

TEST(Timeout, MisuseIsARuntimeError) {
  auto main_ = []() -> Coro<> {
    Timeout t = timeout(1);
    EXPECT_THROW(t.reschedule(2), RuntimeError);  // not entered
    co_await t.aenter();
    EXPECT_THROW(co_await t.aenter(), RuntimeError);  // entered twice
    co_await t.aexit(nullptr);
    EXPECT_THROW(t.reschedule(2), RuntimeError);  // finished
    EXPECT_NE(t.repr().find("finished"), std::string::npos) << t.repr();
  };
  test::run_virtual(main_());
}

TEST(Timeout, ACancelFromElsewherePropagatesAsCancelledError) {
  auto body = []() -> Coro<> { co_await async_with(timeout(10), [](Timeout&) -> Coro<> { co_await sleep(100); }); };
  auto main_ = [&]() -> Coro<> {
    Task<> t = create_task(body());
    co_await sleep(1);
    t.cancel();
    EXPECT_THROW(co_await t, CancelledError);
    EXPECT_TRUE(t.cancelled());
  };
  test::run_virtual(main_());
}

TEST(Timeout, ACancelFromElsewhereStillPendingAtExpiryIsNotConverted) {
  // The deadline and an outside cancel at the same moment: uncancel() leaves one
  // request pending, so the CancelledError propagates (asyncio 3.12).
  auto body = []() -> Coro<> {
    co_await async_with(timeout(1), [](Timeout&) -> Coro<> {
      current_task().cancel();  // the outside world's request, before the deadline
      bool swallowed = false;
      try {
        co_await sleep(0);
      } catch (const CancelledError&) {
        swallowed = true;
      }
      EXPECT_TRUE(swallowed);
      co_await sleep(5);  // now the deadline cancels
    });
  };
  auto main_ = [&]() -> Coro<> {
    Task<> t = create_task(body());
    EXPECT_THROW(co_await t, CancelledError);
  };
  test::run_virtual(main_());
}

TEST(Timeout, NestedInnerExpiresFirst) {
  auto main_ = []() -> Coro<> {
    co_await async_with(timeout(5), [](Timeout&) -> Coro<> {
      EXPECT_THROW(co_await async_with(timeout(1), [](Timeout&) -> Coro<> { co_await sleep(10); }), TimeoutError);
      EXPECT_DOUBLE_EQ(get_running_loop().time(), 1.0);
      co_await sleep(1);  // the outer one is still fine
    });
    EXPECT_DOUBLE_EQ(get_running_loop().time(), 2.0);
  };
  test::run_virtual(main_());
}

TEST(Timeout, NestedOuterExpiresWhileInsideTheInner) {
  Log log;
  auto main_ = [&]() -> Coro<> {
    try {
      co_await async_with(timeout(1), [&](Timeout&) -> Coro<> {
        try {
          co_await async_with(timeout(5), [](Timeout&) -> Coro<> { co_await sleep(10); });
        } catch (const TimeoutError&) {
          log.push_back("inner raised TimeoutError");
        } catch (const CancelledError&) {
          log.push_back("inner let CancelledError through");
          throw;
        }
      });
    } catch (const TimeoutError&) {
      log.push_back("outer raised TimeoutError");
    }
  };
  test::run_virtual(main_());
  EXPECT_EQ(log, (Log{"inner let CancelledError through", "outer raised TimeoutError"}));
}

TEST(Timeout, TimeoutNeedsARunningLoopButTimeoutAtDoesNot) {
  EXPECT_THROW(timeout(1), RuntimeError);  // "no running event loop": now is unknown
  Timeout t = timeout_at(5);
  EXPECT_DOUBLE_EQ(t.when().value(), 5.0);
  EXPECT_FALSE(t.expired());
}

}  // namespace
}  // namespace aio
