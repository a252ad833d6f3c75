// AsyncGenerator: iteration, awaiting inside, errors, aclose(), the finalizer and
// shutdown_asyncgens() at the end of aio::run.
#include <optional>
#include <string>
#include <vector>

#include "support/aio_test.hpp"

namespace aio {
namespace {

using Log = std::vector<std::string>;

AsyncGenerator<int> ticker(int n, double delay) {
  for (int i = 0; i < n; ++i) {
    co_yield i;
    co_await sleep(delay);
  }
}

TEST(AsyncGenerator, YieldsValuesAndAwaitsBetweenThem) {
  auto main_ = []() -> Coro<> {
    std::vector<int> got;
    std::vector<double> at;
    auto gen = ticker(4, 1);
    while (auto i = co_await gen.next()) {
      got.push_back(*i);
      at.push_back(get_running_loop().time());
    }
    EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 3}));
    EXPECT_EQ(at, (std::vector<double>{0, 1, 2, 3}));
    EXPECT_DOUBLE_EQ(get_running_loop().time(), 4.0);
    EXPECT_TRUE(gen.done());
    EXPECT_FALSE(co_await gen.next());  // stays finished
  };
  test::run_virtual(main_());
}

TEST(AsyncGenerator, NothingRunsBeforeTheFirstNext) {
  auto main_ = []() -> Coro<> {
    Log log;
    // A coroutine lambda with captures must outlive its frame: name it.
    auto gen_fn = [&]() -> AsyncGenerator<std::string> {
      log.push_back("started");
      co_yield "a";
    };
    auto gen = gen_fn();
    co_await sleep(1);
    EXPECT_TRUE(log.empty());
    EXPECT_EQ(*co_await gen.next(), "a");
    EXPECT_EQ(log, (Log{"started"}));
    EXPECT_NE(gen.repr().find("<async_generator object"), std::string::npos) << gen.repr();
  };
  test::run_virtual(main_());
}

TEST(AsyncGenerator, AnextRaisesStopAsyncIterationAtTheEnd) {
  auto main_ = []() -> Coro<> {
    auto gen = ticker(1, 0);
    EXPECT_EQ(co_await anext(gen), 0);
    EXPECT_THROW(co_await anext(gen), StopAsyncIteration);
    EXPECT_EQ(co_await anext(gen, -1), -1);
  };
  test::run_virtual(main_());
}

TEST(AsyncGenerator, AnExceptionInTheBodyComesOutOfNextAndEndsIt) {
  auto main_ = []() -> Coro<> {
    auto gen = []() -> AsyncGenerator<int> {
      co_yield 1;
      co_await sleep(1);
      throw ValueError("bad value");
    }();
    EXPECT_EQ(*co_await gen.next(), 1);
    EXPECT_THROW(co_await gen.next(), ValueError);
    EXPECT_TRUE(gen.done());
    EXPECT_FALSE(co_await gen.next());
  };
  test::run_virtual(main_());
}

TEST(AsyncGenerator, CollectIsAnAsyncComprehension) {
  auto main_ = []() -> Coro<> {
    auto powers = []() -> AsyncGenerator<int> {
      for (int i = 0; i < 10; ++i) {
        co_yield 1 << i;
        co_await sleep(0);
      }
    };
    std::vector<int> all = co_await collect(powers());
    EXPECT_EQ(all, (std::vector<int>{1, 2, 4, 8, 16, 32, 64, 128, 256, 512}));
    auto gen = powers();
    std::vector<int> some = co_await collect(gen, [](int v) { return v % 3 == 1; });
    EXPECT_EQ(some, (std::vector<int>{1, 4, 16, 64, 256}));
  };
  test::run_virtual(main_());
}

TEST(AsyncGenerator, AcloseRunsTheCleanupAtTheYield) {
  auto main_ = []() -> Coro<> {
    Log log;
    // A coroutine lambda with captures must outlive its frame: name it.
    auto gen_fn = [&]() -> AsyncGenerator<int> {
      bool closing = false;
      try {
        co_yield 1;
        co_yield 2;
      } catch (const GeneratorExit&) {
        closing = true;
      }
      if (closing) {
        co_await sleep(1);  // cleanup may await
        log.push_back("cleaned up");
      }
    };
    auto gen = gen_fn();
    EXPECT_EQ(*co_await gen.next(), 1);
    co_await gen.aclose();
    EXPECT_EQ(log, (Log{"cleaned up"}));
    EXPECT_TRUE(gen.done());
    EXPECT_DOUBLE_EQ(get_running_loop().time(), 1.0);
    co_await gen.aclose();  // again: nothing
    EXPECT_FALSE(co_await gen.next());
  };
  test::run_virtual(main_());
}

