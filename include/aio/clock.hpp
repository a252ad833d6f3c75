// aio/clock.hpp: the loop's replaceable clock, the virtual clock for tests, and a
// `aio::time` namespace that mirrors Python's `time` module on that clock.
//
// A loop reads time from a Clock. The monotonic clock is the kernel's CLOCK_MONOTONIC.
// A VirtualClock only moves when the loop has nothing to run: the loop then jumps it
// straight to the next timer, so "two 3 s sleeps take 3 s" runs in microseconds and
// the simulated time is exact.
//
// Setting AIO_CLOCK=virtual in the environment makes the process clock virtual: every
// loop created without an explicit clock uses it, and so do aio::time::perf_counter(),
// aio::time::sleep() (a blocking sleep then advances virtual time instead of sleeping)
// and aio::time::strftime(). A whole program can thus run on simulated time.
#pragma once

#include <atomic>
#include <chrono>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>

#include "aio/errors.hpp"

namespace aio {

/// A span of time given the way asyncio takes it: seconds as a number (`1`, `0.5`) or
/// any std::chrono duration (`3s`, `200ms`). Negative spans mean "now"; huge ones are
/// clamped to about 73 years; NaN is rejected with ValueError.
class Delay {
 public:
  template <class Rep, class Period>
  constexpr Delay(std::chrono::duration<Rep, Period> d) : ns_(convert(d)) {}  // NOLINT: implicit by design
  template <class A>
    requires std::is_arithmetic_v<A>
  constexpr Delay(A seconds) : ns_(from_seconds(static_cast<double>(seconds))) {}  // NOLINT

  /// Nanoseconds, from 0 to `forever`.
  constexpr std::int64_t ns() const noexcept { return ns_; }
  constexpr double seconds() const noexcept { return static_cast<double>(ns_) / 1e9; }

  static constexpr std::int64_t forever = INT64_MAX / 4;

 private:
  static constexpr std::int64_t from_seconds(double s) {
    if (s != s) throw ValueError("Invalid delay: NaN");
    if (s <= 0) return 0;
    if (s >= static_cast<double>(forever) / 1e9) return forever;
    return static_cast<std::int64_t>(s * 1e9 + 0.5);  // nearest, as 0.3 s must be 300000000 ns
  }
  template <class Rep, class Period>
  static constexpr std::int64_t convert(std::chrono::duration<Rep, Period> d) {
    const double s = std::chrono::duration<double>(d).count();
    if constexpr (std::is_integral_v<Rep>) {
      if (s > 0 && s < 9e9) return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
    }
    return from_seconds(s);
  }
  std::int64_t ns_;
};

/// A source of time for a loop.
class Clock {
 public:
  virtual ~Clock() = default;
  /// Now, in nanoseconds on this clock's own timeline.
  virtual std::int64_t now_ns() const noexcept = 0;
  /// True for a clock that only moves when advanced.
  virtual bool is_virtual() const noexcept { return false; }
  /// Moves a virtual clock forward to `ns` (never backwards); real clocks ignore it.
  virtual void advance_to(std::int64_t ns) noexcept { (void)ns; }
  /// Now, in seconds (what loop.time() returns).
  double now() const noexcept { return static_cast<double>(now_ns()) / 1e9; }
};

/// CLOCK_MONOTONIC, as asyncio's loop.time().
class MonotonicClock final : public Clock {
 public:
  std::int64_t now_ns() const noexcept override;
};

/// Simulated time starting at 0; thread-safe.
class VirtualClock final : public Clock {
 public:
  explicit VirtualClock(std::int64_t start_ns = 0) : now_(start_ns) {}
  std::int64_t now_ns() const noexcept override { return now_.load(std::memory_order_acquire); }
  bool is_virtual() const noexcept override { return true; }
  void advance_to(std::int64_t ns) noexcept override;
  /// Moves time forward by `d`.
  void advance(Delay d) noexcept { advance_to(now_ns() + d.ns()); }

 private:
  std::atomic<std::int64_t> now_;
};

/// Use in options to get a fresh virtual clock: `aio::run(main(), {.clock = aio::virtual_clock})`.
inline constexpr struct VirtualClockTag {
  operator std::shared_ptr<Clock>() const { return std::make_shared<VirtualClock>(); }  // NOLINT
} virtual_clock{};

/// The process clock: monotonic, or virtual when AIO_CLOCK=virtual.
std::shared_ptr<Clock> process_clock();

/// Python's `time` module, on the process clock.
namespace time {
/// Seconds, for measuring intervals (time.perf_counter()).
double perf_counter() noexcept;
/// Seconds, for measuring intervals (time.monotonic()).
double monotonic() noexcept;
/// Seconds since the epoch (time.time()); on a virtual process clock, the real time at
/// start-up plus the virtual time elapsed since.
double time() noexcept;
/// Blocks the calling thread (time.sleep()); on a virtual process clock it advances the
/// clock instead.
void sleep(Delay d);
/// Local time formatted as C strftime does (time.strftime('%X')).
std::string strftime(const char* format);
}  // namespace time

}  // namespace aio
