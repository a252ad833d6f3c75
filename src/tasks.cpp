// Tasks: the step, cancellation, completion, names and repr().
#include "aio/tasks.hpp"

#include <atomic>
#include <cstdio>

#include "format.hpp"

namespace aio {
namespace detail {

namespace {
// asyncio numbers tasks process-wide: Task-1, Task-2, ...
std::atomic<std::uint64_t> g_task_counter{0};
}  // namespace

void report_never_awaited(const CoroLocation& where) noexcept {
  char line[32];
  std::snprintf(line, sizeof line, ":%u", where.line);
  write_stderr(std::string(where.file) + line + ": RuntimeWarning: coroutine '" + where.function +
               "' was never awaited");
}

std::string CoroInfo::repr() const {
  char addr[32];
  std::snprintf(addr, sizeof addr, "%p", address);
  return std::string("<coroutine object ") + function + " at " + addr + ">";
}

TaskStateBase::TaskStateBase(EventLoop* loop, std::coroutine_handle<> root)
    : FutureStateBase(loop, 2),  // one reference for the handle, one for the pending list
      root_(root),
      resume_(root),
      number_(g_task_counter.fetch_add(1, std::memory_order_relaxed) + 1) {
  is_task_ = true;
  prev_task_ = from_item(loop->tasks_tail_);
  if (prev_task_) {
    prev_task_->next_task_ = this;
  } else {
    loop->tasks_head_ = this;
  }
  loop->tasks_tail_ = this;
  ++loop->tasks_count_;
  loop->push_ready(this);  // the first step runs on a later iteration
}

TaskStateBase::~TaskStateBase() {
  if (root_) root_.destroy();
}

void TaskStateBase::run() {
  ThreadState& ts = tls_state;
  if (!started_) {
    started_ = true;
    if (must_cancel_) {
      // Cancelled before its first step: the body never runs.
      must_cancel_ = false;
      status_ = FutureStatus::cancelled;
      schedule_callbacks();
      leave_loop();
      return;
    }
  }
  TaskStateBase* const outer = ts.current_task;
  ts.current_task = this;
  if (!has_context_ && tls_context == nullptr) [[likely]] {
    // No context here or in the task (no variable was set): nothing to swap.
    resume_.resume();
    ts.current_task = outer;
    if (tls_context != nullptr) [[unlikely]] adopt_step_context(std::exchange(tls_context, nullptr));
  } else {
    step_in_context();
    ts.current_task = outer;
  }
  if (root_.done()) finish();
}

void TaskStateBase::step_in_context() {
  ContextImpl* const before = context();
  ContextImpl* ctx = before;
  {
    ContextScope scope(ctx);  // the step runs in the task's context: a pointer swap
    resume_.resume();
  }
  if (ctx != before) adopt_step_context(ctx);
}

void TaskStateBase::adopt_step_context(ContextImpl* ctx) noexcept {
  // The step ran in the empty context and a set() or get_context() made the task's
  // context; this is the reference the thread's current context had.
  ctx->entered_.store(false, std::memory_order_relaxed);
  if (context() == ctx) {
    ctx->release();  // the task took its own reference when it was made
  } else {
    set_context(ctx);
  }
}

ContextImpl* TaskStateBase::get_context() {
  ContextImpl* ctx = context();
  if (ctx == nullptr) {
    ctx = new ContextImpl;
    set_context(ctx);
    if (tls_state.current_task == this && tls_context == nullptr) {
      // Asked from its own step, which runs in the empty context: the new context
      // becomes current too, as a set() makes it (adopt_step_context drops that).
      ctx->add_ref();
      ctx->entered_.store(true, std::memory_order_relaxed);
      tls_context = ctx;
    }
  }
  ctx->add_ref();
  return ctx;
}

void TaskStateBase::set_context(ContextImpl* ctx) noexcept {
  if (extras_ == nullptr) extras_ = new FutureExtras;
  if (extras_->context != nullptr) extras_->context->release();
  extras_->context = ctx;
  has_context_ = ctx != nullptr;
}

void TaskStateBase::finish() {
  CoroPromiseBase& p = root_promise();
  if (p.exception_) {
    std::exception_ptr e = std::exchange(p.exception_, nullptr);
    try {
      std::rethrow_exception(e);
    } catch (const CancelledError& c) {
      must_cancel_ = false;
      status_ = FutureStatus::cancelled;
      set_cancel_message(c.message());
    } catch (...) {
      exception_ = std::move(e);
      status_ = FutureStatus::finished;
      log_traceback_ = true;
    }
  } else if (must_cancel_) {
    // Cancelled right before the coroutine returned: the task ends cancelled.
    must_cancel_ = false;
    status_ = FutureStatus::cancelled;
  } else {
    status_ = FutureStatus::finished;
  }
  schedule_callbacks();
  leave_loop();
}

void TaskStateBase::leave_loop() noexcept {
  if (prev_task_) {
    prev_task_->next_task_ = next_task_;
  } else {
    loop_->tasks_head_ = next_task_;
  }
  if (next_task_) {
    next_task_->prev_task_ = prev_task_;
  } else {
    loop_->tasks_tail_ = prev_task_;
  }
  prev_task_ = next_task_ = nullptr;
  --loop_->tasks_count_;
  release();  // the pending list's reference; may destroy this
}

void TaskStateBase::abandon() noexcept {
  if (root_) {
    root_.destroy();
    root_ = nullptr;
  }
  resume_ = nullptr;
  waiting_on_ = nullptr;
  // It will never finish: what waits for it would hold references forever (a gather
  // of abandoned tasks and those tasks would keep each other alive).
  drop_callbacks();
  leave_loop();
}

bool TaskStateBase::cancel(const std::string& msg) {
  log_traceback_ = false;
  if (done()) return false;
  ++num_cancels_requested_;
  set_cancel_message(msg);
  if (waiting_on_ != nullptr && waiting_on_->cancel_wait(msg)) {
    // What we wait on was cancelled and will wake us with CancelledError. The waiter
    // stays: it may be a task that swallows the cancel, so we may cancel it again.
    return true;
  }
  must_cancel_ = true;  // the next step throws CancelledError
  return true;
}

std::string TaskStateBase::get_name() const {
  if (extras_ != nullptr && !extras_->name.empty()) return extras_->name;
  return "Task-" + std::to_string(number_);
}

void TaskStateBase::set_name(std::string name) {
  if (extras_ == nullptr) extras_ = new FutureExtras;
  extras_->name = std::move(name);
}

std::string TaskStateBase::repr() const {
  // asyncio's _task_repr_info: state, name, coro, wait_for, result/exception, callbacks.
  std::string out = "<Task ";
  out += (must_cancel_ && !done()) ? "cancelling" : state_repr();
  out += " name=" + quote(get_name());
  if (root_) {
    const CoroPromiseBase& p = root_promise();
    char line[32];
    out += " coro=<" + std::string(p.function_) + "() ";
    if (done()) {
      std::snprintf(line, sizeof line, ":%u", p.line_);
      out += "done, defined at " + std::string(p.file_) + line + ">";
    } else {
      std::snprintf(line, sizeof line, ":%u", p.current_line());
      out += "running at " + std::string(p.file_) + line + ">";
    }
  }
  if (waiting_on_ != nullptr) out += " wait_for=" + waiting_on_->wait_repr();
  if (status_ == FutureStatus::finished) {
    out += exception_ ? " exception=" + exception_repr(exception_) : " result=" + result_repr();
  }
  if (std::string cb = callbacks_repr(); !cb.empty()) out += " " + cb;
  return out + ">";
}

TaskStateBase* current_task_state() noexcept { return tls_state.current_task; }

void throw_outside_task(const char* what) { throw RuntimeError(std::string(what) + " must be awaited inside a task"); }

namespace {
// Named as asyncio's, for the repr of the main task ("cb=[_run_until_complete_cb()]").
struct _run_until_complete_cb {
  EventLoop* loop;
  void operator()() const { loop->stop(); }
};
}  // namespace

void run_until_done(EventLoop& loop, const Future<void>& f) {
  const CallbackId id = f.add_done_callback(_run_until_complete_cb{&loop});
  try {
    loop.run_forever();
  } catch (...) {
    f.remove_done_callback(id);
    throw;
  }
  f.remove_done_callback(id);
  if (!f.done()) throw RuntimeError("Event loop stopped before Future completed.");
}

}  // namespace detail

Task<> current_task() {
  detail::TaskStateBase* t = detail::tls_state.current_task;
  if (t == nullptr) return Task<>();
  t->add_ref();
  return Task<>(t);
}

std::vector<Task<>> all_tasks() {
  EventLoop& loop = get_running_loop();
  std::vector<Task<>> out;
  for (auto* t = detail::TaskStateBase::from_item(loop.first_pending_task()); t != nullptr; t = t->next_task_) {
    t->add_ref();
    out.emplace_back(t);
  }
  return out;
}

}  // namespace aio
