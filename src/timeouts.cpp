// Timeout: asyncio.timeouts.Timeout, state for state.
#include "aio/timeouts.hpp"

#include <cstdio>

namespace aio {

namespace {
const char* state_name(int s) {
  static const char* const names[] = {"created", "active", "expiring", "expired", "finished"};
  return names[s];
}
}  // namespace

void Timeout::reschedule(std::optional<double> when) {
  if (state_ != State::entered) {
    if (state_ == State::created) throw RuntimeError("Timeout has not been entered");
    throw RuntimeError(std::string("Cannot change state of ") + state_name(static_cast<int>(state_)) + " Timeout");
  }
  when_ = when;
  handle_.cancel();
  handle_ = Handle();
  if (!when) return;
  EventLoop& loop = get_running_loop();
  if (*when <= loop.time()) {
    handle_ = loop.call_soon([this] { on_timeout(); });
  } else {
    handle_ = loop.call_at(*when, [this] { on_timeout(); });
  }
}

void Timeout::on_timeout() {
  task_.cancel();
  state_ = State::expiring;
  handle_ = Handle();
}

Coro<> Timeout::aenter() {
  if (state_ != State::created) throw RuntimeError("Timeout has already been entered");
  task_ = current_task();
  if (!task_) throw RuntimeError("Timeout should be used inside a task");
  state_ = State::entered;
  cancelling_ = task_.cancelling();
  reschedule(when_);
  co_return;
}

Coro<> Timeout::aexit(std::exception_ptr error) {
  handle_.cancel();
  handle_ = Handle();
  if (state_ == State::expiring) {
    state_ = State::expired;
    // Ours alone: no other cancel request is pending, so the deadline caused it.
    if (task_.uncancel() <= cancelling_ && is_cancelled_error(error)) throw TimeoutError();
  } else if (state_ == State::entered) {
    state_ = State::exited;
  }
  co_return;
}

std::string Timeout::repr() const {
  std::string out = std::string("<Timeout [") + state_name(static_cast<int>(state_)) + "]";
  if (state_ == State::entered) {
    if (when_) {
      char buf[48];
      std::snprintf(buf, sizeof buf, " when=%g", *when_);
      out += buf;
    } else {
      out += " when=None";
    }
  }
  return out + ">";
}

Timeout timeout(std::optional<Delay> delay) {
  if (!delay) return Timeout(std::nullopt);
  return Timeout(get_running_loop().time() + delay->seconds());
}

Timeout timeout_at(std::optional<double> when) { return Timeout(when); }

}  // namespace aio
