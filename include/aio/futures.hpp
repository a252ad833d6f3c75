// aio/futures.hpp: Future<T> (asyncio.Future).
//
// A Future is a copyable handle to shared state: a result, an exception, or
// "cancelled", plus the callbacks waiting for it. Done callbacks are scheduled with
// call_soon when the future finishes, never called inline. A task awaiting a future
// is one of those callbacks; its node lives in the awaiting coroutine's frame, so
// awaiting allocates nothing.
//
// Future<void> is also the untyped view of any future: every Future<T> converts to it
// (result() then only waits and rethrows), which is what current_task() and
// all_tasks() hand out.
#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "aio/detail/loop_item.hpp"
#include "aio/detail/value_repr.hpp"
#include "aio/errors.hpp"
#include "aio/events.hpp"

namespace aio {

/// What a void result becomes inside a tuple or vector of results (Python's None).
using None = std::monostate;
template <class T>
using value_or_none = std::conditional_t<std::is_void_v<T>, None, T>;

/// Identifies a done callback for remove_done_callback().
using CallbackId = std::uint64_t;

namespace detail {

class FutureStateBase;
class TaskStateBase;

enum class FutureStatus : std::uint8_t { pending, finished, cancelled };

/// The rarely used fields of a future or task, kept out of line so that a task that
/// never gets a name, a cancel message or a context does not pay for them.
struct FutureExtras {
  FutureExtras() = default;
  FutureExtras(const FutureExtras&) = delete;
  FutureExtras& operator=(const FutureExtras&) = delete;
  ~FutureExtras() {
    if (context != nullptr) context->release();
  }
  std::string cancel_msg;
  std::string name;
  ContextImpl* context = nullptr;  // a task's context (a reference); null: the empty one
};

/// A waiter in a future's callback list: an awaiting task or a done callback.
class FutureCallback {
 public:
  FutureCallback() = default;
  FutureCallback(const FutureCallback&) = delete;
  FutureCallback& operator=(const FutureCallback&) = delete;
  /// The future finished and unlinked this node: schedule (never run) what waits.
  virtual void on_future_done(FutureStateBase& f) noexcept = 0;
  /// For "cb=[...]" in repr().
  virtual std::string callback_repr() const = 0;
  /// Unlinked without being scheduled (removed, or the future died): drop the list's
  /// reference where there is one.
  virtual void drop() noexcept {}

  CallbackId id_ = 0;  // non-zero for done callbacks added by the user
  FutureCallback* prev_cb_ = nullptr;
  FutureCallback* next_cb_ = nullptr;
  FutureStateBase* linked_to_ = nullptr;

 protected:
  ~FutureCallback() = default;
};

/// Something a task is suspended on, which the task's cancel() can cancel.
class Waiter {
 public:
  Waiter() = default;
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;
  /// Cancels the wait on behalf of the task; true when that will wake the task with a
  /// CancelledError (asyncio: `self._fut_waiter.cancel(msg)`).
  virtual bool cancel_wait(const std::string& msg) = 0;
  /// For "wait_for=<...>" in a task's repr().
  virtual std::string wait_repr() const = 0;

 protected:
  ~Waiter() = default;
};

class FutureStateBase : public LoopItem, public PoolAllocated {
 public:
  explicit FutureStateBase(EventLoop* loop, std::uint32_t refs = 1) noexcept : LoopItem(refs), loop_(loop) {}
  FutureStateBase(const FutureStateBase&) = delete;
  FutureStateBase& operator=(const FutureStateBase&) = delete;

  bool done() const noexcept { return status_ != FutureStatus::pending; }
  bool cancelled() const noexcept { return status_ == FutureStatus::cancelled; }

  /// Plain futures never sit in the ready queue.
  void run() override {}
  std::string repr() const override;

