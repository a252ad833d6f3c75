// Locks, events, conditions, semaphores and barriers, following asyncio/locks.py.
#include "aio/locks.hpp"

#include <cstdio>

namespace aio {

namespace {

std::string object_repr(const char* type, const void* self, const std::string& extra) {
  char addr[32];
  std::snprintf(addr, sizeof addr, "%p", self);
  return std::string("<asyncio.locks.") + type + " object at " + addr + " [" + extra + "]>";
}

std::string with_waiters(std::string extra, std::size_t waiters) {
  if (waiters > 0) extra += ", waiters:" + std::to_string(waiters);
  return extra;
}

}  // namespace

// --- Lock

bool Lock::Acquire::await_resume() {
  if (!suspended()) return true;
  if (finish()) {
    // Woken and then cancelled, or cancelled while waiting: the next waiter may go.
    if (!lock_->locked_) lock_->wake_up_first();
    throw_cancelled();
  }
  lock_->locked_ = true;
  return true;
}

void Lock::release() {
  if (!locked_) throw RuntimeError("Lock is not acquired.");
  locked_ = false;
  wake_up_first();
}

void Lock::wake_up_first() noexcept {
  // Only the first: if it was already woken, it has not run yet and will take the lock.
  detail::WaitNode* first = waiters_.front();
  if (first != nullptr && !first->woken()) detail::WaitList::wake(first);
}

std::string Lock::repr() const {
  return object_repr("Lock", this, with_waiters(locked_ ? "locked" : "unlocked", waiters_.size()));
}

// --- Event

void Event::set() noexcept {
  if (value_) return;
  value_ = true;
  waiters_.wake_all();
}

std::string Event::repr() const {
  return object_repr("Event", this, with_waiters(value_ ? "set" : "unset", waiters_.size()));
}

// --- Condition

/// One wait for a notification.
class Condition::Notified : public detail::WaitNode {
 public:
  explicit Notified(Condition& c) noexcept : cond_(&c) {}
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) { wait_on(cond_->waiters_, h, "Condition.wait()"); }
  void await_resume() {
    if (finish()) throw_cancelled();
  }

 private:
  Condition* cond_;
};

Coro<bool> Condition::wait() {
  if (!locked()) throw RuntimeError("cannot wait on un-acquired lock");
  release();
  std::exception_ptr error;
  try {
    co_await Notified(*this);
  } catch (...) {
    error = std::current_exception();
  }
  // The lock is taken again whatever happened, even through cancellations; the last
  // cancellation is the one raised.
  for (;;) {
    try {
      co_await acquire();
      break;
    } catch (const CancelledError&) {
      error = std::current_exception();
    }
  }
  if (error) {
    // We may have been notified before the error: hand the notification on (a
    // spurious wake-up is allowed, a lost one is not). CPython 3.13 does the same.
    wake(1);
    std::rethrow_exception(error);
  }
  co_return true;
}

void Condition::notify(std::size_t n) {
  if (!locked()) throw RuntimeError("cannot notify on un-acquired lock");
  wake(n);
}

void Condition::wake(std::size_t n) noexcept {
  for (detail::WaitNode* w = waiters_.front(); w != nullptr && n > 0; w = detail::WaitList::next(w)) {
    if (!w->woken()) {
      detail::WaitList::wake(w);
      --n;
    }
  }
}

std::string Condition::repr() const {
  return object_repr("Condition", this, with_waiters(locked() ? "locked" : "unlocked", waiters_.size()));
}

// --- Semaphore

Semaphore::Semaphore(std::int64_t value) : value_(value) {
  if (value < 0) throw ValueError("Semaphore initial value must be >= 0");
}

bool Semaphore::Acquire::await_resume() {
  if (!suspended()) return true;
  const bool was_woken = woken();
  const bool cancelled = finish();
  if (cancelled && was_woken) {
    // The permit was handed to us but we will not use it.
    ++sem_->value_;
  }
  // Waiters that arrived meanwhile queued behind us (FIFO): wake as many as allowed.
  while (sem_->value_ > 0 && sem_->wake_up_next()) {
  }
  if (cancelled) throw_cancelled();
  return true;
}

void Semaphore::release() {
  ++value_;
  wake_up_next();
}

bool Semaphore::wake_up_next() noexcept {
  detail::WaitNode* w = waiters_.first_waiting();
  if (w == nullptr) return false;
  --value_;
  detail::WaitList::wake(w);
  return true;
}

std::string Semaphore::repr() const {
  std::string extra = locked() ? "locked" : "unlocked, value:" + std::to_string(value_);
  return object_repr("Semaphore", this, with_waiters(std::move(extra), waiters_.size()));
}

void BoundedSemaphore::release() {
  if (value_ >= bound_) throw ValueError("BoundedSemaphore released too many times");
  Semaphore::release();
}

// --- Barrier

Barrier::Barrier(std::size_t parties) : parties_(parties) {
  if (parties < 1) throw ValueError("parties must be > 0");
}

Coro<> Barrier::block() {
  // Wait while the barrier drains or resets.
  co_await cond_.wait_for([this] { return state_ != State::draining && state_ != State::resetting; });
  if (state_ == State::broken) throw BrokenBarrierError("Barrier aborted");
}

Coro<std::size_t> Barrier::wait() {
  auto held = co_await cond_.guard();
  co_await block();
  const std::size_t index = count_++;
  std::exception_ptr error;
  try {
    if (index + 1 == parties_) {
      // The last to arrive releases everyone.
      state_ = State::draining;
      cond_.notify_all();
    } else {
      co_await cond_.wait_for([this] { return state_ != State::filling; });
      if (state_ == State::broken || state_ == State::resetting) {
        throw BrokenBarrierError("Abort or reset of barrier");
      }
    }
  } catch (...) {
    error = std::current_exception();
  }
  --count_;
  exit();
  if (error) std::rethrow_exception(error);
  co_return index;
}

void Barrier::exit() noexcept {
  // The last one out lets the next round fill.
  if (count_ == 0) {
    if (state_ == State::resetting || state_ == State::draining) state_ = State::filling;
    cond_.notify_all();
  }
}

Coro<> Barrier::reset() {
  auto held = co_await cond_.guard();
  if (count_ > 0) {
    state_ = State::resetting;
  } else {
    state_ = State::filling;
  }
  cond_.notify_all();
}

Coro<> Barrier::abort() {
  auto held = co_await cond_.guard();
  state_ = State::broken;
  cond_.notify_all();
}

std::string Barrier::repr() const {
  static const char* const names[] = {"filling", "draining", "resetting", "broken"};
  std::string extra = names[static_cast<int>(state_)];
  if (state_ == State::filling) extra += ", waiters:" + std::to_string(n_waiting()) + "/" + std::to_string(parties_);
  return object_repr("Barrier", this, extra);
}

}  // namespace aio
