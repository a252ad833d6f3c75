// aio/tasks.hpp: Task<T>, create_task, current_task, all_tasks, sleep, ensure_future
// (asyncio.tasks). gather, wait, wait_for, as_completed and shield, which asyncio also
// keeps in asyncio.tasks, have their own headers.
//
// A task drives a coroutine on the loop: create_task schedules its first step for the
// next iteration; each step resumes the coroutine until it suspends on something aio
// can wait for (a future, a task, a sleep, a lock...) or finishes. The loop holds a
// reference on every pending task, so a task nobody references still runs to its end.
//
// Cancellation follows asyncio: cancel(msg) cancels what the task waits on (and that
// wakes it with CancelledError(msg)), or, when it waits on nothing, makes its next step
// throw CancelledError at the suspension point. The task ends cancelled only if the
// CancelledError leaves the coroutine.
#pragma once

#include <coroutine>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "aio/coro.hpp"
#include "aio/events.hpp"
#include "aio/futures.hpp"

namespace aio {

namespace detail {

/// The untyped part of a task. State of a task's fields:
/// - pending, not started: `started_` false; resume_ == root_ (at its initial suspend).
/// - pending, scheduled: in the loop's ready queue; waiting_on_ is null.
/// - pending, waiting: waiting_on_ names what it waits for, resume_ the coroutine
///   to resume; the waited-for thing calls wakeup() once.
/// - done: status_ is finished or cancelled; not in the pending list; root_ is kept
///   (at its final suspend point) because the result lives in its promise.
class TaskStateBase : public FutureStateBase {
 public:
  TaskStateBase(EventLoop* loop, std::coroutine_handle<> root);

  void run() final;  // one step
  bool cancel(const std::string& msg) final;
  void on_timer(std::uint64_t seq) final {
    if (seq == sleep_seq_) {
      sleep_seq_ = 0;
      wakeup();
    }
  }
  bool timer_pending(std::uint64_t seq) const noexcept final { return seq == sleep_seq_; }
  std::string repr() const final;

  /// Called by an awaiter once it registered with what it waits for.
  void suspend(std::coroutine_handle<> h, Waiter* w) {
    resume_ = h;
    waiting_on_ = w;
    // A cancel that arrived while the task ran applies to this wait (asyncio __step).
    if (must_cancel_ && w->cancel_wait(cancel_message())) must_cancel_ = false;
  }
  /// Reschedules the task without waiting on anything (sleep(0)).
  void yield_now(std::coroutine_handle<> h) noexcept {
    resume_ = h;
    waiting_on_ = nullptr;
    loop_->push_ready(this);
  }
  /// What the task waited for is ready: schedule the next step.
  void wakeup() noexcept {
    waiting_on_ = nullptr;
    loop_->push_ready(this);
  }
  /// Takes a pending cancel request (asyncio's _must_cancel).
  bool take_cancel() noexcept { return std::exchange(must_cancel_, false); }
  [[noreturn]] void throw_cancelled() const { throw CancelledError(cancel_message()); }

  std::string get_name() const;
  void set_name(std::string name);
  /// The context every step runs in (null: the empty one); set_context adopts a
  /// reference. Kept in extras_ so that a task without one stays 128 bytes.
  ContextImpl* context() const noexcept { return extras_ != nullptr ? extras_->context : nullptr; }
  void set_context(ContextImpl* ctx) noexcept;
  /// The task's context, made when it has none yet (a reference, for Context).
  ContextImpl* get_context();
  std::uint32_t cancelling() const noexcept { return num_cancels_requested_; }
  std::uint32_t uncancel() noexcept {
    if (num_cancels_requested_ > 0) --num_cancels_requested_;
    return num_cancels_requested_;
  }
  virtual CoroPromiseBase& root_promise() const noexcept = 0;
  /// The loop is closing with the task still pending: destroy its coroutine and leave
  /// the pending list. The task stays pending forever.
  void abandon() noexcept final;
  static TaskStateBase* from_item(LoopItem* item) noexcept { return static_cast<TaskStateBase*>(item); }

  std::coroutine_handle<> root_;    // the task's coroutine, destroyed with the state
  std::coroutine_handle<> resume_;  // where the next step resumes
  Waiter* waiting_on_ = nullptr;
  TaskStateBase* prev_task_ = nullptr;  // the loop's list of pending tasks
  TaskStateBase* next_task_ = nullptr;
  std::uint64_t number_;              // the N of "Task-N"
  std::uint64_t sleep_seq_ = 0;       // timer entry of the current sleep; 0: none
  std::uint32_t num_cancels_requested_ = 0;
  bool must_cancel_ = false;
  bool started_ = false;
  bool has_context_ = false;  // extras_->context is set: the step enters it

 protected:
  ~TaskStateBase() override;

