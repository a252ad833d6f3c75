// aio/detail/waitlist.hpp: the queue of tasks waiting on a lock, an event, a
// condition, a semaphore or a queue.
//
// asyncio gives each waiter a Future in a deque. Here the waiter is a WaitNode that
// lives in the awaiting coroutine's frame (the awaiter object itself), linked into an
// intrusive FIFO list: waiting allocates nothing.
//
// A node goes through: linked (waiting) -> woken (the primitive chose it; the task is
// scheduled) or cancelled (the task was cancelled while waiting; it is unlinked and
// scheduled). A woken node may stay linked until its task runs (Lock and Semaphore do
// this, as asyncio leaves the done future in its deque) or be unlinked at once (Queue
// pops it, as asyncio does). A cancel that arrives after the wake-up cannot undo it:
// the task resumes, sees the cancel, and the primitive passes the wake-up on.
#pragma once

#include <coroutine>
#include <cstddef>
#include <string>

#include "aio/tasks.hpp"

namespace aio::detail {

class WaitList;

class WaitNode : public Waiter {
 public:
  WaitNode() = default;
  // Awaiters may be moved before they suspend, never after.
  WaitNode(WaitNode&&) noexcept {}
  WaitNode(const WaitNode&) = delete;
  WaitNode& operator=(const WaitNode&) = delete;
  ~WaitNode();

  bool linked() const noexcept { return list_ != nullptr; }
  bool woken() const noexcept { return woken_; }
  /// Did this wait suspend at all (false: it completed without waiting).
  bool suspended() const noexcept { return task_ != nullptr; }

  /// Links at the back of `list` and suspends the current task there.
  void wait_on(WaitList& list, std::coroutine_handle<> h, const char* what);
  /// After the task resumed: leaves the list if still in it and reports whether the
  /// wait ended in a cancellation (before or after a wake-up). Consumes the task's
  /// pending cancel request, so the caller must throw task()->cancelled error.
  bool finish() noexcept;
  [[noreturn]] void throw_cancelled() const { task_->throw_cancelled(); }

  bool cancel_wait(const std::string& msg) override;
  std::string wait_repr() const override { return "<Future pending cb=[Task.task_wakeup()]>"; }

 private:
  friend class WaitList;
  TaskStateBase* task_ = nullptr;
  WaitNode* prev_ = nullptr;
  WaitNode* next_ = nullptr;
  WaitList* list_ = nullptr;
  bool woken_ = false;
  bool cancelled_ = false;
};

class WaitList {
 public:
  WaitList() = default;
  WaitList(const WaitList&) = delete;
  WaitList& operator=(const WaitList&) = delete;
  /// A primitive destroyed while tasks wait on it: they stay suspended (until their
  /// loop closes) and no longer refer to it.
  ~WaitList();

  bool empty() const noexcept { return head_ == nullptr; }
  std::size_t size() const noexcept { return size_; }
  WaitNode* front() const noexcept { return head_; }
  static WaitNode* next(const WaitNode* n) noexcept { return n->next_; }

  void push_back(WaitNode* n) noexcept;
  void erase(WaitNode* n) noexcept;
  /// Schedules n's task; n stays linked.
  static void wake(WaitNode* n) noexcept;
  /// The first node not yet woken, or null.
  WaitNode* first_waiting() const noexcept;
  /// Unlinks the first node and wakes it; false when empty (asyncio's _wakeup_next
  /// with a deque that only holds pending futures).
  bool pop_and_wake() noexcept;
  /// Wakes every node not yet woken; they stay linked.
  void wake_all() noexcept;

 private:
  WaitNode* head_ = nullptr;
  WaitNode* tail_ = nullptr;
  std::size_t size_ = 0;
};

inline void WaitList::push_back(WaitNode* n) noexcept {
  n->list_ = this;
  n->prev_ = tail_;
  n->next_ = nullptr;
  if (tail_ != nullptr) {
    tail_->next_ = n;
  } else {
    head_ = n;
  }
  tail_ = n;
  ++size_;
}

inline void WaitList::erase(WaitNode* n) noexcept {
  (n->prev_ ? n->prev_->next_ : head_) = n->next_;
  (n->next_ ? n->next_->prev_ : tail_) = n->prev_;
  n->prev_ = n->next_ = nullptr;
  n->list_ = nullptr;
  --size_;
}

inline void WaitList::wake(WaitNode* n) noexcept {
  n->woken_ = true;
  n->task_->wakeup();
}

inline bool WaitList::pop_and_wake() noexcept {
  WaitNode* n = head_;
  if (n == nullptr) return false;
  erase(n);
  wake(n);
  return true;
}

inline WaitNode* WaitList::first_waiting() const noexcept {
  WaitNode* n = head_;
  while (n != nullptr && n->woken_) n = n->next_;
  return n;
}

inline void WaitList::wake_all() noexcept {
  for (WaitNode* n = head_; n != nullptr; n = n->next_) {
    if (!n->woken_) wake(n);
  }
}

inline WaitList::~WaitList() {
  while (head_ != nullptr) erase(head_);
}

inline WaitNode::~WaitNode() {
  if (list_ != nullptr) list_->erase(this);
  // The frame died while waiting (its loop closed).
  if (task_ != nullptr && task_->waiting_on_ == this) task_->waiting_on_ = nullptr;
}

inline void WaitNode::wait_on(WaitList& list, std::coroutine_handle<> h, const char* what) {
  task_ = current_task_checked(what);
  list.push_back(this);
  task_->suspend(h, this);
}

inline bool WaitNode::finish() noexcept {
  if (list_ != nullptr) list_->erase(this);
  const bool late_cancel = task_->take_cancel();
  return cancelled_ || late_cancel;
}

inline bool WaitNode::cancel_wait(const std::string&) {
  if (woken_ || cancelled_) return false;  // too late: the task resumes and sees the cancel
  if (list_ != nullptr) list_->erase(this);
  cancelled_ = true;
  task_->wakeup();
  return true;
}

}  // namespace aio::detail
