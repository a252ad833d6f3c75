// gather(): input order, ranges, void results, first exception, return_exceptions,
// cancellation both ways.
#include <stdexcept>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include "support/aio_test.hpp"

namespace aio {
namespace {

using Log = std::vector<std::string>;

Coro<int> value_after(double s, int v, Log* log = nullptr) {
  co_await sleep(s);
  if (log) log->push_back("done " + std::to_string(v));
  co_return v;
}

Coro<> nothing_after(double s) { co_await sleep(s); }

Coro<int> fail_after(double s, const char* what) {
  co_await sleep(s);
  throw std::runtime_error(what);
}

TEST(Gather, VariadicResultsInInputOrderNotCompletionOrder) {
  double elapsed = 0;
  Log log;
  auto main_ = [&]() -> Coro<std::tuple<int, int, int>> {
    co_return co_await gather(value_after(3, 1, &log), value_after(1, 2, &log), value_after(2, 3, &log));
  };
  EXPECT_EQ(test::run_virtual(main_(), &elapsed), std::make_tuple(1, 2, 3));
  EXPECT_EQ(log, (Log{"done 2", "done 3", "done 1"}));
  EXPECT_DOUBLE_EQ(elapsed, 3.0);
}

TEST(Gather, RangeGivesAVector) {
  double elapsed = 0;
  auto main_ = []() -> Coro<std::vector<int>> {
    std::vector<Coro<int>> coros;
    for (int i = 0; i < 10; ++i) coros.push_back(value_after(1, i * i));
    co_return co_await gather(std::move(coros));
  };
  EXPECT_EQ(test::run_virtual(main_(), &elapsed), (std::vector<int>{0, 1, 4, 9, 16, 25, 36, 49, 64, 81}));
  EXPECT_DOUBLE_EQ(elapsed, 1.0);  // ten 1 s children together take 1 s
}

TEST(Gather, RangeOfTasksLeavesTheCallersHandles) {
  auto main_ = []() -> Coro<> {
    std::vector<Task<int>> tasks{create_task(value_after(1, 1)), create_task(value_after(1, 2))};
    std::vector<int> r = co_await gather(tasks);
    EXPECT_EQ(r, (std::vector<int>{1, 2}));
    EXPECT_TRUE(static_cast<bool>(tasks[0]));
    EXPECT_EQ(tasks[1].result(), 2);
  };
  test::run_virtual(main_());
}

TEST(Gather, VoidChildrenGiveNoneAndMixedKindsWork) {
  auto main_ = []() -> Coro<> {
    Task<int> t = create_task(value_after(1, 7));
    Future<std::string> f = get_running_loop().create_future<std::string>();
    get_running_loop().call_later(0.5, [f] { f.set_result("future"); });
    auto [none, task_value, future_value, plain] = co_await gather(nothing_after(1), t, f, sleep(0.2, 3.5));
    static_assert(std::is_same_v<decltype(none), None>);
    EXPECT_EQ(task_value, 7);
    EXPECT_EQ(future_value, "future");
    EXPECT_DOUBLE_EQ(plain, 3.5);
  };
  test::run_virtual(main_());
}

TEST(Gather, TheFirstExceptionIsRaisedWhileTheOthersKeepRunning) {
  Log log;
  double raised_at = -1;
  auto main_ = [&]() -> Coro<> {
    Future<std::tuple<int, int, int>> g = gather(value_after(2, 1, &log), fail_after(1, "first"), fail_after(1.5, "second"));
    try {
      co_await g;
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "first");
      raised_at = get_running_loop().time();
    }
    EXPECT_TRUE(log.empty());  // the 2 s child has not finished yet...
    co_await sleep(2);
    EXPECT_EQ(log, (Log{"done 1"}));  // ...and was not cancelled
  };
  test::StderrCapture capture;  // the second failure is retrieved by gather, nothing is reported
  test::run_virtual(main_());
  EXPECT_DOUBLE_EQ(raised_at, 1.0);
  EXPECT_EQ(capture.take(), "");
}

TEST(Gather, ReturnExceptionsGivesValuesAndExceptions) {
  auto main_ = []() -> Coro<> {
    Task<int> cancelled = create_task(value_after(5, 0));
    get_running_loop().call_later(1, [cancelled] { cancelled.cancel("gone"); });
    auto [ok, failed, was_cancelled] =
        co_await gather(return_exceptions, value_after(2, 5), fail_after(1, "bad"), cancelled);
    CO_ASSERT_TRUE(ok.index() == 0u);
    EXPECT_EQ(std::get<0>(ok), 5);
    CO_ASSERT_TRUE(failed.index() == 1u);
    EXPECT_EQ(exception_str(std::get<1>(failed)), "std::runtime_error: bad");
    CO_ASSERT_TRUE(was_cancelled.index() == 1u);
    EXPECT_TRUE(is_cancelled_error(std::get<1>(was_cancelled)));
    EXPECT_EQ(exception_str(std::get<1>(was_cancelled)), "aio::CancelledError: gone");
  };
  test::run_virtual(main_());
}

TEST(Gather, ReturnExceptionsOverARange) {
  auto main_ = []() -> Coro<> {
    std::vector<Coro<int>> coros;
    coros.push_back(value_after(1, 1));
    coros.push_back(fail_after(1, "x"));
    std::vector<Outcome<int>> r = co_await gather(return_exceptions, std::move(coros));
    CO_ASSERT_TRUE(r.size() == 2u);
    EXPECT_EQ(std::get<0>(r[0]), 1);
    EXPECT_EQ(exception_str(std::get<1>(r[1])), "std::runtime_error: x");
  };
  test::run_virtual(main_());
}

TEST(Gather, CancellingTheAwaitingTaskCancelsTheChildren) {
  Log log;
  auto child = [&](int i) -> Coro<> {
    try {
      co_await sleep(10);
    } catch (const CancelledError&) {
      log.push_back("child " + std::to_string(i) + " cancelled");
      throw;
    }
  };
  auto waiter = [&]() -> Coro<> { co_await gather(child(1), child(2)); };
  auto main_ = [&]() -> Coro<> {
    Task<> t = create_task(waiter());
    co_await sleep(1);
    t.cancel();
    EXPECT_THROW(co_await t, CancelledError);
    EXPECT_TRUE(t.cancelled());
  };
  test::run_virtual(main_());
  EXPECT_EQ(log, (Log{"child 1 cancelled", "child 2 cancelled"}));
}

TEST(Gather, CancellingTheGatherFutureCancelsTheChildren) {
  auto main_ = []() -> Coro<> {
    Task<int> a = create_task(value_after(10, 1));
    Task<int> b = create_task(value_after(10, 2));
    auto g = gather(a, b);
    co_await sleep(1);
    EXPECT_TRUE(g.cancel());
    EXPECT_THROW(co_await g, CancelledError);
    EXPECT_TRUE(a.cancelled());
    EXPECT_TRUE(b.cancelled());
    EXPECT_FALSE(g.cancel());  // done now
  };
  test::run_virtual(main_());
}

TEST(Gather, ACancelledChildMakesGatherRaiseCancelledError) {
  auto main_ = []() -> Coro<> {
    Task<int> a = create_task(value_after(10, 1));
    Task<int> b = create_task(value_after(2, 2));
    get_running_loop().call_later(1, [a] { a.cancel("child"); });
    try {
      co_await gather(a, b);
      ADD_FAILURE() << "gather must raise";
    } catch (const CancelledError& e) {
      EXPECT_EQ(e.message(), "child");
    }
    EXPECT_FALSE(b.done());  // the other child keeps running
    EXPECT_EQ(co_await b, 2);
  };
  test::run_virtual(main_());
}

TEST(Gather, ACancelledGatherRaisesCancelledErrorEvenWithReturnExceptions) {
  auto main_ = []() -> Coro<> {
    auto g = gather(return_exceptions, value_after(10, 1), value_after(10, 2));
    co_await sleep(1);
    g.cancel();
    EXPECT_THROW(co_await g, CancelledError);
  };
  test::run_virtual(main_());
}

TEST(Gather, EmptyGathers) {
  auto main_ = []() -> Coro<> {
    std::tuple<> nothing = co_await gather();
    (void)nothing;
    std::vector<int> none = co_await gather(std::vector<Coro<int>>{});
    EXPECT_TRUE(none.empty());
  };
  test::run_virtual(main_());
}

}  // namespace
}  // namespace aio