 private:
  void step_in_context();
  void adopt_step_context(ContextImpl* ctx) noexcept;
  void finish();  // the root coroutine ended: record how, then leave the pending list
  void finish_cancelled_unstarted();
  void leave_loop() noexcept;
};

template <class T>
class TaskState final : public TaskStateBase {
 public:
  using TaskStateBase::TaskStateBase;
  CoroPromise<T>& promise() const noexcept {
    return std::coroutine_handle<CoroPromise<T>>::from_address(root_.address()).promise();
  }
  CoroPromiseBase& root_promise() const noexcept override { return promise(); }
  void* value_address() noexcept override {
    if constexpr (std::is_void_v<T>) {
      return nullptr;
    } else {
      return status_ == FutureStatus::finished && root_ ? promise().value_address() : nullptr;
    }
  }
  bool has_value_type() const noexcept override { return !std::is_void_v<T>; }
  std::string result_repr() const override {
    if constexpr (std::is_void_v<T>) {
      return "None";
    } else {
      auto* v = const_cast<TaskState*>(this)->value_address();
      return v ? value_repr(*static_cast<T*>(v)) : "None";
    }
  }
};

TaskStateBase* current_task_state() noexcept;

/// Task methods shared by Task<void> and Task<T>.
template <class Self>
class TaskMethods {
 public:
  /// "Task-N" unless set_name() was called.
  std::string get_name() const { return st()->get_name(); }
  void set_name(std::string name) const { st()->set_name(std::move(name)); }
  /// How many cancel() requests are pending (asyncio.Task.cancelling()).
  std::uint32_t cancelling() const noexcept { return st()->cancelling(); }
  /// Withdraws one cancel() request; returns how many remain.
  std::uint32_t uncancel() const noexcept { return st()->uncancel(); }
  /// The context the task runs in (asyncio.Task.get_context(), 3.12).
  Context get_context() const { return Context(st()->get_context()); }
  /// The coroutine's function name, file, definition line and frame address;
  /// repr() reads like Python's "<coroutine object main at 0x...>".
  CoroInfo get_coro() const noexcept {
    const CoroLocation where = st()->root_promise().location();
    return {where.function, where.file, where.line, st()->root_.address()};
  }

