// wait(), wait_for() (asyncio 3.12: built on timeout()), as_completed().
#include <stdexcept>
#include <string>
#include <vector>

#include "support/aio_test.hpp"

namespace aio {
namespace {

using Log = std::vector<std::string>;

Coro<int> value_after(double s, int v) {
  co_await sleep(s);
  co_return v;
}

Coro<int> fail_after(double s) {
  co_await sleep(s);
  throw std::runtime_error("failed");
}

std::vector<Task<int>> start(std::vector<double> delays) {
  std::vector<Task<int>> tasks;
  for (std::size_t i = 0; i < delays.size(); ++i) tasks.push_back(create_task(value_after(delays[i], static_cast<int>(i))));
  return tasks;
}

TEST(Wait, AllCompleted) {
  double elapsed = 0;
  auto main_ = []() -> Coro<> {
    std::vector<Task<int>> tasks = start({3, 1, 2});
    auto [done, pending] = co_await wait(tasks);
    EXPECT_EQ(done.size(), 3u);
    EXPECT_TRUE(pending.empty());
    EXPECT_TRUE(done[0] == tasks[0]);  // input order
    EXPECT_TRUE(done[2] == tasks[2]);
  };
  test::run_virtual(main_(), &elapsed);
  EXPECT_DOUBLE_EQ(elapsed, 3.0);
}

TEST(Wait, FirstCompleted) {
  auto main_ = []() -> Coro<> {
    std::vector<Task<int>> tasks = start({3, 1, 2});
    auto [done, pending] = co_await wait(tasks, FIRST_COMPLETED);
    EXPECT_DOUBLE_EQ(get_running_loop().time(), 1.0);
    CO_ASSERT_TRUE(done.size() == 1u);
    EXPECT_TRUE(done[0] == tasks[1]);
    CO_ASSERT_TRUE(pending.size() == 2u);
    EXPECT_TRUE(pending[0] == tasks[0]);
    EXPECT_TRUE(pending[1] == tasks[2]);
    for (Task<int>& t : pending) co_await t;  // wait() cancelled nothing
  };
  test::run_virtual(main_());
}

TEST(Wait, FirstExceptionReturnsAtTheFirstFailure) {
  auto main_ = []() -> Coro<> {
    std::vector<Task<int>> tasks{create_task(value_after(1, 0)), create_task(fail_after(2)), create_task(value_after(3, 2))};
    auto [done, pending] = co_await wait(tasks, FIRST_EXCEPTION);
    EXPECT_DOUBLE_EQ(get_running_loop().time(), 2.0);
    EXPECT_EQ(done.size(), 2u);
    EXPECT_EQ(pending.size(), 1u);
    EXPECT_THROW(tasks[1].result(), std::runtime_error);
    co_await tasks[2];
  };
  test::run_virtual(main_());
}

TEST(Wait, FirstExceptionWithoutFailuresWaitsForAll) {
  double elapsed = 0;
  auto main_ = []() -> Coro<> {
    std::vector<Task<int>> tasks = start({1, 2});
    auto [done, pending] = co_await wait(tasks, FIRST_EXCEPTION);
    EXPECT_EQ(done.size(), 2u);
  };
  test::run_virtual(main_(), &elapsed);
  EXPECT_DOUBLE_EQ(elapsed, 2.0);
}

TEST(Wait, TimeoutReturnsWhatIsDoneAndCancelsNothing) {
  auto main_ = []() -> Coro<> {
    std::vector<Task<int>> tasks = start({1, 5});
    auto [done, pending] = co_await wait(tasks, {.timeout = 2});
    EXPECT_DOUBLE_EQ(get_running_loop().time(), 2.0);
    EXPECT_EQ(done.size(), 1u);
    CO_ASSERT_TRUE(pending.size() == 1u);
    EXPECT_FALSE(pending[0].cancelled());
    EXPECT_EQ(co_await pending[0], 1);
    EXPECT_DOUBLE_EQ(get_running_loop().time(), 5.0);
  };
  test::run_virtual(main_());
}

TEST(Wait, EmptyInputIsAValueError) {
  auto main_ = []() -> Coro<> {
    std::vector<Task<int>> none;
    EXPECT_THROW(co_await wait(none), ValueError);
  };
  test::run_virtual(main_());
}

TEST(WaitFor, ReturnsTheValueInTime) {
  double elapsed = 0;
  auto main_ = []() -> Coro<int> { co_return co_await wait_for(value_after(1, 8), 2); };
  EXPECT_EQ(test::run_virtual(main_(), &elapsed), 8);
  EXPECT_DOUBLE_EQ(elapsed, 1.0);
}

TEST(WaitFor, TimesOutCancellingTheWork) {
  Log log;
  auto work = [&]() -> Coro<int> {
    try {
      co_await sleep(10);
    } catch (const CancelledError&) {
      log.push_back("work cancelled");
      throw;
    }
    co_return 1;
  };
  double elapsed = 0;
  auto main_ = [&]() -> Coro<> {
    EXPECT_THROW(co_await wait_for(work(), 0.5), TimeoutError);
    EXPECT_EQ(current_task().cancelling(), 0u);  // the timeout took its cancel back
  };
  test::run_virtual(main_(), &elapsed);
  EXPECT_EQ(log, (Log{"work cancelled"}));
  EXPECT_DOUBLE_EQ(elapsed, 0.5);
}

TEST(WaitFor, WaitsUntilTheWorkHasFinishedCancellingThenRaises) {
  auto slow_to_cancel = []() -> Coro<int> {
    bool cancelled = false;
    try {
      co_await sleep(10);
    } catch (const CancelledError&) {
      cancelled = true;
    }
    if (cancelled) {
      co_await sleep(1);  // cleanup takes a second
      throw CancelledError();
    }
    co_return 1;
  };
  double elapsed = 0;
  auto main_ = [&]() -> Coro<> { EXPECT_THROW(co_await wait_for(slow_to_cancel(), 0.5), TimeoutError); };
  test::run_virtual(main_(), &elapsed);
  EXPECT_DOUBLE_EQ(elapsed, 1.5);
}

TEST(WaitFor, WorkThatSwallowsTheCancelReturnsItsValue) {
  // asyncio 3.12 (wait_for is `async with timeout(): return await fut`): when the work
  // swallows the cancellation and returns, the value comes back (3.11 raised TimeoutError).
  auto swallow = []() -> Coro<int> {
    try {
      co_await sleep(10);
    } catch (const CancelledError&) {
    }
    co_await sleep(1);
    co_return 7;
  };
  double elapsed = 0;
  auto main_ = [&]() -> Coro<int> { co_return co_await wait_for(swallow(), 0.5); };
  EXPECT_EQ(test::run_virtual(main_(), &elapsed), 7);
  EXPECT_DOUBLE_EQ(elapsed, 1.5);
}

TEST(WaitFor, ATaskIsCancelledOnTimeout) {
  auto main_ = []() -> Coro<> {
    Task<int> t = create_task(value_after(10, 1));
    EXPECT_THROW(co_await wait_for(t, 1), TimeoutError);
    EXPECT_TRUE(t.cancelled());
  };
  test::run_virtual(main_());
}

TEST(WaitFor, ZeroAndNegativeTimeouts) {
  auto main_ = []() -> Coro<> {
    Task<int> done = create_task(value_after(0, 3));
    co_await sleep(0.1);
    EXPECT_EQ(co_await wait_for(done, 0), 3);  // already done: its result
    Task<int> t = create_task(value_after(10, 1));
    EXPECT_THROW(co_await wait_for(t, -1), TimeoutError);
    EXPECT_TRUE(t.cancelled());
    EXPECT_THROW(co_await wait_for(value_after(1, 1), 0), TimeoutError);
    EXPECT_DOUBLE_EQ(get_running_loop().time(), 0.1);
  };
  test::run_virtual(main_());
}

TEST(WaitFor, NoTimeoutWaitsAsLongAsItTakes) {
  double elapsed = 0;
  auto main_ = []() -> Coro<int> { co_return co_await wait_for(value_after(100, 4), std::nullopt); };
  EXPECT_EQ(test::run_virtual(main_(), &elapsed), 4);
  EXPECT_DOUBLE_EQ(elapsed, 100.0);
}

TEST(WaitFor, CancellingTheCallerGivesCancelledErrorNotTimeoutError) {
  auto caller = []() -> Coro<> { co_await wait_for(value_after(10, 1), 5); };
  auto main_ = [&]() -> Coro<> {
    Task<> t = create_task(caller());
    co_await sleep(1);
    t.cancel();
    EXPECT_THROW(co_await t, CancelledError);
    EXPECT_TRUE(t.cancelled());
  };
  test::run_virtual(main_());
}

TEST(WaitFor, WorksWithPlainAwaitables) {
  auto main_ = []() -> Coro<> {
    EXPECT_THROW(co_await wait_for(sleep(10), 1.5), TimeoutError);
    EXPECT_DOUBLE_EQ(get_running_loop().time(), 1.5);
    EXPECT_EQ(co_await wait_for(sleep(1, 9), 2), 9);
  };
  test::run_virtual(main_());
}

TEST(AsCompleted, YieldsInCompletionOrder) {
  auto main_ = []() -> Coro<> {
    std::vector<Task<int>> tasks = start({3, 1, 2});
    std::vector<int> order;
    std::vector<double> times;
    for (auto next : as_completed(tasks)) {
      order.push_back(co_await std::move(next));
      times.push_back(get_running_loop().time());
    }
    EXPECT_EQ(order, (std::vector<int>{1, 2, 0}));
    EXPECT_EQ(times, (std::vector<double>{1, 2, 3}));
  };
  test::run_virtual(main_());
}

TEST(AsCompleted, AnExceptionIsRaisedAtItsTurn) {
  auto main_ = []() -> Coro<> {
    std::vector<Coro<int>> coros;
    coros.push_back(value_after(1, 1));
    coros.push_back(fail_after(2));
    coros.push_back(value_after(3, 3));
    std::vector<std::string> got;
    for (auto next : as_completed(std::move(coros))) {
      try {
        got.push_back(std::to_string(co_await std::move(next)));
      } catch (const std::runtime_error& e) {
        got.push_back(e.what());
      }
    }
    EXPECT_EQ(got, (std::vector<std::string>{"1", "failed", "3"}));
  };
  test::run_virtual(main_());
}

TEST(AsCompleted, TimeoutRaisesForTheRemainingOnes) {
  auto main_ = []() -> Coro<> {
    std::vector<Task<int>> tasks = start({1, 5, 6});
    std::vector<std::string> got;
    for (auto next : as_completed(tasks, 2)) {
      try {
        got.push_back(std::to_string(co_await std::move(next)));
      } catch (const TimeoutError&) {
        got.push_back("timeout at " + std::to_string(static_cast<int>(get_running_loop().time())));
      }
    }
    EXPECT_EQ(got, (std::vector<std::string>{"0", "timeout at 2", "timeout at 2"}));
    for (Task<int>& t : tasks) co_await t;  // as_completed cancels nothing
  };
  test::run_virtual(main_());
}

}  // namespace
}  // namespace aio
