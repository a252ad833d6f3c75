// TaskGroup: asyncio.taskgroups.TaskGroup, decision for decision.
#include "aio/taskgroups.hpp"

#include <cstdio>

namespace aio {

TaskGroup::TaskGroup(TaskGroup&& o) : loop_(o.loop_) {
  // async_with moves the group into its frame before entering it; an entered group's
  // callbacks point at it, so it stays where it is.
  if (o.entered_) throw RuntimeError("TaskGroup " + o.repr() + " cannot be moved once entered");
}

TaskGroup::~TaskGroup() {
  // A group left without aexit (misuse): its callbacks must not outlive it.
  for (Tracked& t : tasks_) t.task.remove_done_callback(t.callback);
}

std::string TaskGroup::repr() const {
  std::string out = "<TaskGroup";
  if (!tasks_.empty()) out += " tasks=" + std::to_string(tasks_.size());
  if (!errors_.empty()) out += " errors=" + std::to_string(errors_.size());
  if (aborting_) out += " cancelling";
  else if (entered_) out += " entered";
  return out + ">";
}

Coro<> TaskGroup::aenter() {
  if (entered_) throw RuntimeError("TaskGroup " + repr() + " has already been entered");
  if (loop_ == nullptr) loop_ = &get_running_loop();
  parent_task_ = current_task();
  if (!parent_task_) throw RuntimeError("TaskGroup " + repr() + " cannot determine the parent task");
  entered_ = true;
  co_return;
}

void TaskGroup::check_can_create() const {
  if (!entered_) throw RuntimeError("TaskGroup " + repr() + " has not been entered");
  if (exiting_ && tasks_.empty()) throw RuntimeError("TaskGroup " + repr() + " is finished");
  if (aborting_) throw RuntimeError("TaskGroup " + repr() + " is shutting down");
}

void TaskGroup::track(Task<> task) {
  const CallbackId id = task.add_done_callback([this](Task<>& t) { on_task_done(t); });
  detail::FutureStateBase* key = task.state();
  index_.emplace(key, tasks_.insert(tasks_.end(), Tracked{std::move(task), id}));
}

void TaskGroup::abort() {
  aborting_ = true;
  for (Tracked& t : tasks_) {
    if (!t.task.done()) t.task.cancel();
  }
}

void TaskGroup::on_task_done(Task<>& task) {
  if (auto it = index_.find(task.state()); it != index_.end()) {
    tasks_.erase(it->second);
    index_.erase(it);
  }
  if (on_completed_fut_ && tasks_.empty() && !on_completed_fut_.done()) on_completed_fut_.set_result();
  if (task.cancelled()) return;
  std::exception_ptr exc = task.exception();
  if (!exc) return;
  errors_.push_back(exc);
  if (!base_error_) {
    try {
      std::rethrow_exception(exc);
    } catch (const KeyboardInterrupt&) {
      base_error_ = exc;
    } catch (...) {
    }
  }
  if (parent_task_.done()) {
    ExceptionContext ctx;
    ctx.message = "Task " + task.repr() + " has errored out but its parent task " + parent_task_.repr() +
                  " is already completed";
    ctx.exception = exc;
    ctx.task = task.repr();
    loop_->call_exception_handler(ctx);
    return;
  }
  if (!aborting_ && !parent_cancel_requested_) {
    // The parent is not being cancelled: cancel it to stop the body, and remember to
    // take that cancel back in aexit.
    abort();
    parent_cancel_requested_ = true;
    parent_task_.cancel();
  }
}

Coro<> TaskGroup::aexit(std::exception_ptr error) {
  exiting_ = true;
  const bool error_is_cancel = is_cancelled_error(error);
  if (error && !base_error_) {
    try {
      std::rethrow_exception(error);
    } catch (const KeyboardInterrupt&) {
      base_error_ = error;
    } catch (...) {
    }
  }
  std::exception_ptr propagate_cancellation = error_is_cancel ? error : nullptr;
  if (parent_cancel_requested_) {
    // We cancelled the parent ourselves: take it back; if nothing else cancels it,
    // the CancelledError is ours and does not propagate.
    if (parent_task_.uncancel() == 0) propagate_cancellation = nullptr;
  }
  if (error && !aborting_) abort();  // the body failed, or the parent is cancelled

  while (!tasks_.empty()) {
    if (!on_completed_fut_) on_completed_fut_ = loop_->create_future();
    try {
      co_await on_completed_fut_;
    } catch (const CancelledError&) {
      if (!aborting_) {
        // The parent is cancelled while we wait for the children.
        propagate_cancellation = std::current_exception();
        abort();
      }
    }
    on_completed_fut_ = nullptr;
  }

  if (base_error_) std::rethrow_exception(base_error_);
  if (propagate_cancellation && errors_.empty()) std::rethrow_exception(propagate_cancellation);
  if (error && !error_is_cancel) errors_.push_back(error);
  if (!errors_.empty()) {
    std::vector<std::exception_ptr> errors = std::move(errors_);
    errors_.clear();
    throw ExceptionGroup("unhandled errors in a TaskGroup", std::move(errors));
  }
}

}  // namespace aio
