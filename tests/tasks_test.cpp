// Task<T>: scheduling order, names, current_task/all_tasks, cancellation exactly as
// asyncio 3.12, reports, repr, sleep, ensure_future. Expected values marked "CPython"
// were checked against the same program under CPython 3.11.
#include <stdexcept>
#include <string>
#include <vector>

#include "support/aio_test.hpp"

namespace aio {
namespace {

using Log = std::vector<std::string>;

Coro<> append(Log* log, std::string s) {
  log->push_back(std::move(s));
  co_return;
}

TEST(Task, CreateTaskSchedulesTheFirstStepAfterTheCreatorSuspends) {
  Log log;
  auto main_ = [&]() -> Coro<> {
    Task<> t = create_task(append(&log, "child"));
    log.push_back("after create");
    EXPECT_FALSE(t.done());
    co_await sleep(0);
    log.push_back("after sleep0");
    EXPECT_TRUE(t.done());
  };
  test::run_virtual(main_());
  EXPECT_EQ(log, (Log{"after create", "child", "after sleep0"}));
}

Coro<> ticker(Log* log, std::string name, int n) {
  for (int i = 0; i < n; ++i) {
    log->push_back(name + std::to_string(i));
    co_await sleep(0);
  }
}

TEST(Task, SleepZeroYieldsExactlyOnce) {
  Log log;
  auto main_ = [&]() -> Coro<> {
    Task<> a = create_task(ticker(&log, "A", 3));
    Task<> b = create_task(ticker(&log, "B", 3));
    co_await a;
    co_await b;
  };
  test::run_virtual(main_());
  EXPECT_EQ(log, (Log{"A0", "B0", "A1", "B1", "A2", "B2"}));
}

Coro<> sleep_for(double s) { co_await sleep(s); }

TEST(Task, TwoThreeSecondSleepsAsTasksTakeThreeSeconds) {
  double elapsed = 0;
  auto main_ = []() -> Coro<> {
    Task<> a = create_task(sleep_for(3));
    Task<> b = create_task(sleep_for(3));
    co_await a;
    co_await b;
  };
  test::run_virtual(main_(), &elapsed);
  EXPECT_DOUBLE_EQ(elapsed, 3.0);
}

TEST(Task, TwoThreeSecondSleepsAwaitedInTurnTakeSixSeconds) {
  double elapsed = 0;
  auto main_ = []() -> Coro<> {
    co_await sleep_for(3);
    co_await sleep_for(3);
  };
  test::run_virtual(main_(), &elapsed);
  EXPECT_DOUBLE_EQ(elapsed, 6.0);
}

TEST(Task, SleepAcceptsDurationsAndNumbersAndReturnsAResult) {
  using namespace std::chrono_literals;
  double elapsed = 0;
  auto main_ = []() -> Coro<std::string> {
    co_await sleep(500ms);
    co_await sleep(0.25);
    co_await sleep(1);
    co_await sleep(-5);  // negative: now
    co_return co_await sleep(0.25, std::string("done"));
  };
  EXPECT_EQ(test::run_virtual(main_(), &elapsed), "done");
  EXPECT_DOUBLE_EQ(elapsed, 2.0);
}

TEST(Task, NamesAreTaskNInCreationOrder) {
  auto main_ = []() -> Coro<> {
    const std::string mine = current_task().get_name();
    EXPECT_EQ(mine.rfind("Task-", 0), 0u);
    const long n = std::stol(mine.substr(5));
    Task<> a = create_task(sleep_for(0));
    Task<> b = create_task(sleep_for(0), "custom");
    Task<> c = create_task(sleep_for(0));
    EXPECT_EQ(a.get_name(), "Task-" + std::to_string(n + 1));
    EXPECT_EQ(b.get_name(), "custom");
    EXPECT_EQ(c.get_name(), "Task-" + std::to_string(n + 3));
    c.set_name("renamed");
    EXPECT_EQ(c.get_name(), "renamed");
    co_await a;
    co_await b;
    co_await c;
  };
  test::run_virtual(main_());
}

TEST(Task, CurrentTaskInsideAndOutside) {
  EXPECT_FALSE(static_cast<bool>(current_task()));
  auto child = []() -> Coro<std::string> { co_return current_task().get_name(); };
  auto main_ = [&]() -> Coro<> {
    Task<> me = current_task();
    EXPECT_TRUE(static_cast<bool>(me));
    EXPECT_FALSE(me.done());
    Task<std::string> t = create_task(child());
    EXPECT_EQ(co_await t, t.get_name());
    EXPECT_EQ(co_await child(), me.get_name());  // an awaited coroutine runs in our task
  };
  test::run_virtual(main_());
}

TEST(Task, AllTasksListsThePendingOnes) {
  auto main_ = []() -> Coro<> {
    std::vector<Task<>> started;
    for (int i = 0; i < 3; ++i) started.push_back(create_task(sleep_for(1)));
    co_await sleep(0.1);
    std::vector<Task<>> all = all_tasks();
    EXPECT_EQ(all.size(), 4u);  // the three and main
    EXPECT_TRUE(all.front() == current_task());
    for (Task<>& t : started) co_await t;
    EXPECT_EQ(all_tasks().size(), 1u);
  };
  test::run_virtual(main_());
}

TEST(Task, CancelDeliversCancelledErrorWithTheMessageAtTheSuspensionPoint) {
  Log log;
  auto victim = [&]() -> Coro<> {
    log.push_back("start");
    try {
      co_await sleep(10);
    } catch (const CancelledError& e) {
      log.push_back("cancelled: " + e.message());
      throw;
    }
    log.push_back("not reached");
  };
  double elapsed = 0;
  auto main_ = [&]() -> Coro<> {
    Task<> t = create_task(victim());
    co_await sleep(1);
    EXPECT_TRUE(t.cancel("stop"));
    try {
      co_await t;
      ADD_FAILURE() << "awaiting a cancelled task must throw";
    } catch (const CancelledError& e) {
      EXPECT_EQ(e.message(), "stop");
    }
    EXPECT_TRUE(t.cancelled());
    EXPECT_THROW(t.result(), CancelledError);
    EXPECT_FALSE(t.cancel());  // done
  };
  test::run_virtual(main_(), &elapsed);
  EXPECT_EQ(log, (Log{"start", "cancelled: stop"}));
  EXPECT_DOUBLE_EQ(elapsed, 1.0);
}

TEST(Task, ACoroutineMayCatchTheCancelAndGoOn) {
  auto stubborn = []() -> Coro<int> {
    try {
      co_await sleep(10);
    } catch (const CancelledError&) {
    }
    co_await sleep(1);
    co_return 5;
  };
  double elapsed = 0;
  auto main_ = [&]() -> Coro<> {
    Task<int> t = create_task(stubborn());
    co_await sleep(1);
    t.cancel();
    EXPECT_EQ(co_await t, 5);
    EXPECT_FALSE(t.cancelled());
    EXPECT_EQ(t.cancelling(), 1u);
  };
  test::run_virtual(main_(), &elapsed);
  EXPECT_DOUBLE_EQ(elapsed, 2.0);
}

TEST(Task, CancelledBeforeItsFirstStepNeverRunsItsBody) {
  Log log;
  auto main_ = [&]() -> Coro<> {
    Task<> t = create_task(append(&log, "ran"));
    EXPECT_TRUE(t.cancel("x"));
    EXPECT_TRUE(t.cancel("y"));  // CPython: True True, and the later message wins
    EXPECT_EQ(t.cancelling(), 2u);
    try {
      co_await t;
    } catch (const CancelledError& e) {
      EXPECT_EQ(e.message(), "y");
    }
    EXPECT_TRUE(t.cancelled());
  };
  test::StderrCapture capture;
  test::run_virtual(main_());
  EXPECT_TRUE(log.empty());
  EXPECT_EQ(capture.take(), "");  // not a "never awaited" coroutine
}

Coro<std::string> swallow_cancel() {
  try {
    co_await sleep(10);
  } catch (const CancelledError&) {
    co_return "swallowed";
  }
  co_return "slept";
}

Coro<std::string> await_task(Task<std::string> t) { co_return co_await t; }

TEST(Task, CancellingATaskThatAwaitsATaskCancelsTheInnerOne) {
  auto inner_sleeps = []() -> Coro<std::string> {
    co_await sleep(10);
    co_return "slept";
  };
  auto main_ = [&]() -> Coro<> {
    Task<std::string> inner = create_task(inner_sleeps());
    Task<std::string> outer = create_task(await_task(inner));
    co_await sleep(1);
    outer.cancel();
    EXPECT_THROW(co_await outer, CancelledError);
    EXPECT_TRUE(inner.cancelled());
    EXPECT_TRUE(outer.cancelled());
  };
  test::run_virtual(main_());
}

TEST(Task, WhenTheInnerTaskSwallowsTheCancelTheOuterGetsItsResult) {
  // CPython: o.cancel() -> True, cancelling 1; await o -> 'swallowed'; o and i not cancelled.
  auto main_ = []() -> Coro<> {
    Task<std::string> inner = create_task(swallow_cancel());
    Task<std::string> outer = create_task(await_task(inner));
    co_await sleep(1);
    EXPECT_TRUE(outer.cancel());
    EXPECT_EQ(outer.cancelling(), 1u);
    EXPECT_EQ(co_await outer, "swallowed");
    EXPECT_FALSE(outer.cancelled());
    EXPECT_FALSE(inner.cancelled());
  };
  test::run_virtual(main_());
}

TEST(Task, CancellingATaskThatAwaitsAFutureCancelsTheFuture) {
  auto main_ = []() -> Coro<> {
    Future<int> f = get_running_loop().create_future<int>();
    auto waiter = [](Future<int> g) -> Coro<int> { co_return co_await g; };
    Task<int> t = create_task(waiter(f));
    co_await sleep(0);
    t.cancel("bye");
    EXPECT_THROW(co_await t, CancelledError);
    EXPECT_TRUE(f.cancelled());
  };
  test::run_virtual(main_());
}

TEST(Task, RepeatedAndNestedCancellation) {
  // CPython: the first cancel interrupts the first sleep, the second the sleep in the
  // handler; the last message wins; cancelling() counts both.
  Log log;
  auto nested = [&]() -> Coro<> {
    bool cancelled = false;
    try {
      co_await sleep(10);
    } catch (const CancelledError& e) {
      log.push_back("first " + e.message());
      cancelled = true;
    }
    if (cancelled) {  // C++ cannot co_await inside a catch handler: the handler's body moves here
      try {
        co_await sleep(10);
      } catch (const CancelledError& e2) {
        log.push_back("second " + e2.message());
        throw;
      }
    }
  };
  auto main_ = [&]() -> Coro<> {
    Task<> n = create_task(nested());
    co_await sleep(0);
    n.cancel("a");
    co_await sleep(0);
    n.cancel("b");
    try {
      co_await n;
    } catch (const CancelledError& e) {
      EXPECT_EQ(e.message(), "b");
    }
    EXPECT_EQ(n.cancelling(), 2u);
  };
  test::run_virtual(main_());
  EXPECT_EQ(log, (Log{"first a", "second b"}));
}

TEST(Task, UncancelCountsDown) {
  // CPython: cancelling() 1, uncancel() 0, cancelling() 0, and the inner still got the
  // CancelledError (it returns 'swallowed').
  auto main_ = []() -> Coro<> {
    Task<std::string> u = create_task(swallow_cancel());
    co_await sleep(0);
    u.cancel();
    EXPECT_EQ(u.cancelling(), 1u);
    EXPECT_EQ(u.uncancel(), 0u);
    EXPECT_EQ(u.cancelling(), 0u);
    EXPECT_EQ(u.uncancel(), 0u);
    EXPECT_EQ(co_await u, "swallowed");
  };
  test::run_virtual(main_());
}

TEST(Task, ATaskThatCancelsItselfAndReturnsEndsCancelled) {
  // asyncio 3.12: the coroutine returned, but _must_cancel was set: the task is cancelled.
  auto selfcancel = []() -> Coro<int> {
    current_task().cancel();
    co_return 1;
  };
  auto main_ = [&]() -> Coro<> {
    Task<int> s = create_task(selfcancel());
    EXPECT_THROW(co_await s, CancelledError);
    EXPECT_TRUE(s.cancelled());
  };
  test::run_virtual(main_());
}

TEST(Task, ACancelRequestedWhileRunningHitsTheNextAwait) {
  Log log;
  auto worker = [&]() -> Coro<> {
    current_task().cancel("later");
    log.push_back("still running");
    try {
      co_await sleep(5);
    } catch (const CancelledError& e) {
      log.push_back("at the await: " + e.message());
      throw;
    }
  };
  double elapsed = 0;
  auto main_ = [&]() -> Coro<> {
    Task<> t = create_task(worker());
    EXPECT_THROW(co_await t, CancelledError);
  };
  test::run_virtual(main_(), &elapsed);
  EXPECT_EQ(log, (Log{"still running", "at the await: later"}));
  EXPECT_DOUBLE_EQ(elapsed, 0.0);
}

TEST(Task, ResultOfAPendingTaskIsInvalidState) {
  auto main_ = []() -> Coro<> {
    Task<> t = create_task(sleep_for(1));
    EXPECT_THROW(t.result(), InvalidStateError);
    EXPECT_THROW(t.exception(), InvalidStateError);
    co_await t;
    EXPECT_NO_THROW(t.result());
  };
  test::run_virtual(main_());
}

Coro<int> fail_after(double s) {
  co_await sleep(s);
  throw std::runtime_error("task failed");
}

TEST(Task, ExceptionPropagatesToTheAwaiterAndThroughResultAndException) {
  auto main_ = []() -> Coro<> {
    Task<int> t = create_task(fail_after(1));
    EXPECT_THROW(co_await t, std::runtime_error);
    EXPECT_THROW(t.result(), std::runtime_error);
    EXPECT_EQ(exception_str(t.exception()), "std::runtime_error: task failed");
    EXPECT_FALSE(t.cancelled());
  };
  test::run_virtual(main_());
}

TEST(Task, UnretrievedExceptionIsReportedWhenTheTaskDies) {
  test::VirtualLoop v;
  std::vector<ExceptionContext> reports;
  v.loop.set_exception_handler([&](EventLoop&, const ExceptionContext& ctx) { reports.push_back(ctx); });
  auto main_ = []() -> Coro<> {
    create_task(fail_after(1));  // nobody keeps or awaits it
    co_await sleep(2);
  };
  v.run(main_());
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].message, "Task exception was never retrieved");
  EXPECT_EQ(exception_str(reports[0].exception), "std::runtime_error: task failed");
  EXPECT_NE(reports[0].future.find("<Task finished name='Task-"), std::string::npos) << reports[0].future;
  EXPECT_NE(reports[0].future.find("exception=std::runtime_error('task failed')"), std::string::npos);
}