  /// asyncio's Future.cancel(msg): false once done.
  virtual bool cancel(const std::string& msg);
  /// Finishes with the value already stored by typed code; throws InvalidStateError
  /// when done.
  void finish_result();
  void set_exception(std::exception_ptr e);
  /// Throws CancelledError, the stored exception, or InvalidStateError; marks the
  /// exception retrieved.
  void check_result();
  /// asyncio's Future.exception().
  std::exception_ptr exception();
  /// The stored value, or nullptr (void, or none yet).
  virtual void* value_address() noexcept { return nullptr; }
  /// True when the state stores a value (a typed future), so an untyped set_result()
  /// must not finish it.
  virtual bool has_value_type() const noexcept { return false; }
  /// "result=..." for repr().
  virtual std::string result_repr() const { return "None"; }
  std::string cancel_message() const { return extras_ ? extras_->cancel_msg : std::string(); }
  void set_cancel_message(const std::string& msg);
  [[noreturn]] void throw_cancelled() const;

  void add_callback(FutureCallback* cb) noexcept;
  void remove_callback(FutureCallback* cb) noexcept;
  /// Links a done callback (or schedules it at once when done); returns its id.
  CallbackId add_done_callback(FutureCallback* cb);
  std::size_t remove_done_callback(CallbackId id) noexcept;

  // The small fields first: they fit in LoopItem's tail padding.
  FutureStatus status_ = FutureStatus::pending;
  bool log_traceback_ = false;  // an exception nobody retrieved yet
  bool is_task_ = false;
  EventLoop* loop_;
  std::exception_ptr exception_;
  FutureExtras* extras_ = nullptr;  // allocated only when a message or a name is set
  FutureCallback* cb_head_ = nullptr;
  FutureCallback* cb_tail_ = nullptr;

 protected:
  ~FutureStateBase() override;
  void destroy() noexcept override;
  /// Marks the future done and schedules its callbacks.
  void schedule_callbacks() noexcept;
  /// Unlinks every callback without scheduling it (the future will never finish).
  void drop_callbacks() noexcept;
  template <class Fn>
  void unlink_callbacks(Fn each) noexcept;
  std::string state_repr() const;
  std::string callbacks_repr() const;
};

template <class T>
class FutureState : public FutureStateBase {
 public:
  explicit FutureState(EventLoop* loop, std::uint32_t refs = 1) noexcept : FutureStateBase(loop, refs) {}
  ~FutureState() override {
    if (has_value_) value_.~T();
  }
  template <class U>
  void set_result(U&& v) {
    if (done()) throw InvalidStateError("invalid state: " + repr());
    ::new (static_cast<void*>(&value_)) T(std::forward<U>(v));
    has_value_ = true;
    finish_result();
  }
  void* value_address() noexcept override { return has_value_ ? &value_ : nullptr; }
  bool has_value_type() const noexcept override { return true; }
  std::string result_repr() const override { return has_value_ ? value_repr(value_) : "None"; }

 private:
  union {
    T value_;
  };
  bool has_value_ = false;
};

template <>
class FutureState<void> : public FutureStateBase {
 public:
  using FutureStateBase::FutureStateBase;
};

/// A done callback: a HandleBase that, once scheduled, calls fn(future) or fn().
/// While linked it holds no reference on the future (a pending future that nobody
/// finishes must still be freed); the handle it passes is taken when it is scheduled.
template <class Fut, class F>
class DoneCallback final : public HandleBase, public FutureCallback {
 public:
  explicit DoneCallback(F fn) : HandleBase(1), fn_(std::move(fn)) {}
  void on_future_done(FutureStateBase& f) noexcept override {
    f.add_ref();
    fut_ = Fut(&f);
    f.loop_->push_ready(this);  // the list's reference passes to the ready queue
  }
  std::string callback_repr() const override { return callback_name() + "()"; }
  void drop() noexcept override { release(); }