 private:
  TaskStateBase* st() const noexcept {
    return static_cast<TaskStateBase*>(static_cast<const Self*>(this)->state());
  }
};

}  // namespace detail

template <class T = void>
class Task;

/// A running coroutine (asyncio.Task). Copyable handle; a Task is a Future.
/// Task<void> is also the untyped view of any task.
template <>
class Task<void> : public Future<void>, public detail::TaskMethods<Task<void>> {
 public:
  Task() noexcept : Future<void>(nullptr) {}
  Task(std::nullptr_t) noexcept : Future<void>(nullptr) {}  // NOLINT
  explicit Task(detail::FutureStateBase* s) noexcept : Future<void>(s) {}
  /// Any task, viewed without its result type.
  template <class U>
  Task(const Task<U>& t) noexcept : Future<void>(static_cast<const Future<void>&>(t)) {}  // NOLINT
  template <class F>
  CallbackId add_done_callback(F&& fn) const {
    return add_callback_as(*this, std::forward<F>(fn));
  }
  template <class F>
  CallbackId add_done_callback(F&& fn, const Context& context) const {
    return add_callback_as(*this, std::forward<F>(fn), &context);
  }
};

template <class T>
class Task : public Future<T>, public detail::TaskMethods<Task<T>> {
 public:
  Task() noexcept : Future<T>(nullptr) {}
  Task(std::nullptr_t) noexcept : Future<T>(nullptr) {}  // NOLINT
  explicit Task(detail::FutureStateBase* s) noexcept : Future<T>(s) {}
  template <class F>
  CallbackId add_done_callback(F&& fn) const {
    return Future<void>::add_callback_as(*this, std::forward<F>(fn));
  }
  template <class F>
  CallbackId add_done_callback(F&& fn, const Context& context) const {
    return Future<void>::add_callback_as(*this, std::forward<F>(fn), &context);
  }
};

template <class T>
Task<T> EventLoop::create_task(Coro<T> coro, std::string name) {
  check_closed();
  if (!coro) throw TypeError("create_task() needs a coroutine");
  auto* s = new detail::TaskState<T>(this, coro.release());
  if (!name.empty()) s->set_name(std::move(name));
  // asyncio: context=None runs the task in copy_context(); no variable set: nothing.
  if (detail::tls_context != nullptr) [[unlikely]] s->set_context(detail::copy_current_context());
  return Task<T>(s);
}

template <class T>
Task<T> EventLoop::create_task(Coro<T> coro, std::string name, const Context& context) {
  check_closed();
  if (!coro) throw TypeError("create_task() needs a coroutine");
  auto* s = new detail::TaskState<T>(this, coro.release());
  if (!name.empty()) s->set_name(std::move(name));
  context.impl()->add_ref();
  s->set_context(context.impl());
  return Task<T>(s);
}

/// Schedules the coroutine as a task on the running loop; its first step runs on a
/// later iteration. The loop keeps it alive until it finishes. Every step runs in a
/// copy of the context current now, or in `context` (shared with whoever else runs
/// in it: asyncio's create_task(coro, name=, context=)).
template <class T>
Task<T> create_task(Coro<T> coro, std::string name = {}) {
  return get_running_loop().create_task(std::move(coro), std::move(name));
}
template <class T>
Task<T> create_task(Coro<T> coro, std::string name, const Context& context) {
  return get_running_loop().create_task(std::move(coro), std::move(name), context);
}
template <class T>
Task<T> create_task(Coro<T> coro, const Context& context) {
  return get_running_loop().create_task(std::move(coro), std::string(), context);
}

/// Any other awaitable (sleep(), ...) runs as a task through a coroutine around it.
template <Awaitable A>
  requires(!iscoroutine<A>)
Task<detail::await_result_t<A>> create_task(A awaitable, std::string name = {}) {
  return create_task(detail::as_coro(std::move(awaitable)), std::move(name));
}

/// The task being run, or an empty handle outside a task.
Task<> current_task();
/// The tasks of the running loop that are not done yet.
std::vector<Task<>> all_tasks();

/// A Coro becomes a Task; a Task or a Future is returned as it is.
template <class T>
Task<T> ensure_future(Coro<T> coro) {
  return create_task(std::move(coro));
}
template <class T>
Task<T> ensure_future(Task<T> t) {
  return t;
}
template <class T>
Future<T> ensure_future(Future<T> f) {
  return f;
}

namespace detail {

/// The awaitable of sleep(): a timer entry that wakes the task, no future.
template <class T>
class [[nodiscard]] SleepAwaiter final : public Waiter {
 public:
  using Value = value_or_none<T>;
  SleepAwaiter(std::int64_t delay_ns, Value value) : delay_ns_(delay_ns), value_(std::move(value)) {}
  SleepAwaiter(SleepAwaiter&& o) noexcept : delay_ns_(o.delay_ns_), value_(std::move(o.value_)) {}
  ~SleepAwaiter() {
    // The frame died while sleeping (its loop closed): the timer entry goes stale.
    if (task_ && task_->waiting_on_ == this) {
      task_->waiting_on_ = nullptr;
      task_->sleep_seq_ = 0;
    }
  }
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    task_ = current_task_checked("sleep()");
    EventLoop* loop = task_->loop_;
    if (delay_ns_ <= 0) {
      task_->yield_now(h);  // sleep(0) yields exactly once
      return;
    }
    task_->sleep_seq_ = loop->add_timer(loop->now_ns() + delay_ns_, task_);
    task_->suspend(h, this);
  }
  T await_resume() {
    if (cancelled_ || task_->take_cancel()) task_->throw_cancelled();
    if constexpr (!std::is_void_v<T>) return std::move(value_);
  }
  bool cancel_wait(const std::string&) override {
    task_->sleep_seq_ = 0;
    task_->loop_->timer_cancelled();
    cancelled_ = true;
    task_->wakeup();
    return true;
  }
  std::string wait_repr() const override { return "<Future pending cb=[Task.task_wakeup()]>"; }

 private:
  std::int64_t delay_ns_;
  TaskStateBase* task_ = nullptr;
  bool cancelled_ = false;
  [[no_unique_address]] Value value_;
};

}  // namespace detail

/// Suspends the current task for `delay` (seconds or a duration); sleep(0) yields to
/// the loop exactly once. Cancellation: throws CancelledError at once.
inline detail::SleepAwaiter<void> sleep(Delay delay) { return {delay.ns(), None{}}; }
/// The same, returning `result` (asyncio.sleep(delay, result)).
template <class T>
detail::SleepAwaiter<T> sleep(Delay delay, T result) {
  return {delay.ns(), std::move(result)};
}

template <class T>
T EventLoop::run_until_complete(Coro<T> coro) {
  return run_until_complete(Future<T>(create_task(std::move(coro))));
}

namespace detail {
/// Runs the loop until `f` is done (asyncio's run_until_complete without the result).
void run_until_done(EventLoop& loop, const Future<void>& f);
}  // namespace detail

template <class T>
T EventLoop::run_until_complete(Future<T> future) {
  detail::run_until_done(*this, future);
  if constexpr (std::is_void_v<T>) {
    future.result();
  } else {
    future.state()->check_result();
    return detail::take_value<T>(future.state());
  }
}

}  // namespace aio