TEST(Task, RetrievedExceptionIsNotReported) {
  test::VirtualLoop v;
  int reports = 0;
  v.loop.set_exception_handler([&](EventLoop&, const ExceptionContext&) { ++reports; });
  auto main_ = []() -> Coro<> {
    Task<int> t = create_task(fail_after(1));
    try {
      co_await t;
    } catch (const std::runtime_error&) {
    }
  };
  v.run(main_());
  EXPECT_EQ(reports, 0);
}

TEST(Task, TheLoopKeepsAPendingTaskAliveWithoutHandles) {
  Log log;
  auto main_ = [&]() -> Coro<> {
    auto lonely = [](Log* l) -> Coro<> {
      co_await sleep(1);
      l->push_back("finished");
    };
    create_task(lonely(&log));  // the handle is dropped at once
    co_await sleep(2);
  };
  test::run_virtual(main_());
  EXPECT_EQ(log, (Log{"finished"}));
}

TEST(Task, ATaskCannotAwaitItself) {
  auto main_ = []() -> Coro<std::string> {
    Task<> me = current_task();
    try {
      co_await me;
    } catch (const RuntimeError& e) {
      co_return e.what();
    }
    co_return "no error";
  };
  EXPECT_EQ(test::run_virtual(main_()).rfind("Task cannot await on itself", 0), 0u);
}

