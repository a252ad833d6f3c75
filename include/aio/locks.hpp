// aio/locks.hpp: Lock, Event, Condition, Semaphore, BoundedSemaphore, Barrier
// (asyncio.locks). Like asyncio's, they are for tasks of one loop, not for threads.
//
//   aio::Lock lock;
//   {
//     auto held = co_await lock.guard();   // async with lock:
//     ...                                  // released on every exit, cancellation too
//   }
//   co_await lock.acquire(); ...; lock.release();   // the same, by hand
//
// Waiters are served first come, first served. A waiter woken and then cancelled
// before it ran passes its wake-up on, so no permit is lost. Waiting allocates
// nothing: the waiter lives in the awaiting coroutine's frame (detail/waitlist.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>

#include "aio/coro.hpp"
#include "aio/detail/waitlist.hpp"
#include "aio/errors.hpp"

namespace aio {

/// What `co_await x.guard()` returns: owns one acquisition of x and releases it when
/// destroyed (the C++ form of `async with x:`).
template <class P>
class [[nodiscard]] Guard {
 public:
  explicit Guard(P& p) noexcept : p_(&p) {}
  Guard(Guard&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  Guard& operator=(Guard&& o) noexcept {
    if (this != &o) {
      reset();
      p_ = std::exchange(o.p_, nullptr);
    }
    return *this;
  }
  ~Guard() { reset(); }
  /// Releases now rather than at the end of the scope.
  void release() { reset(); }
  bool owns() const noexcept { return p_ != nullptr; }

 private:
  void reset() noexcept {
    if (P* p = std::exchange(p_, nullptr)) p->release();
  }
  P* p_;
};

namespace detail {
/// Awaits P::acquire() and wraps the acquisition in a Guard.
template <class P>
class [[nodiscard]] GuardAwaiter {
 public:
  explicit GuardAwaiter(P& p) noexcept : p_(p), inner_(p.acquire()) {}
  bool await_ready() { return inner_.await_ready(); }
  void await_suspend(std::coroutine_handle<> h) { inner_.await_suspend(h); }
  Guard<P> await_resume() {
    inner_.await_resume();
    return Guard<P>(p_);
  }

 private:
  P& p_;
  typename P::Acquire inner_;
};
}  // namespace detail

/// asyncio.Lock: a mutual exclusion lock for tasks. Not reentrant.
class Lock {
 public:
  Lock() = default;
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

  class [[nodiscard]] Acquire : public detail::WaitNode {
   public:
    explicit Acquire(Lock& lock) noexcept : lock_(&lock) {}
    bool await_ready() noexcept { return lock_->try_acquire(); }
    void await_suspend(std::coroutine_handle<> h) { wait_on(lock_->waiters_, h, "Lock.acquire()"); }
    bool await_resume();

   private:
    Lock* lock_;
  };

  /// Waits until the lock is free and takes it; returns true.
  Acquire acquire() noexcept { return Acquire(*this); }
  /// Frees the lock and wakes the first waiter; RuntimeError when not locked.
  void release();
  bool locked() const noexcept { return locked_; }
  /// `async with lock:`: acquire, and release when the Guard goes.
  detail::GuardAwaiter<Lock> guard() noexcept { return detail::GuardAwaiter<Lock>(*this); }
  /// "<asyncio.locks.Lock object at 0x... [locked, waiters:1]>"
  std::string repr() const;

 private:
  bool try_acquire() noexcept {
    if (locked_ || !waiters_.empty()) return false;
    locked_ = true;
    return true;
  }
  void wake_up_first() noexcept;
  detail::WaitList waiters_;
  bool locked_ = false;
};

/// asyncio.Event: wait() blocks until set() is called; clear() resets it.
class Event {
 public:
  Event() = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  class [[nodiscard]] Wait : public detail::WaitNode {
   public:
    explicit Wait(Event& e) noexcept : event_(&e) {}
    bool await_ready() const noexcept { return event_->value_; }
    void await_suspend(std::coroutine_handle<> h) { wait_on(event_->waiters_, h, "Event.wait()"); }
    bool await_resume() {
      if (suspended() && finish()) throw_cancelled();
      return true;
    }

   private:
    Event* event_;
  };

  /// Waits until the flag is set; returns true.
  Wait wait() noexcept { return Wait(*this); }
  /// Sets the flag and wakes every waiter.
  void set() noexcept;
  void clear() noexcept { value_ = false; }
  bool is_set() const noexcept { return value_; }
  std::string repr() const;

