// aio/timeouts.hpp: timeout() and timeout_at() (asyncio.timeouts).
//
//   co_await aio::async_with(aio::timeout(10s), [&](aio::Timeout& cm) -> aio::Coro<> {
//     co_await long_running();
//     cm.reschedule(cm.when().value() + 5);   // optional
//   });
//
// When the deadline passes, the current task is cancelled; the CancelledError that
// leaves the body becomes TimeoutError at the exit. A cancel from elsewhere that is
// still pending then is not converted and propagates as CancelledError.
#pragma once

#include <exception>
#include <optional>
#include <string>

#include "aio/clock.hpp"
#include "aio/coro.hpp"
#include "aio/events.hpp"
#include "aio/tasks.hpp"

namespace aio {

class Timeout {
 public:
  /// A timeout at loop time `when`; nullopt: no deadline.
  explicit Timeout(std::optional<double> when) noexcept : when_(when) {}
  Timeout(Timeout&&) noexcept = default;
  Timeout& operator=(Timeout&&) noexcept = default;
  ~Timeout() { handle_.cancel(); }

  /// The deadline (loop time), or nullopt.
  std::optional<double> when() const noexcept { return when_; }
  /// Moves the deadline; nullopt removes it. RuntimeError unless entered and pending.
  void reschedule(std::optional<double> when);
  /// True once the deadline passed.
  bool expired() const noexcept { return state_ == State::expiring || state_ == State::expired; }
  std::string repr() const;

  /// `async with`: starts the deadline for the current task.
  Coro<> aenter();
  /// Turns the CancelledError the deadline caused into TimeoutError.
  Coro<> aexit(std::exception_ptr error);

 private:
  enum class State { created, entered, expiring, expired, exited };
  void on_timeout();

  State state_ = State::created;
  std::optional<double> when_;
  Handle handle_;
  Task<> task_;
  std::uint32_t cancelling_ = 0;
};

/// A Timeout `delay` from now (nullopt: none). Needs a running loop.
Timeout timeout(std::optional<Delay> delay);
/// A Timeout at loop time `when` (nullopt: none).
Timeout timeout_at(std::optional<double> when);

}  // namespace aio