TEST(Task, DoneCallbacksGetTheTask) {
  Log log;
  auto main_ = [&]() -> Coro<> {
    Task<int> t = create_task([]() -> Coro<int> { co_return 3; }());
    t.add_done_callback([&](Task<int>& done) { log.push_back("cb " + std::to_string(done.result())); });
    co_await t;
    log.push_back("awaited");
  };
  test::run_virtual(main_());
  // The callback was registered first, so it runs first (CPython: same order).
  EXPECT_EQ(log, (Log{"cb 3", "awaited"}));
}

TEST(Task, Repr) {
  auto main_ = []() -> Coro<> {
    Task<int> t = create_task([]() -> Coro<int> {
      co_await sleep(1);
      co_return 7;
    }());
    co_await sleep(0.5);
    const std::string pending = t.repr();
    EXPECT_EQ(pending.rfind("<Task pending name='Task-", 0), 0u) << pending;
    EXPECT_NE(pending.find(" coro=<operator()() running at "), std::string::npos) << pending;
    EXPECT_NE(pending.find("tasks_test.cpp:"), std::string::npos) << pending;
    EXPECT_NE(pending.find(" wait_for=<Future pending cb=[Task.task_wakeup()]>"), std::string::npos) << pending;
    co_await t;
    const std::string done = t.repr();
    EXPECT_NE(done.find("<Task finished name='Task-"), std::string::npos) << done;
    EXPECT_NE(done.find("() done, defined at "), std::string::npos) << done;
    EXPECT_NE(done.find(" result=7>"), std::string::npos) << done;
    Task<> c = create_task(sleep_for(1));
    c.cancel();
    EXPECT_NE(c.repr().find("<Task cancelling name='Task-"), std::string::npos) << c.repr();
    try {
      co_await c;
    } catch (const CancelledError&) {
    }
    EXPECT_NE(c.repr().find("<Task cancelled name='Task-"), std::string::npos) << c.repr();
  };
  test::run_virtual(main_());
}

