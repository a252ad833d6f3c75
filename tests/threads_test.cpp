// Threads and executors: to_thread, run_in_executor, ThreadPoolExecutor under load,
// cancellation, call_soon_threadsafe, run_coroutine_threadsafe, one loop per thread.
// These tests also run under ThreadSanitizer (the tsan preset in scripts/test).
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <set>
#include <string>
#include <stdexcept>
#include <thread>
#include <vector>

#include "support/aio_test.hpp"

namespace aio {
namespace {

TEST(Threads, ToThreadRunsTheCallOnAnotherThreadAndReturnsItsResult) {
  auto main_ = []() -> Coro<> {
    const auto loop_thread = std::this_thread::get_id();
    std::thread::id worker;
    int r = co_await to_thread(
        [&worker](int a, int b) {
          worker = std::this_thread::get_id();
          return a + b;
        },
        2, 3);
    EXPECT_EQ(r, 5);
    EXPECT_NE(worker, loop_thread);
    co_await to_thread([] {});  // void works too
  };
  test::run_virtual(main_());
}

TEST(Threads, AnExceptionInTheCallComesBack) {
  auto main_ = []() -> Coro<> {
    auto fails = []() -> int { throw std::runtime_error("worker failed"); };
    try {
      (void)co_await to_thread(fails);
      ADD_FAILURE() << "no error";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "worker failed");
    }
  };
  test::run_virtual(main_());
}

TEST(Threads, AUserExecutorUnderLoad) {
  auto main_ = []() -> Coro<> {
    ThreadPoolExecutor pool(4);
    EventLoop& loop = get_running_loop();
    std::vector<Future<long>> calls;
    calls.reserve(10000);
    for (long i = 0; i < 10000; ++i) calls.push_back(loop.run_in_executor(&pool, [](long v) { return v * 2; }, i));
    std::vector<long> results = co_await gather(calls);
    long sum = 0;
    for (long v : results) sum += v;
    EXPECT_EQ(sum, 2L * (9999L * 10000L / 2));
    EXPECT_EQ(results[1234], 2468);
    EXPECT_LE(pool.thread_count(), 4u);
    EXPECT_GE(pool.thread_count(), 1u);
    pool.shutdown();
    EXPECT_THROW((void)loop.run_in_executor(&pool, [] {}), RuntimeError);
  };
  test::run_virtual(main_());
}

TEST(Threads, CancellingAnAwaitedToThreadStopsWaitingButTheCallFinishes) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> finished{false};
  std::promise<void> start;
  std::shared_future<void> started = start.get_future().share();
  auto main_ = [&]() -> Coro<> {
    auto blocking = [&] {
      start.set_value();
      released.wait();
      finished = true;
    };
    Task<> t = create_task(to_thread(blocking));
    co_await to_thread([&] { started.wait(); });  // it runs (a call not started would never start)
    t.cancel();
    EXPECT_THROW(co_await t, CancelledError);
    EXPECT_FALSE(finished.load());
    release.set_value();
  };
  test::run_virtual(main_());  // run() shuts the default executor down: waits for the call
  EXPECT_TRUE(finished.load());
}

TEST(Threads, ACallCancelledBeforeItStartsNeverStarts) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> ran{0};
  auto main_ = [&]() -> Coro<> {
    ThreadPoolExecutor pool(1);
    EventLoop& loop = get_running_loop();
    Future<void> first = loop.run_in_executor(&pool, [&] {
      released.wait();
      ++ran;
    });
    Future<void> second = loop.run_in_executor(&pool, [&] { ran += 10; });
    EXPECT_TRUE(second.cancel());
    release.set_value();
    co_await first;
    pool.shutdown(true);
    EXPECT_EQ(ran.load(), 1);
    EXPECT_TRUE(second.cancelled());
  };
  test::run_virtual(main_());
}

TEST(Threads, ShutdownWithCancelFuturesCancelsTheQueuedCalls) {
  std::promise<void> release, running;
  std::shared_future<void> released = release.get_future().share();
  std::future<void> first_running = running.get_future();
  auto main_ = [&]() -> Coro<> {
    ThreadPoolExecutor pool(1);
    EventLoop& loop = get_running_loop();
    Future<int> first = loop.run_in_executor(&pool, [&] {
      running.set_value();
      released.wait();
      return 1;
    });
    Future<int> queued = loop.run_in_executor(&pool, [] { return 2; });
    // Shut down once the first call runs (a call not yet started is cancelled too).
    std::thread stopper([&] {
      first_running.wait();
      pool.shutdown(false, true);
    });
    stopper.join();
    release.set_value();
    EXPECT_EQ(co_await first, 1);
    EXPECT_THROW(co_await queued, CancelledError);
  };
  test::run_virtual(main_());
}

TEST(Threads, AThreadResolvesAFutureThroughCallSoonThreadsafe) {
  auto main_ = []() -> Coro<> {
    EventLoop& loop = get_running_loop();
    Future<int> fut = loop.create_future<int>();
    std::thread worker([&loop, fut] { loop.call_soon_threadsafe([fut] { fut.set_result(42); }); });
    EXPECT_EQ(co_await fut, 42);
    worker.join();
  };
  test::run_virtual(main_());
}

