// Clocks: monotonic, virtual, the process clock and the aio::time functions.
#include "aio/clock.hpp"

#include <dirent.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "aio/detail/virtual_time.hpp"

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

// --- virtual time shared by threads (see aio/detail/virtual_time.hpp)

namespace detail {

namespace {

#if defined(__SANITIZE_THREAD__)
constexpr bool tsan = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr bool tsan = true;
#else
constexpr bool tsan = false;
#endif
#else
constexpr bool tsan = false;
#endif

// The process's threads, not counting ThreadSanitizer's background thread (which it
// starts with the first other thread).
int process_threads() noexcept {
  DIR* d = ::opendir("/proc/self/task");
  if (d == nullptr) return INT32_MAX;  // unknown: never quiescent
  int n = 0;
  while (const dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
  ::closedir(d);
  if (tsan && n > 1) --n;
  return n;
}

class Timeline {
 public:
  bool park_loop(VirtualParking& p) noexcept {
    std::lock_guard lock(mu_);
    park(p);
    advance_if_quiescent();
    return !p.parked;
  }

  void unpark(VirtualParking& p) noexcept {
    std::lock_guard lock(mu_);
    if (p.parked) release(p);
  }

  void add_parked(int delta) noexcept {
    std::lock_guard lock(mu_);
    parked_ += delta;
    if (delta > 0) advance_if_quiescent();
  }

  bool has_sleepers() noexcept {
    std::lock_guard lock(mu_);
    return sleepers_ > 0;
  }

  void sleep(Clock& clock, Delay d) noexcept {
    if (d.ns() == 0) {
      std::this_thread::yield();
      return;
    }
    std::condition_variable cv;
    VirtualParking p;
    p.wake = [](void* ctx) noexcept { static_cast<std::condition_variable*>(ctx)->notify_one(); };
    p.ctx = &cv;
    std::unique_lock lock(mu_);
    p.deadline = clock.now_ns() + d.ns();
    ++sleepers_;
    park(p);
    advance_if_quiescent();
    while (p.parked) {
      // Thread exits tell nobody: look again now and then.
      cv.wait_for(lock, std::chrono::milliseconds(1));
      if (p.parked) advance_if_quiescent();
    }
    --sleepers_;
  }

 private:
  void park(VirtualParking& p) {
    p.parked = true;
    parties_.push_back(&p);
    ++parked_;
  }

  void release(VirtualParking& p) {
    p.parked = false;
    parties_.erase(std::find(parties_.begin(), parties_.end(), &p));
    --parked_;
  }

  // Every thread parked: jump to the earliest deadline and release what it reaches.
  void advance_if_quiescent() {
    if (parties_.empty() || process_threads() > parked_) return;
    for (const VirtualParking* p : parties_) {
      if (p->busy != nullptr && p->busy(p->ctx)) return;
    }
    std::int64_t target = VirtualParking::never;
    for (const VirtualParking* p : parties_) target = std::min(target, p->deadline);
    if (target == VirtualParking::never) return;  // everyone waits for something real
    Clock& clock = *process_clock();
    clock.advance_to(target);
    const std::int64_t now = clock.now_ns();
    std::vector<VirtualParking*> due;
    for (VirtualParking* p : parties_) {
      if (p->deadline <= now) due.push_back(p);
    }
    for (VirtualParking* p : due) {
      release(*p);
      p->wake(p->ctx);
    }
  }

  std::mutex mu_;
  std::vector<VirtualParking*> parties_;
  int parked_ = 0;  // parties_ plus the idle executor workers
  int sleepers_ = 0;
};

Timeline& timeline() {
  static auto* t = new Timeline;  // never destroyed: threads may sleep until the end
  return *t;
}

}  // namespace

bool process_clock_is_virtual() noexcept {
  static const bool v = process().clock->is_virtual();
  return v;
}

bool park_loop(VirtualParking& p) noexcept { return timeline().park_loop(p); }
void unpark_loop(VirtualParking& p) noexcept { timeline().unpark(p); }
void add_parked_threads(int delta) noexcept { timeline().add_parked(delta); }
bool virtual_sleepers() noexcept { return timeline().has_sleepers(); }

}  // namespace detail

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
    detail::timeline().sleep(c, d);
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