 private:
  void invoke() override {
    if constexpr (std::is_invocable_v<F&, Fut&>) {
      fn_(fut_);
    } else {
      fn_();
    }
    fut_ = Fut(nullptr);
  }
  std::string callback_name() const override { return callable_name(typeid(F), nullptr); }
  F fn_;
  Fut fut_{nullptr};
};

[[noreturn]] void throw_outside_task(const char* what);
/// The task being stepped; RuntimeError naming `what` outside a task.
inline TaskStateBase* current_task_checked(const char* what) {
  TaskStateBase* t = tls_state.current_task;
  if (t == nullptr) [[unlikely]] throw_outside_task(what);
  return t;
}

/// A finished future's value: copied, or moved out when T cannot be copied.
template <class T>
T take_value(FutureStateBase* f) {
  T* v = static_cast<T*>(f->value_address());
  if constexpr (std::is_copy_constructible_v<T>) {
    return *v;
  } else {
    return std::move(*v);
  }
}

/// Suspends the current task on a future (the awaiter of Future<T> and Task<T>).
class FutureAwaiterBase : public FutureCallback, public Waiter {
 public:
  explicit FutureAwaiterBase(FutureStateBase* f) noexcept : f_(f) {}
  FutureAwaiterBase(FutureAwaiterBase&& o) noexcept : f_(o.f_) {}
  ~FutureAwaiterBase() {
    if (linked_to_) f_->remove_callback(this);
  }
  bool await_ready() const noexcept { return f_->done(); }
  void await_suspend(std::coroutine_handle<> h);
  void on_future_done(FutureStateBase& f) noexcept override;
  std::string callback_repr() const override { return "Task.task_wakeup()"; }
  bool cancel_wait(const std::string& msg) override { return f_->cancel(msg); }
  std::string wait_repr() const override { return f_->repr(); }

 protected:
  /// After resumption: a cancel that arrived once the future was done wins over the
  /// result (asyncio's _must_cancel), then the result is checked.
  void resume_check();
  FutureStateBase* f_;
  TaskStateBase* task_ = nullptr;
};

}  // namespace detail

template <class T = void>
class Future;

/// The untyped future, and the future of void.
template <>
class Future<void> {
 public:
  using value_type = void;