TEST(AsyncGenerator, AcloseBeforeTheStartMeansItNeverRuns) {
  auto main_ = []() -> Coro<> {
    bool ran = false;
    // A coroutine lambda with captures must outlive its frame: name it.
    auto gen_fn = [&]() -> AsyncGenerator<int> {
      ran = true;
      co_yield 1;
    };
    auto gen = gen_fn();
    co_await gen.aclose();
    EXPECT_FALSE(co_await gen.next());
    EXPECT_FALSE(ran);
  };
  test::run_virtual(main_());
}

TEST(AsyncGenerator, YieldingAfterGeneratorExitIsARuntimeError) {
  auto main_ = []() -> Coro<> {
    auto gen = []() -> AsyncGenerator<int> {
      for (;;) {
        try {
          co_yield 1;
        } catch (const GeneratorExit&) {
        }
      }
    }();
    (void)co_await gen.next();
    try {
      co_await gen.aclose();
      ADD_FAILURE() << "no error";
    } catch (const RuntimeError& e) {
      EXPECT_STREQ(e.what(), "async generator ignored GeneratorExit");
    }
  };
  test::run_virtual(main_());
}

TEST(AsyncGenerator, CancellingTheConsumerCancelsTheAwaitInsideTheGenerator) {
  auto main_ = []() -> Coro<> {
    Log log;
    auto gen_fn = [&]() -> AsyncGenerator<int> {
      try {
        co_await sleep(10);
        co_yield 1;
      } catch (const CancelledError&) {
        log.push_back("generator saw the cancel");
        throw;
      }
    };
    auto consumer = [&]() -> Coro<> {
      auto gen = gen_fn();
      (void)co_await gen.next();
    };
    Task<> t = create_task(consumer());
    co_await sleep(1);
    t.cancel();
    EXPECT_THROW(co_await t, CancelledError);
    EXPECT_EQ(log, (Log{"generator saw the cancel"}));
  };
  test::run_virtual(main_());
}

TEST(AsyncGenerator, ADroppedGeneratorIsClosedOnTheLoop) {
  auto main_ = []() -> Coro<> {
    Log log;
    {
      // A coroutine lambda with captures must outlive its frame: name it.
      auto gen_fn = [&]() -> AsyncGenerator<int> {
        try {
          co_yield 1;
        } catch (const GeneratorExit&) {
          log.push_back("closed");
        }
      };
      auto gen = gen_fn();
      (void)co_await gen.next();
    }  // dropped while suspended at its yield
    EXPECT_TRUE(log.empty());
    co_await sleep(0);
    EXPECT_EQ(log, (Log{"closed"}));
  };
  test::run_virtual(main_());
}

// A generator kept alive past main (here by a static) is closed by aio::run.
Log g_shutdown_log;
std::optional<AsyncGenerator<int>> g_kept;

TEST(AsyncGenerator, RunClosesGeneratorsStillSuspendedWhenMainEnds) {
  auto main_ = []() -> Coro<> {
    g_kept.emplace([]() -> AsyncGenerator<int> {
      try {
        co_yield 1;
        co_yield 2;
      } catch (const GeneratorExit&) {
        g_shutdown_log.push_back("closed at shutdown");
      }
    }());
    EXPECT_EQ(*co_await g_kept->next(), 1);
  };
  test::run_virtual(main_());
  EXPECT_EQ(g_shutdown_log, (Log{"closed at shutdown"}));
  EXPECT_TRUE(g_kept->done());
  g_kept.reset();
}

TEST(AsyncGenerator, AnErrorWhileClosingAtShutdownGoesToTheExceptionHandler) {
  test::StderrCapture capture;
  static std::optional<AsyncGenerator<int>> kept;
  auto main_ = []() -> Coro<> {
    kept.emplace([]() -> AsyncGenerator<int> {
      try {
        co_yield 1;
      } catch (const GeneratorExit&) {
      }
      throw ValueError("cleanup failed");
    }());
    (void)co_await kept->next();
  };
  test::run_virtual(main_());
  kept.reset();
  const std::string err = capture.take();
  EXPECT_NE(err.find("an error occurred during closing of asynchronous generator"), std::string::npos) << err;
  EXPECT_NE(err.find("cleanup failed"), std::string::npos) << err;
}

}  // namespace
}  // namespace aio
