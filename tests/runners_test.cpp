// aio::run and Runner: results, shutdown of pending tasks, SIGINT, errors.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/aio_test.hpp"

namespace aio {
namespace {

using Log = std::vector<std::string>;

TEST(Run, ReturnsMainsValue) {
  auto main_ = []() -> Coro<int> {
    co_await sleep(1);
    co_return 42;
  };
  EXPECT_EQ(run(main_(), {.clock = virtual_clock}), 42);
}

TEST(Run, RethrowsMainsException) {
  auto main_ = []() -> Coro<int> {
    co_await sleep(1);
    throw std::invalid_argument("bad main");
  };
  EXPECT_THROW(run(main_(), {.clock = virtual_clock}), std::invalid_argument);
}

TEST(Run, CancelsTheTasksStillPendingAndWaitsForThem) {
  Log log;
  auto background = [&]() -> Coro<> {
    try {
      co_await sleep(100);
    } catch (const CancelledError&) {
      log.push_back("background cancelled");
      throw;
    }
  };
  auto main_ = [&]() -> Coro<> {
    create_task(background());
    co_await sleep(1);
    log.push_back("main done");
  };
  double elapsed = 0;
  test::run_virtual(main_(), &elapsed);
  EXPECT_EQ(log, (Log{"main done", "background cancelled"}));
  EXPECT_DOUBLE_EQ(elapsed, 1.0);
}

TEST(Run, ATaskThatFailsWhileBeingShutDownIsReported) {
  auto background = []() -> Coro<> {
    try {
      co_await sleep(100);
    } catch (const CancelledError&) {
    }
    throw std::runtime_error("cleanup failed");
  };
  auto main_ = [&]() -> Coro<> {
    create_task(background());
    co_await sleep(1);
  };
  test::StderrCapture capture;
  test::run_virtual(main_());
  const std::string err = capture.take();
  EXPECT_NE(err.find("unhandled exception during aio::run() shutdown"), std::string::npos) << err;
  EXPECT_NE(err.find("std::runtime_error: cleanup failed"), std::string::npos) << err;
}

TEST(Run, CannotBeCalledFromARunningLoop) {
  auto inner = []() -> Coro<> { co_return; };
  auto main_ = [&]() -> Coro<std::string> {
    try {
      run(inner());
    } catch (const RuntimeError& e) {
      co_return e.what();
    }
    co_return "no error";
  };
  test::StderrCapture capture;  // inner() is never run
  EXPECT_EQ(test::run_virtual(main_()), "aio::run() cannot be called from a running event loop");
}

TEST(Run, TheLoopIsClosedAfterwardsAndNoLoopRuns) {
  EventLoop* seen = nullptr;
  auto main_ = [&]() -> Coro<> {
    seen = &get_running_loop();
    co_return;
  };
  test::run_virtual(main_());
  EXPECT_NE(seen, nullptr);
  EXPECT_EQ(_get_running_loop(), nullptr);
}

TEST(Runner, RunsSeveralCoroutinesOnOneLoop) {
  auto clock = std::make_shared<VirtualClock>();
  Runner runner({.clock = clock});
  EventLoop* first = nullptr;
  auto step = [&](int v) -> Coro<int> {
    if (first == nullptr) first = &get_running_loop();
    EXPECT_EQ(&get_running_loop(), first);
    co_await sleep(1);
    co_return v;
  };
  EXPECT_EQ(runner.run(step(1)), 1);
  EXPECT_EQ(runner.run(step(2)), 2);
  EXPECT_EQ(&runner.get_loop(), first);
  EXPECT_DOUBLE_EQ(clock->now(), 2.0);
  runner.close();
  EXPECT_THROW(runner.get_loop(), RuntimeError);
}

// --- SIGINT, in child processes: the signal is raised by the program itself.

// Runs `body` in a forked child and returns its wait status.
template <class F>
int in_child(F body) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    body();
    std::_Exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

Coro<> interrupted_main(bool* got_cancel) {
  ::kill(::getpid(), SIGINT);  // as if Ctrl+C were pressed now
  try {
    co_await sleep(100);
  } catch (const CancelledError&) {
    *got_cancel = true;
    throw;
  }
}

// An exception leaving a noexcept function reaches std::terminate uncaught, as one
// leaving main() would.
void run_uncaught(bool* got_cancel) noexcept { run(interrupted_main(got_cancel), {.clock = virtual_clock}); }

TEST(RunSigint, UncaughtKeyboardInterruptEndsTheProcessBySigint) {
  const int status = in_child([] {
    bool got_cancel = false;
    run_uncaught(&got_cancel);
  });
  ASSERT_TRUE(WIFSIGNALED(status)) << "status " << status;
  EXPECT_EQ(WTERMSIG(status), SIGINT);  // a shell shows exit status 130
}

TEST(RunSigint, SigintCancelsTheMainTaskAndRunThrowsKeyboardInterrupt) {
  const int status = in_child([] {
    bool got_cancel = false;
    try {
      run(interrupted_main(&got_cancel), {.clock = virtual_clock});
    } catch (const KeyboardInterrupt&) {
      std::_Exit(got_cancel ? 7 : 8);
    }
    std::_Exit(9);
  });
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 7);
}

TEST(RunSigint, AMainThatSwallowsTheCancelReturnsNormally) {
  const int status = in_child([] {
    auto main_ = []() -> Coro<int> {
      ::kill(::getpid(), SIGINT);
      try {
        co_await sleep(100);
      } catch (const CancelledError&) {
        co_return 5;
      }
      co_return 6;
    };
    std::_Exit(run(main_(), {.clock = virtual_clock}));
  });
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 5);
}

TEST(RunSigint, TheHandlerIsRestoredAfterRun) {
  const int status = in_child([] {
    auto main_ = []() -> Coro<> { co_return; };
    run(main_(), {.clock = virtual_clock});
    struct sigaction current {};
    ::sigaction(SIGINT, nullptr, &current);
    std::_Exit(current.sa_handler == SIG_DFL ? 0 : 1);
  });
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(RunSigint, ASecondSigintEndsTheProcessAtOnce) {
  const int status = in_child([] {
    auto main_ = []() -> Coro<> {
      ::kill(::getpid(), SIGINT);
      try {
        co_await sleep(100);
      } catch (const CancelledError&) {
      }
      ::kill(::getpid(), SIGINT);  // the program did not stop: press Ctrl+C again
      co_await sleep(100);
    };
    run(main_(), {.clock = virtual_clock});
    std::_Exit(3);
  });
  ASSERT_TRUE(WIFSIGNALED(status)) << "status " << status;
  EXPECT_EQ(WTERMSIG(status), SIGINT);
}

}  // namespace
}  // namespace aio