  /// A new pending future on the running loop (else this thread's event loop).
  Future();
  /// An empty handle.
  Future(std::nullptr_t) noexcept {}  // NOLINT
  Future(const Future& o) noexcept : s_(o.s_) {
    if (s_) s_->add_ref();
  }
  Future(Future&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  Future& operator=(Future o) noexcept {
    std::swap(s_, o.s_);
    return *this;
  }
  ~Future() {
    if (s_) s_->release();
  }

  bool done() const noexcept { return s_->done(); }
  bool cancelled() const noexcept { return s_->cancelled(); }
  /// Cancels; false when already done. Awaiters get CancelledError(msg).
  bool cancel(const std::string& msg = {}) const { return s_->cancel(msg); }
  /// Rethrows the exception, throws CancelledError when cancelled, InvalidStateError
  /// when pending.
  void result() const { s_->check_result(); }
  /// The exception (null when none); CancelledError when cancelled; InvalidStateError
  /// when pending.
  std::exception_ptr exception() const { return s_->exception(); }
  /// Finishes a future of void; InvalidStateError when done.
  void set_result() const {
    if (s_->has_value_type()) throw InvalidStateError("set_result() without a value on a typed future");
    if (s_->done()) throw InvalidStateError("invalid state: " + s_->repr());
    s_->finish_result();
  }
  void set_exception(std::exception_ptr e) const { s_->set_exception(std::move(e)); }
  template <class E>
    requires(!std::is_same_v<std::decay_t<E>, std::exception_ptr>)
  void set_exception(E&& e) const {
    s_->set_exception(std::make_exception_ptr(std::forward<E>(e)));
  }
  /// Schedules fn(future) (or fn()) once done, on the next iteration if already done.
  /// It runs in a copy of the context current now, or in `context`.
  template <class F>
  CallbackId add_done_callback(F&& fn) const {
    return add_callback_as(*this, std::forward<F>(fn));
  }
  template <class F>
  CallbackId add_done_callback(F&& fn, const Context& context) const {
    return add_callback_as(*this, std::forward<F>(fn), &context);
  }
  /// Removes a callback added with add_done_callback; returns how many were removed.
  std::size_t remove_done_callback(CallbackId id) const noexcept { return s_->remove_done_callback(id); }
  EventLoop& get_loop() const noexcept { return *s_->loop_; }
  std::string repr() const { return s_ ? s_->repr() : "None"; }
  explicit operator bool() const noexcept { return s_ != nullptr; }
  friend bool operator==(const Future& a, const Future& b) noexcept { return a.s_ == b.s_; }

  class Awaiter : public detail::FutureAwaiterBase {
   public:
    using FutureAwaiterBase::FutureAwaiterBase;
    void await_resume() {
      resume_check();
      f_->check_result();
    }
  };
  /// Waits until done; rethrows its exception.
  Awaiter operator co_await() const noexcept { return Awaiter(s_); }

  /// Adopts a reference (internal).
  explicit Future(detail::FutureStateBase* s) noexcept : s_(s) {}
  detail::FutureStateBase* state() const noexcept { return s_; }

 protected:
  template <class Fut, class F>
  static CallbackId add_callback_as(const Fut& self, F&& fn, const Context* context = nullptr) {
    auto* cb = new detail::DoneCallback<Fut, std::decay_t<F>>(std::forward<F>(fn));
    if (context != nullptr) {
      context->impl()->add_ref();
      cb->set_context(context->impl());
    }
    return self.s_->add_done_callback(cb);
  }
  detail::FutureStateBase* s_ = nullptr;
};

template <class T>
class Future : public Future<void> {
  static_assert(!std::is_reference_v<T>, "Future<T&> is not supported; use a pointer");

 public:
  using value_type = T;

  Future() : Future<void>(new detail::FutureState<T>(&get_event_loop())) {}
  Future(std::nullptr_t) noexcept : Future<void>(nullptr) {}  // NOLINT
  explicit Future(detail::FutureStateBase* s) noexcept : Future<void>(s) {}

  /// The value; rethrows the exception, CancelledError when cancelled,
  /// InvalidStateError when pending.
  const T& result() const& {
    s_->check_result();
    return *static_cast<T*>(s_->value_address());
  }
  T result() const&& {
    s_->check_result();
    return *static_cast<T*>(s_->value_address());
  }
  template <class U = T>
  void set_result(U&& v) const {
    static_cast<detail::FutureState<T>*>(s_)->set_result(std::forward<U>(v));
  }
  template <class F>
  CallbackId add_done_callback(F&& fn) const {
    return add_callback_as(*this, std::forward<F>(fn));
  }
  template <class F>
  CallbackId add_done_callback(F&& fn, const Context& context) const {
    return add_callback_as(*this, std::forward<F>(fn), &context);
  }

  class Awaiter : public detail::FutureAwaiterBase {
   public:
    using FutureAwaiterBase::FutureAwaiterBase;
    T await_resume() {
      resume_check();
      f_->check_result();
      return detail::take_value<T>(f_);
    }
  };
  /// Waits until done; returns a copy of the value (a move-only value is moved out:
  /// await it once) or rethrows its exception.
  Awaiter operator co_await() const noexcept { return Awaiter(s_); }
};

/// True for Future<T> and Task<T> handles (asyncio.isfuture).
template <class A>
inline constexpr bool isfuture = std::is_base_of_v<Future<void>, std::remove_cvref_t<A>>;

template <class T>
Future<T> EventLoop::create_future() {
  check_closed();
  return Future<T>(new detail::FutureState<T>(this));
}

}  // namespace aio
