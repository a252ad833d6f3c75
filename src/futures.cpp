// Future state: results, callbacks, and the reports asyncio makes when a future dies.
#include "aio/futures.hpp"

#include "aio/tasks.hpp"
#include "format.hpp"

namespace aio {

namespace detail {

namespace {
thread_local CallbackId tls_callback_ids = 0;
}

FutureStateBase::~FutureStateBase() {
  drop_callbacks();
  delete extras_;
}

template <class Fn>
void FutureStateBase::unlink_callbacks(Fn each) noexcept {
  FutureCallback* cb = std::exchange(cb_head_, nullptr);
  cb_tail_ = nullptr;
  while (cb != nullptr) {
    FutureCallback* next = cb->next_cb_;
    cb->linked_to_ = nullptr;
    cb->prev_cb_ = cb->next_cb_ = nullptr;
    each(cb);
    cb = next;
  }
}

void FutureStateBase::drop_callbacks() noexcept {
  unlink_callbacks([](FutureCallback* cb) { cb->drop(); });
}

void FutureStateBase::destroy() noexcept {
  if (log_traceback_) {
    // asyncio: "Future/Task exception was never retrieved", from __del__.
    ExceptionContext ctx;
    ctx.message = is_task_ ? "Task exception was never retrieved" : "Future exception was never retrieved";
    ctx.exception = exception_;
    try {
      ctx.future = repr();
    } catch (...) {
    }
    if (loop_is_alive(loop_)) {
      loop_->call_exception_handler(ctx);
    } else {
      write_stderr(ctx.message + "\nfuture: " + ctx.future + "\n" + exception_str(ctx.exception));
    }
  }
  delete this;
}

void FutureStateBase::set_cancel_message(const std::string& msg) {
  if (msg.empty() && extras_ == nullptr) return;
  if (extras_ == nullptr) extras_ = new FutureExtras;
  extras_->cancel_msg = msg;
}

void FutureStateBase::throw_cancelled() const { throw CancelledError(cancel_message()); }

bool FutureStateBase::cancel(const std::string& msg) {
  log_traceback_ = false;
  if (done()) return false;
  status_ = FutureStatus::cancelled;
  set_cancel_message(msg);
  schedule_callbacks();
  return true;
}

void FutureStateBase::finish_result() {
  if (done()) throw InvalidStateError("invalid state: " + repr());
  status_ = FutureStatus::finished;
  schedule_callbacks();
}

void FutureStateBase::set_exception(std::exception_ptr e) {
  if (done()) throw InvalidStateError("invalid state: " + repr());
  if (!e) throw TypeError("set_exception() needs an exception");
  exception_ = std::move(e);
  status_ = FutureStatus::finished;
  log_traceback_ = true;
  schedule_callbacks();
}

void FutureStateBase::check_result() {
  if (status_ == FutureStatus::cancelled) throw_cancelled();
  if (status_ == FutureStatus::pending) throw InvalidStateError("Result is not ready.");
  log_traceback_ = false;
  if (exception_) std::rethrow_exception(exception_);
}

std::exception_ptr FutureStateBase::exception() {
  if (status_ == FutureStatus::cancelled) throw_cancelled();
  if (status_ == FutureStatus::pending) throw InvalidStateError("Exception is not set.");
  log_traceback_ = false;
  return exception_;
}

void FutureStateBase::schedule_callbacks() noexcept {
  unlink_callbacks([this](FutureCallback* cb) { cb->on_future_done(*this); });
}

void FutureStateBase::add_callback(FutureCallback* cb) noexcept {
  cb->linked_to_ = this;
  cb->next_cb_ = nullptr;
  cb->prev_cb_ = cb_tail_;
  if (cb_tail_ != nullptr) {
    cb_tail_->next_cb_ = cb;
  } else {
    cb_head_ = cb;
  }
  cb_tail_ = cb;
}

void FutureStateBase::remove_callback(FutureCallback* cb) noexcept {
  if (cb->linked_to_ != this) return;
  (cb->prev_cb_ ? cb->prev_cb_->next_cb_ : cb_head_) = cb->next_cb_;
  (cb->next_cb_ ? cb->next_cb_->prev_cb_ : cb_tail_) = cb->prev_cb_;
  cb->prev_cb_ = cb->next_cb_ = nullptr;
  cb->linked_to_ = nullptr;
}

CallbackId FutureStateBase::add_done_callback(FutureCallback* cb) {
  const CallbackId id = ++tls_callback_ids;
  cb->id_ = id;
  if (done()) {
    cb->on_future_done(*this);  // scheduled for the next iteration, as call_soon
  } else {
    add_callback(cb);
  }
  return id;
}

std::size_t FutureStateBase::remove_done_callback(CallbackId id) noexcept {
  std::size_t removed = 0;
  for (FutureCallback* cb = cb_head_; cb != nullptr;) {
    FutureCallback* next = cb->next_cb_;
    if (cb->id_ == id && id != 0) {
      remove_callback(cb);
      cb->drop();
      ++removed;
    }
    cb = next;
  }
  return removed;
}

std::string FutureStateBase::state_repr() const {
  switch (status_) {
    case FutureStatus::pending: return "pending";
    case FutureStatus::finished: return "finished";
    case FutureStatus::cancelled: return "cancelled";
  }
  return "?";
}

std::string FutureStateBase::callbacks_repr() const {
  // asyncio's _format_callbacks: one, two, or "first, <N more>, last".
  std::size_t n = 0;
  for (FutureCallback* cb = cb_head_; cb != nullptr; cb = cb->next_cb_) ++n;
  if (n == 0) return {};
  std::string out = "cb=[" + cb_head_->callback_repr();
  if (n == 2) {
    out += ", " + cb_tail_->callback_repr();
  } else if (n > 2) {
    out += ", <" + std::to_string(n - 2) + " more>, " + cb_tail_->callback_repr();
  }
  return out + "]";
}

std::string FutureStateBase::repr() const {
  std::string out = "<Future " + state_repr();
  if (status_ == FutureStatus::finished) {
    out += exception_ ? " exception=" + exception_repr(exception_) : " result=" + result_repr();
  }
  if (std::string cb = callbacks_repr(); !cb.empty()) out += " " + cb;
  return out + ">";
}

void FutureAwaiterBase::await_suspend(std::coroutine_handle<> h) {
  task_ = current_task_checked("await a future");
  if (f_ == task_) throw RuntimeError("Task cannot await on itself: " + task_->repr());
  if (f_->loop_ != task_->loop_) throw RuntimeError("Task " + task_->repr() + " got Future " + f_->repr() + " attached to a different loop");
  f_->add_callback(this);
  task_->suspend(h, this);
}

void FutureAwaiterBase::on_future_done(FutureStateBase&) noexcept { task_->wakeup(); }

void FutureAwaiterBase::resume_check() {
  if (task_ != nullptr) {
    if (task_->waiting_on_ == this) task_->waiting_on_ = nullptr;
    if (task_->take_cancel()) task_->throw_cancelled();
  }
}

}  // namespace detail

Future<void>::Future() : s_(new detail::FutureState<void>(&get_event_loop())) {}

}  // namespace aio
