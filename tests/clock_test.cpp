// Clocks: Delay conversions, the virtual clock, the loop jumping to the next timer,
// and the process clock under AIO_CLOCK=virtual (in child processes).
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <string>

#include "support/aio_test.hpp"

namespace aio {
namespace {

using namespace std::chrono_literals;

TEST(Delay, FromNumbersAndDurations) {
  EXPECT_EQ(Delay(1).ns(), 1000000000);
  EXPECT_EQ(Delay(0.25).ns(), 250000000);
  EXPECT_EQ(Delay(0.3).ns(), 300000000);  // nearest nanosecond
  EXPECT_EQ(Delay(1500ms).ns(), 1500000000);
  EXPECT_EQ(Delay(3s).ns(), 3000000000);
  EXPECT_EQ(Delay(2us).ns(), 2000);
  EXPECT_EQ(Delay(std::chrono::duration<double>(0.5)).ns(), 500000000);
  EXPECT_DOUBLE_EQ(Delay(2.5).seconds(), 2.5);
}

TEST(Delay, NegativeIsZeroHugeIsClampedNanIsRejected) {
  EXPECT_EQ(Delay(-3).ns(), 0);
  EXPECT_EQ(Delay(-1ms).ns(), 0);
  EXPECT_EQ(Delay(1e300).ns(), Delay::forever);
  EXPECT_EQ(Delay(std::chrono::hours::max()).ns(), Delay::forever);
  EXPECT_THROW(Delay{std::numeric_limits<double>::quiet_NaN()}, ValueError);
}

TEST(VirtualClock, MovesOnlyForward) {
  VirtualClock c;
  EXPECT_EQ(c.now_ns(), 0);
  EXPECT_TRUE(c.is_virtual());
  c.advance(1.5);
  EXPECT_DOUBLE_EQ(c.now(), 1.5);
  c.advance_to(1000);  // in the past: ignored
  EXPECT_DOUBLE_EQ(c.now(), 1.5);
  c.advance_to(2000000000);
  EXPECT_DOUBLE_EQ(c.now(), 2.0);
}

TEST(VirtualClock, TheLoopJumpsStraightToTheNextTimer) {
  const auto start = std::chrono::steady_clock::now();
  double elapsed = 0;
  auto main_ = []() -> Coro<> {
    co_await sleep(1000);
    EXPECT_DOUBLE_EQ(get_running_loop().time(), 1000.0);
    co_await sleep(24 * 3600);
  };
  test::run_virtual(main_(), &elapsed);
  EXPECT_DOUBLE_EQ(elapsed, 1000.0 + 24 * 3600);
  // A day of simulated sleeping took well under a real minute (no real waiting).
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60));
}

TEST(MonotonicClock, IsNotVirtualAndDoesNotGoBack) {
  MonotonicClock c;
  EXPECT_FALSE(c.is_virtual());
  const auto a = c.now_ns();
  const auto b = c.now_ns();
  EXPECT_LE(a, b);
}

// Runs `body` in a child process with AIO_CLOCK=virtual (the process clock is made
// once per process, on first use), and returns the child's exit code.
template <class F>
int with_virtual_process_clock(F body, const char* report = nullptr) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setenv("AIO_CLOCK", "virtual", 1);
    if (report) ::setenv("AIO_CLOCK_REPORT", report, 1);
    std::exit(body());  // exit, not _exit: AIO_CLOCK_REPORT is written at exit
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(ProcessClock, AioClockVirtualMakesTimeFunctionsFollowTheLoop) {
  const int code = with_virtual_process_clock([] {
    if (!process_clock()->is_virtual()) return 1;
    const double t0 = aio::time::perf_counter();
    auto main_ = []() -> Coro<> { co_await sleep(5); };
    run(main_());  // no clock option: the process clock
    if (aio::time::perf_counter() - t0 != 5.0) return 2;
    aio::time::sleep(2.5);  // a blocking sleep advances virtual time at once
    if (aio::time::monotonic() - t0 != 7.5) return 3;
    return 0;
  });
  EXPECT_EQ(code, 0);
}

TEST(ProcessClock, WallTimeMovesWithVirtualTime) {
  const int code = with_virtual_process_clock([] {
    const double before = aio::time::time();
    aio::time::sleep(3600);
    const double after = aio::time::time();
    return std::fabs(after - before - 3600) < 1e-3 ? 0 : 1;
  });
  EXPECT_EQ(code, 0);
}

TEST(ProcessClock, ReportWritesTheSimulatedRunningTimeAtExit) {
  const std::string path = "/tmp/aio-clock-report-" + std::to_string(::getpid());
  const int code = with_virtual_process_clock(
      [] {
        aio::time::sleep(12.5);
        return 0;
      },
      path.c_str());
  EXPECT_EQ(code, 0);
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "elapsed=12.500000");
  std::remove(path.c_str());
}

TEST(ProcessClock, StrftimeFormatsLocalTime) {
  const std::string s = aio::time::strftime("%Y");
  EXPECT_EQ(s.size(), 4u);
  EXPECT_EQ(aio::time::strftime("%%"), "%");
}

}  // namespace
}  // namespace aio