TEST(Threads, RunCoroutineThreadsafeReturnsAStdFuture) {
  auto main_ = []() -> Coro<> {
    EventLoop& loop = get_running_loop();
    auto work = [](int x) -> Coro<int> {
      co_await sleep(1);
      co_return x * 3;
    };
    auto fails = []() -> Coro<int> {
      co_await sleep(0);
      throw ValueError("coroutine failed");
    };
    std::atomic<int> got{0};
    std::atomic<bool> failed{false};
    auto from_thread = [&] {
      got = run_coroutine_threadsafe(work(7), loop).get();
      try {
        (void)run_coroutine_threadsafe(fails(), loop).get();
      } catch (const ValueError&) {
        failed = true;
      }
    };
    co_await to_thread(from_thread);
    EXPECT_EQ(got.load(), 21);
    EXPECT_TRUE(failed.load());
  };
  test::run_virtual(main_());
}

TEST(Threads, OneLoopPerThread) {
  // Each thread runs its own loop with aio::run; they run at the same time.
  std::atomic<int> arrived{0};
  auto per_thread = [&](int id) {
    auto main_ = [&arrived, id]() -> Coro<int> {
      ++arrived;
      while (arrived.load() < 3) co_await to_thread([] { std::this_thread::yield(); });
      co_await sleep(1);
      co_return id * 10;
    };
    return test::run_virtual(main_());
  };
  std::vector<std::future<int>> results;
  for (int i = 1; i <= 3; ++i) results.push_back(std::async(std::launch::async, per_thread, i));
  std::set<int> got;
  for (auto& r : results) got.insert(r.get());
  EXPECT_EQ(got, (std::set<int>{10, 20, 30}));
}

TEST(Threads, TheDefaultExecutorIsSizedAsPythonsAndShutDownByRun) {
  auto main_ = []() -> Coro<> {
    EventLoop& loop = get_running_loop();
    auto& pool = dynamic_cast<ThreadPoolExecutor&>(loop.default_executor());
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    EXPECT_EQ(pool.max_workers(), std::min<std::size_t>(32, cores + 4));
    co_await loop.shutdown_default_executor();
    EXPECT_THROW(loop.default_executor(), RuntimeError);
  };
  test::run_virtual(main_());
}

TEST(Threads, TheVirtualClockWaitsForCallsInFlight) {
  // A timer 10 s away must not fire before a call on a thread has finished: the
  // virtual clock only jumps when the loop has nothing real to wait for.
  auto main_ = []() -> Coro<> {
    EventLoop& loop = get_running_loop();
    auto timer = []() -> Coro<> { co_await sleep(10); };
    Task<> t = create_task(timer());
    double seen = -1;
    co_await to_thread([&] {
      // Give the loop every chance to (wrongly) jump ahead while we work.
      for (int i = 0; i < 2000 && seen <= 0; ++i) {
        std::this_thread::yield();
        if (loop.time() > 0) seen = loop.time();
      }
      if (seen < 0) seen = loop.time();
    });
    EXPECT_DOUBLE_EQ(seen, 0.0);
    EXPECT_DOUBLE_EQ(loop.time(), 0.0);
    co_await t;
    EXPECT_DOUBLE_EQ(loop.time(), 10.0);
  };
  test::run_virtual(main_());
}

// On the virtual process clock (AIO_CLOCK=virtual) blocking sleeps on other threads
// share time with the loop: time moves when every thread is idle. A process clock is
// chosen once per process, so this runs in a child process of its own.
void blocking_sleeps_share_virtual_time() {
  ::setenv("AIO_CLOCK", "virtual", 1);
  if (!process_clock()->is_virtual()) {
    std::fprintf(stderr, "the process clock was already made\n");
    std::exit(1);
  }
  std::vector<std::string> events;  // loop thread only
  auto main_ = [&events]() -> Coro<> {
    EventLoop& loop = get_running_loop();
    auto stamp = [&](const std::string& what) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%s@%.1f", what.c_str(), loop.time());
      events.push_back(buf);
    };
    auto ticker = [&]() -> Coro<> {
      for (int i = 1; i <= 3; ++i) {
        co_await sleep(1);
        stamp("tick" + std::to_string(i));
      }
    };
    // A raw thread of the user's, resolving a future from the loop's side.
    Future<void> raw_done = loop.create_future();
    std::thread raw([&loop, &stamp, raw_done]() mutable {
      time::sleep(2.5);
      loop.call_soon_threadsafe([&stamp, f = std::move(raw_done)]() mutable {
        stamp("raw");
        f.set_result();
      });
    });
    auto sleeper = [](double s) { time::sleep(s); return s; };
    Task<> ticks = create_task(ticker());
    auto a = to_thread(sleeper, 5.0);
    auto b = to_thread(sleeper, 5.0);
    auto c = to_thread(sleeper, 4.0);
    auto [ra, rb, rc] = co_await gather(std::move(a), std::move(b), std::move(c));
    stamp("sleepers" + std::to_string(static_cast<int>(ra + rb + rc)));
    co_await raw_done;
    co_await ticks;
    raw.join();
  };
  run(main_());
  std::string all;
  for (const std::string& e : events) all += e + " ";
  std::fprintf(stderr, "%s\n", all.c_str());
  std::exit(0);
}

TEST(Threads, BlockingSleepsOnThreadsShareTheVirtualProcessClock) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  // Three calls sleep 5, 5 and 4 s side by side and a raw thread 2.5 s while the loop
  // ticks each second: everything in the order real time would give, in 5 s.
  EXPECT_EXIT(blocking_sleeps_share_virtual_time(), testing::ExitedWithCode(0),
              "^tick1@1\\.0 tick2@2\\.0 raw@2\\.5 tick3@3\\.0 sleepers14@5\\.0 \n$");
}

}  // namespace
}  // namespace aio
