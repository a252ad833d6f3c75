// aio/detail/virtual_time.hpp: virtual time shared by threads (AIO_CLOCK=virtual).
//
// On the virtual process clock a blocking aio::time::sleep() must not move time by
// itself: five threads that each sleep 5 s in parallel take 5 s, not 25. So a sleeping
// thread parks with its deadline, and time moves only when the whole process is
// quiescent: every thread is parked (asleep, an idle executor worker, or a loop with
// nothing to run). Then whoever notices jumps the clock to the earliest deadline of a
// parked party (a sleeper's, or a parked loop's next timer) and wakes the parties
// that deadline releases. Parties are unparked by the one who wakes them, so a woken
// thread never counts as idle. A thread the library does not know (one of the user's,
// running or blocked elsewhere) keeps time still until it parks or exits.
//
// With a monotonic process clock none of this runs: the functions below are only
// called when process_clock_is_virtual().
#pragma once

#include <cstdint>
#include <limits>

namespace aio::detail {

/// True when the process clock is virtual (AIO_CLOCK=virtual); read once.
bool process_clock_is_virtual() noexcept;

/// A party waiting for virtual time: a sleeping thread or an idle loop.
struct VirtualParking {
  static constexpr std::int64_t never = std::numeric_limits<std::int64_t>::max();
  std::int64_t deadline = never;  // the time that releases it (never: only a wake-up does)
  void (*wake)(void* ctx) noexcept = nullptr;
  /// A loop that parked but has since been handed work (from another thread) is not
  /// idle: time must not move past it. Optional; thread-safe.
  bool (*busy)(void* ctx) noexcept = nullptr;
  void* ctx = nullptr;
  bool parked = false;
};

/// Parks a loop with nothing to run until its next timer (`never`: none). Jumps the
/// clock when that makes the process quiescent; returns true if it did, and the loop
/// then runs on without waiting. Otherwise the loop blocks until woken and then calls
/// unpark_loop (which does nothing if an advance already unparked it).
bool park_loop(VirtualParking& p) noexcept;
void unpark_loop(VirtualParking& p) noexcept;

/// Threads parked without a deadline (an idle executor worker): +1 when it starts
/// waiting for a job, -1 when a job is handed to it.
void add_parked_threads(int delta) noexcept;

/// True while some thread sleeps on virtual time.
bool virtual_sleepers() noexcept;

}  // namespace aio::detail
