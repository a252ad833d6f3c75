// TaskGroup through async_with: waiting, failure and cancellation as asyncio 3.12.
#include <stdexcept>
#include <string>
#include <vector>

#include "support/aio_test.hpp"

namespace aio {
namespace {

using Log = std::vector<std::string>;

Coro<int> value_after(double s, int v, Log* log = nullptr) {
  try {
    co_await sleep(s);
  } catch (const CancelledError&) {
    if (log) log->push_back("cancelled " + std::to_string(v));
    throw;
  }
  if (log) log->push_back("done " + std::to_string(v));
  co_return v;
}

Coro<int> fail_after(double s, const char* what) {
  co_await sleep(s);
  throw std::runtime_error(what);
}

TEST(TaskGroup, WaitsForAllItsTasks) {
  Log log;
  auto main_ = [&]() -> Coro<> {
    Task<int> a{nullptr}, b{nullptr};
    co_await async_with(TaskGroup(), [&](TaskGroup& tg) -> Coro<> {
      a = tg.create_task(value_after(1, 1, &log));
      b = tg.create_task(value_after(2, 2, &log), "second");
      EXPECT_EQ(b.get_name(), "second");
      log.push_back("body done");
      co_return;
    });
    log.push_back("group done");
    EXPECT_EQ(a.result() + b.result(), 3);
  };
  double elapsed = 0;
  test::run_virtual(main_(), &elapsed);
  EXPECT_EQ(log, (Log{"body done", "done 1", "done 2", "group done"}));
  EXPECT_DOUBLE_EQ(elapsed, 2.0);
}

TEST(TaskGroup, TheBodyAndTheTasksRunConcurrently) {
  auto main_ = []() -> Coro<> {
    co_await async_with(TaskGroup(), [](TaskGroup& tg) -> Coro<> {
      tg.create_task(value_after(3, 1));
      co_await sleep(2);
      EXPECT_DOUBLE_EQ(get_running_loop().time(), 2.0);
    });
  };
  double elapsed = 0;
  test::run_virtual(main_(), &elapsed);
  EXPECT_DOUBLE_EQ(elapsed, 3.0);
}

TEST(TaskGroup, AFailureCancelsTheOthersAndTheBodyAndAllFailuresComeTogether) {
  Log log;
  auto main_ = [&]() -> Coro<> {
    try {
      co_await async_with(TaskGroup(), [&](TaskGroup& tg) -> Coro<> {
        tg.create_task(fail_after(1, "first"));
        tg.create_task(fail_after(1, "second"));
        tg.create_task(value_after(5, 3, &log));
        try {
          co_await sleep(10);
        } catch (const CancelledError&) {
          log.push_back("body cancelled");
          throw;
        }
      });
      ADD_FAILURE() << "the group must raise";
    } catch (const ExceptionGroup& eg) {
      EXPECT_STREQ(eg.what(), "unhandled errors in a TaskGroup (2 sub-exceptions)");
      CO_ASSERT_TRUE(eg.exceptions().size() == 2u);
      EXPECT_EQ(exception_str(eg.exceptions()[0]), "std::runtime_error: first");
      EXPECT_EQ(exception_str(eg.exceptions()[1]), "std::runtime_error: second");
    }
    EXPECT_DOUBLE_EQ(get_running_loop().time(), 1.0);
    EXPECT_EQ(current_task().cancelling(), 0u);  // the group took its cancel back
  };
  test::run_virtual(main_());
  EXPECT_EQ(log, (Log{"cancelled 3", "body cancelled"}));  // CPython 3.11: the same
}

TEST(TaskGroup, AnExceptionInTheBodyCancelsTheTasksAndJoinsTheGroup) {
  Log log;
  auto main_ = [&]() -> Coro<> {
    try {
      co_await async_with(TaskGroup(), [&](TaskGroup& tg) -> Coro<> {
        tg.create_task(value_after(5, 1, &log));
        co_await sleep(1);
        throw std::logic_error("body failed");
      });
    } catch (const ExceptionGroup& eg) {
      CO_ASSERT_TRUE(eg.exceptions().size() == 1u);
      EXPECT_EQ(exception_str(eg.exceptions()[0]), "std::logic_error: body failed");
    }
  };
  test::run_virtual(main_());
  EXPECT_EQ(log, (Log{"cancelled 1"}));
}

TEST(TaskGroup, CancellingTheParentCancelsTheChildrenAndPropagatesAfterThem) {
  Log log;
  auto parent = [&]() -> Coro<> {
    co_await async_with(TaskGroup(), [&](TaskGroup& tg) -> Coro<> {
      tg.create_task(value_after(10, 1, &log));
      tg.create_task(value_after(10, 2, &log));
      co_await sleep(10);
    });
    log.push_back("not reached");
  };
  auto main_ = [&]() -> Coro<> {
    Task<> t = create_task(parent());
    co_await sleep(1);
    t.cancel();
    EXPECT_THROW(co_await t, CancelledError);
    EXPECT_TRUE(t.cancelled());
  };
  test::run_virtual(main_());
  EXPECT_EQ(log, (Log{"cancelled 1", "cancelled 2"}));  // CPython 3.11: creation order
}

TEST(TaskGroup, TheParentIsCancelledWhileWaitingForTheChildren) {
  Log log;
  auto parent = [&]() -> Coro<> {
    co_await async_with(TaskGroup(), [&](TaskGroup& tg) -> Coro<> {
      tg.create_task(value_after(10, 1, &log));
      co_return;  // the exit now waits for the child
    });
  };
  auto main_ = [&]() -> Coro<> {
    Task<> t = create_task(parent());
    co_await sleep(1);
    t.cancel();
    EXPECT_THROW(co_await t, CancelledError);
  };
  double elapsed = 0;
  test::run_virtual(main_(), &elapsed);
  EXPECT_EQ(log, (Log{"cancelled 1"}));
  EXPECT_DOUBLE_EQ(elapsed, 1.0);
}

TEST(TaskGroup, CreateTaskOutsideTheGroupsLifeIsAnError) {
  auto main_ = []() -> Coro<> {
    TaskGroup unentered;
    EXPECT_THROW(unentered.create_task(value_after(1, 1)), RuntimeError);
    TaskGroup tg;
    co_await tg.aenter();
    EXPECT_THROW(co_await tg.aenter(), RuntimeError);  // entered twice
    tg.create_task(value_after(1, 1));
    co_await tg.aexit(nullptr);
    EXPECT_THROW(tg.create_task(value_after(1, 2)), RuntimeError);  // finished
  };
  test::StderrCapture capture;  // the refused coroutines are never awaited
  test::run_virtual(main_());
}

TEST(TaskGroup, ATaskThatSucceedsLateIsStillAwaited) {
  auto main_ = []() -> Coro<int> {
    int total = 0;
    co_await async_with(TaskGroup(), [&](TaskGroup& tg) -> Coro<> {
      for (int i = 1; i <= 10; ++i) {
        tg.create_task([](int v, int* sum) -> Coro<> {
          co_await sleep(v);
          *sum += v;
        }(i, &total));
      }
      co_return;
    });
    co_return total;
  };
  double elapsed = 0;
  EXPECT_EQ(test::run_virtual(main_(), &elapsed), 55);
  EXPECT_DOUBLE_EQ(elapsed, 10.0);
}

}  // namespace
}  // namespace aio
