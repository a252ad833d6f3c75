// aio/detail/io_wait.hpp: suspending a task until a descriptor is ready.
//
// aio's sockets and pipes are registered once with the loop, edge-triggered
// (EventLoop::attach_io). An operation first tries its system call; when that finds
// the descriptor drained (EAGAIN, or a short read) it clears the loop's readiness
// flag and awaits an IoWait, which resumes the task when the next edge arrives. The
// awaiter lives in the coroutine frame: waiting allocates nothing.
#pragma once

#include <coroutine>
#include <string>

#include "aio/events.hpp"
#include "aio/tasks.hpp"

namespace aio::detail {

/// Marks an operation in progress (a stream's or socket's one reader, one sender) for
/// the life of the frame that holds it, whichever way that frame ends.
struct BusyFlag {
  explicit BusyFlag(bool& f) noexcept : flag(f) { flag = true; }
  BusyFlag(const BusyFlag&) = delete;
  BusyFlag& operator=(const BusyFlag&) = delete;
  ~BusyFlag() { flag = false; }
  bool& flag;
};

class [[nodiscard]] IoWait final : public Waiter, public IoWaiter {
 public:
  /// Waits for `fd` (attached to `loop`) to become readable, or writable.
  IoWait(EventLoop& loop, int fd, bool write) noexcept : loop_(loop), fd_(fd), write_(write) {}
  IoWait(IoWait&& o) noexcept : loop_(o.loop_), fd_(o.fd_), write_(o.write_) {}
  ~IoWait() {
    if (registered_) loop_.set_io_waiter(fd_, write_, nullptr);
    if (task_ != nullptr && task_->waiting_on_ == this) task_->waiting_on_ = nullptr;
  }

  /// Ready at once if an edge arrived since the flag was last cleared.
  bool await_ready() const noexcept { return loop_.io_ready(fd_, write_); }
  void await_suspend(std::coroutine_handle<> h) {
    task_ = current_task_checked(write_ ? "waiting for a writable descriptor" : "waiting for a readable descriptor");
    loop_.set_io_waiter(fd_, write_, this);
    registered_ = true;
    task_->suspend(h, this);
  }
  void await_resume() {
    if (task_ != nullptr && (cancelled_ || task_->take_cancel())) task_->throw_cancelled();
  }

  void on_io_ready() noexcept override {
    registered_ = false;  // the loop unhooked us
    task_->wakeup();
  }
  bool cancel_wait(const std::string&) override {
    if (!registered_) return false;  // already woken: the task sees the cancel when it resumes
    loop_.set_io_waiter(fd_, write_, nullptr);
    registered_ = false;
    cancelled_ = true;
    task_->wakeup();
    return true;
  }
  std::string wait_repr() const override { return "<Future pending cb=[Task.task_wakeup()]>"; }

 private:
  EventLoop& loop_;
  TaskStateBase* task_ = nullptr;
  int fd_;
  bool write_;
  bool registered_ = false;
  bool cancelled_ = false;
};

}  // namespace aio::detail