TEST(Task, EnsureFuture) {
  auto main_ = []() -> Coro<> {
    Task<int> from_coro = ensure_future([]() -> Coro<int> { co_return 1; }());
    Task<int> same_task = ensure_future(from_coro);
    EXPECT_TRUE(same_task == from_coro);
    Future<int> f = get_running_loop().create_future<int>();
    Future<int> same_future = ensure_future(f);
    EXPECT_TRUE(same_future == f);
    f.set_result(2);
    EXPECT_EQ(co_await same_task + co_await same_future, 3);
  };
  test::run_virtual(main_());
}

TEST(Task, CreateTaskOfAPlainAwaitable) {
  double elapsed = 0;
  auto main_ = []() -> Coro<int> {
    Task<int> t = create_task(sleep(2, 11));
    co_return co_await t;
  };
  EXPECT_EQ(test::run_virtual(main_(), &elapsed), 11);
  EXPECT_DOUBLE_EQ(elapsed, 2.0);
}

TEST(Task, CreateTaskWithoutARunningLoopThrows) {
  test::StderrCapture capture;  // the coroutine given is never run
  EXPECT_THROW(create_task(sleep_for(1)), RuntimeError);
}

TEST(Task, GetCoroNamesTheCoroutine) {
  auto main_ = []() -> Coro<> {
    Task<> t = create_task(sleep_for(0));
    EXPECT_STREQ(t.get_coro().function, "sleep_for");
    EXPECT_EQ(t.get_coro().repr().rfind("<coroutine object sleep_for at 0x", 0), 0u);
    co_await t;
  };
  test::run_virtual(main_());
}

}  // namespace
}  // namespace aio
