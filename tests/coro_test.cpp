// Coro<T>: laziness, inline awaiting with symmetric transfer, results and exceptions,
// the never-awaited report, move-only results.
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/aio_test.hpp"

namespace aio {
namespace {

Coro<int> answer(std::vector<std::string>* log) {
  log->push_back("answer runs");
  co_return 42;
}

TEST(Coro, IsLazyUntilAwaited) {
  std::vector<std::string> log;
  auto outer = [&]() -> Coro<int> {
    Coro<int> c = answer(&log);
    log.push_back("created");
    const int v = co_await c;
    log.push_back("awaited");
    co_return v;
  };
  EXPECT_EQ(test::run_virtual(outer()), 42);
  EXPECT_EQ(log, (std::vector<std::string>{"created", "answer runs", "awaited"}));
}

TEST(Coro, CallingTheFunctionRunsNothing) {
  std::vector<std::string> log;
  {
    Coro<int> c = answer(&log);
    EXPECT_TRUE(static_cast<bool>(c));
    EXPECT_FALSE(c.done());
    test::StderrCapture capture;  // the never-awaited report is checked elsewhere
    c = Coro<int>();
  }
  EXPECT_TRUE(log.empty());
}

Coro<int> thrower() {
  co_await sleep(0);
  throw std::runtime_error("bad");
}

TEST(Coro, AwaitRethrowsTheException) {
  auto outer = []() -> Coro<std::string> {
    try {
      co_await thrower();
    } catch (const std::runtime_error& e) {
      co_return e.what();
    }
    co_return "no exception";
  };
  EXPECT_EQ(test::run_virtual(outer()), "bad");
}

Coro<long> depth(long n) {
  if (n == 0) co_return 0;
  co_return co_await depth(n - 1) + 1;
}

TEST(Coro, AMillionNestedAwaitsDoNotGrowTheStack) {
  // Each level is a frame on the heap; control passes by symmetric transfer, so the
  // native stack stays flat (this would overflow 8 MiB of stack otherwise).
  EXPECT_EQ(test::run_virtual(depth(1000000)), 1000000);
}

TEST(Coro, AMillionSequentialAwaits) {
  auto outer = []() -> Coro<long> {
    long sum = 0;
    for (long i = 0; i < 1000000; ++i) sum += co_await depth(0) + 1;
    co_return sum;
  };
  EXPECT_EQ(test::run_virtual(outer()), 1000000);
}

TEST(Coro, AwaitingTwiceThrowsRuntimeError) {
  std::vector<std::string> log;
  auto outer = [&]() -> Coro<std::string> {
    Coro<int> c = answer(&log);
    co_await c;
    try {
      co_await c;
    } catch (const RuntimeError& e) {
      co_return e.what();
    }
    co_return "no error";
  };
  EXPECT_EQ(test::run_virtual(outer()), "cannot reuse already awaited coroutine");
}

Coro<> never_run() { co_return; }

TEST(Coro, NeverAwaitedIsReportedWithItsLocation) {
  test::StderrCapture capture;
  { Coro<> c = never_run(); }
  const std::string err = capture.take();
  EXPECT_NE(err.find("coro_test.cpp:"), std::string::npos) << err;
  EXPECT_NE(err.find(": RuntimeWarning: coroutine 'never_run' was never awaited"), std::string::npos) << err;
}

TEST(Coro, AwaitedOrTaskedIsNotReported) {
  test::StderrCapture capture;
  auto outer = []() -> Coro<> {
    co_await never_run();
    Task<> t = create_task(never_run());
    co_await t;
  };
  test::run_virtual(outer());
  EXPECT_EQ(capture.take(), "");
}

Coro<std::unique_ptr<int>> make_unique_int(int v) {
  co_await sleep(0);
  co_return std::make_unique<int>(v);
}

TEST(Coro, MoveOnlyResults) {
  auto outer = []() -> Coro<int> {
    std::unique_ptr<int> a = co_await make_unique_int(3);
    std::unique_ptr<int> b = co_await create_task(make_unique_int(4));
    co_return *a + *b;
  };
  EXPECT_EQ(test::run_virtual(outer()), 7);
}

TEST(Coro, IsCoroutineTrait) {
  static_assert(iscoroutine<Coro<int>>);
  static_assert(iscoroutine<Coro<>&>);
  static_assert(!iscoroutine<Task<int>>);
  static_assert(!iscoroutine<int>);
  SUCCEED();
}

TEST(Coro, ReprNamesTheCoroutineFunction) {
  test::StderrCapture capture;  // c is never awaited
  Coro<> c = never_run();
  EXPECT_EQ(c.repr().rfind("<coroutine object never_run at 0x", 0), 0u) << c.repr();
}

TEST(Coro, AioAwaitablesNeedATask) {
  // aio's awaitables need a task: run directly (no task), sleep() refuses.
  EventLoop loop;
  bool threw = false;
  loop.call_soon([&] {
    try {
      detail::current_task_checked("sleep()");
    } catch (const RuntimeError&) {
      threw = true;
    }
    loop.stop();
  });
  loop.run_forever();
  EXPECT_TRUE(threw);
}

}  // namespace
}  // namespace aio