 private:
  detail::WaitList waiters_;
  bool value_ = false;
};

/// asyncio.Condition: waiting for a notification while holding a lock.
class Condition {
 public:
  /// With its own Lock, or sharing `lock` (which must outlive the condition).
  Condition() : lock_(&own_lock_) {}
  explicit Condition(Lock& lock) : lock_(&lock) {}
  Condition(const Condition&) = delete;
  Condition& operator=(const Condition&) = delete;

  using Acquire = Lock::Acquire;
  Acquire acquire() noexcept { return lock_->acquire(); }
  void release() { lock_->release(); }
  bool locked() const noexcept { return lock_->locked(); }
  detail::GuardAwaiter<Condition> guard() noexcept { return detail::GuardAwaiter<Condition>(*this); }

  /// Releases the lock, waits for notify(), and takes the lock again before
  /// returning, even when cancelled. RuntimeError unless the lock is held.
  Coro<bool> wait();
  /// Waits until pred() is true (checked first, then after each notification);
  /// returns its last value.
  template <class Pred>
  Coro<std::invoke_result_t<Pred&>> wait_for(Pred pred) {
    auto result = pred();
    while (!result) {
      co_await wait();
      result = pred();
    }
    co_return result;
  }
  /// Wakes up to n waiters; RuntimeError unless the lock is held.
  void notify(std::size_t n = 1);
  void notify_all() { notify(waiters_.size()); }
  std::string repr() const;

 private:
  class Notified;
  void wake(std::size_t n) noexcept;
  Lock own_lock_;
  Lock* lock_;
  detail::WaitList waiters_;
};

/// asyncio.Semaphore: a counter of permits; acquire() waits while it is zero.
class Semaphore {
 public:
  /// ValueError when value < 0.
  explicit Semaphore(std::int64_t value = 1);
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  class [[nodiscard]] Acquire : public detail::WaitNode {
   public:
    explicit Acquire(Semaphore& s) noexcept : sem_(&s) {}
    bool await_ready() noexcept { return sem_->try_acquire(); }
    void await_suspend(std::coroutine_handle<> h) { wait_on(sem_->waiters_, h, "Semaphore.acquire()"); }
    bool await_resume();

   private:
    Semaphore* sem_;
  };

  /// Takes a permit, waiting for one when none is free; returns true.
  Acquire acquire() noexcept { return Acquire(*this); }
  /// Returns a permit and wakes the first waiter.
  void release();
  /// True when acquire() would wait.
  bool locked() const noexcept { return value_ == 0 || !waiters_.empty(); }
  detail::GuardAwaiter<Semaphore> guard() noexcept { return detail::GuardAwaiter<Semaphore>(*this); }
  std::int64_t value() const noexcept { return value_; }
  std::string repr() const;

 protected:
  std::int64_t value_;

 private:
  bool try_acquire() noexcept {
    if (locked()) return false;
    --value_;
    return true;
  }
  bool wake_up_next() noexcept;
  detail::WaitList waiters_;
};

/// asyncio.BoundedSemaphore: release() beyond the initial value is a ValueError.
class BoundedSemaphore : public Semaphore {
 public:
  explicit BoundedSemaphore(std::int64_t value = 1) : Semaphore(value), bound_(value) {}
  void release();
  detail::GuardAwaiter<BoundedSemaphore> guard() noexcept { return detail::GuardAwaiter<BoundedSemaphore>(*this); }

 private:
  std::int64_t bound_;
};

/// asyncio.Barrier: `parties` tasks wait until all have arrived, then all go on.
class Barrier {
 public:
  /// ValueError when parties < 1.
  explicit Barrier(std::size_t parties);
  Barrier(const Barrier&) = delete;
  Barrier& operator=(const Barrier&) = delete;

  /// Waits until `parties` tasks are waiting; returns this task's arrival index
  /// (0 .. parties-1). BrokenBarrierError when the barrier is or becomes broken or is
  /// reset while waiting.
  Coro<std::size_t> wait();
  /// Back to the empty state; tasks waiting get BrokenBarrierError.
  Coro<> reset();
  /// Puts the barrier in the broken state: current and future wait() calls fail.
  Coro<> abort();
  std::size_t parties() const noexcept { return parties_; }
  /// How many tasks wait in the filling phase.
  std::size_t n_waiting() const noexcept { return state_ == State::filling ? count_ : 0; }
  bool broken() const noexcept { return state_ == State::broken; }
  std::string repr() const;

 private:
  enum class State : std::uint8_t { filling, draining, resetting, broken };
  Coro<> block();
  void exit() noexcept;
  Condition cond_;
  std::size_t parties_;
  std::size_t count_ = 0;
  State state_ = State::filling;
};

}  // namespace aio
