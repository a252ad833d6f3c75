// Clocks: monotonic, virtual, the process clock and the aio::time functions.
#include "aio/clock.hpp"

#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace aio {

std::int64_t MonotonicClock::now_ns() const noexcept {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

void VirtualClock::advance_to(std::int64_t ns) noexcept {
  std::int64_t cur = now_.load(std::memory_order_relaxed);
  while (ns > cur && !now_.compare_exchange_weak(cur, ns, std::memory_order_acq_rel)) {
  }
}

namespace {

struct ProcessClock {
  std::shared_ptr<Clock> clock;
  double wall_at_start;  // real time.time() when the process clock was made
  ProcessClock() {
    const char* v = std::getenv("AIO_CLOCK");
    if (v != nullptr && std::strcmp(v, "virtual") == 0) {
      clock = std::make_shared<VirtualClock>();
      // A testing aid: AIO_CLOCK_REPORT=path gets "elapsed=<seconds>" at exit, so a
      // test can check a whole program's simulated running time.
      if (std::getenv("AIO_CLOCK_REPORT") != nullptr) std::atexit(report_elapsed);
    } else {
      clock = std::make_shared<MonotonicClock>();
    }
    wall_at_start = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  }
  static void report_elapsed();
};

ProcessClock& process() {
  static auto* p = new ProcessClock;  // never destroyed: used until the very end
  return *p;
}

void ProcessClock::report_elapsed() {
  if (FILE* f = std::fopen(std::getenv("AIO_CLOCK_REPORT"), "w")) {
    std::fprintf(f, "elapsed=%.6f\n", process().clock->now());
    std::fclose(f);
  }
}

}  // namespace

std::shared_ptr<Clock> process_clock() { return process().clock; }

namespace time {

double perf_counter() noexcept { return process().clock->now(); }
double monotonic() noexcept { return process().clock->now(); }

double time() noexcept {
  ProcessClock& p = process();
  if (p.clock->is_virtual()) return p.wall_at_start + p.clock->now();
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void sleep(Delay d) {
  Clock& c = *process().clock;
  if (c.is_virtual()) {
    c.advance_to(c.now_ns() + d.ns());
  } else {
    std::this_thread::sleep_for(std::chrono::nanoseconds(d.ns()));
  }
}

std::string strftime(const char* format) {
  const auto t = static_cast<time_t>(time());
  tm local{};
  ::localtime_r(&t, &local);
  char buf[256];
  const std::size_t n = ::strftime(buf, sizeof buf, format, &local);
  return std::string(buf, n);
}

}  // namespace time
}  // namespace aio
