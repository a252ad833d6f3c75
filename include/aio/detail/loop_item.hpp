// aio/detail/loop_item.hpp: what the event loop holds: items in its ready queue and
// targets of its timer heap.
//
// Everything the loop runs is a LoopItem: a callback handle (call_soon, call_later,
// a reader or writer callback) or a task (whose run() is one step of its coroutine).
// The ready queue links items through `next_ready_`, so scheduling never allocates.
// Items are reference counted; the count is atomic because handles may be created and
// dropped on other threads (call_soon_threadsafe).
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <string>
#include <typeinfo>
#include <utility>

#include "aio/detail/context.hpp"
#include "aio/detail/pool.hpp"

namespace aio {
class EventLoop;
}

namespace aio::detail {

/// An async generator the loop tracks from its first iteration until its frame is
/// destroyed, so that shutting down can close the ones left suspended (asyncio's
/// loop._asyncgens and shutdown_asyncgens()).
struct AsyncGenLink {
  AsyncGenLink* prev_gen_ = nullptr;
  AsyncGenLink* next_gen_ = nullptr;
  EventLoop* tracked_by_ = nullptr;
};

class LoopItem {
 public:
  LoopItem() = default;
  LoopItem(const LoopItem&) = delete;
  LoopItem& operator=(const LoopItem&) = delete;

  /// Runs the item from the ready queue. Called from exactly one place: the loop's
  /// iteration. Handles release the queue's reference here.
  virtual void run() = 0;
  /// The loop is closing and drops the item without running it.
  virtual void discard() noexcept {}
  /// A timer entry this item scheduled with `seq` is due (called in deadline order,
  /// after the iteration's ready callbacks, as asyncio appends due timers to _ready).
  virtual void on_timer(std::uint64_t seq) { (void)seq; }
  /// The loop is closing and drops a timer entry of this item that did not fire.
  virtual void timer_dropped() noexcept {}
  /// False once the timer entry `seq` was cancelled, so the heap can drop it lazily.
  virtual bool timer_pending(std::uint64_t seq) const noexcept {
    (void)seq;
    return false;
  }
  /// asyncio's repr() of the object.
  virtual std::string repr() const = 0;
  /// The loop closes while the item is pending (a task): give up on it and leave the
  /// loop's pending list.
  virtual void abandon() noexcept {}

  void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy();
  }
  std::uint32_t use_count() const noexcept { return refs_.load(std::memory_order_relaxed); }

  LoopItem* next_ready_ = nullptr;

 protected:
  virtual ~LoopItem() = default;
  /// Called when the last reference goes; deletes the object.
  virtual void destroy() noexcept { delete this; }
  explicit LoopItem(std::uint32_t refs) : refs_(refs) {}

 private:
  std::atomic<std::uint32_t> refs_{1};
};

/// A callback the loop will call: asyncio's Handle and TimerHandle. It runs in the
/// context current when it was made (a copy; null when no context variable was ever
/// set in that thread), or in the one given to set_context().
class HandleBase : public LoopItem, public PoolAllocated {
  // First: it fits in LoopItem's tail padding.
  bool cancelled_ = false;

 public:
  void run() final {
    if (!cancelled_) invoke_guarded();
    release();
  }
  void discard() noexcept final { release(); }
  void on_timer(std::uint64_t) final {
    heap_loop_ = nullptr;
    if (!cancelled_) invoke_guarded();
  }
  bool timer_pending(std::uint64_t) const noexcept final { return !cancelled_; }
  // Out of the heap: a cancel() after the loop is gone must not count it there.
  void timer_dropped() noexcept final { heap_loop_ = nullptr; }
  std::string repr() const override;

  /// Stops the callback from running; a timer still in a loop's heap is counted there,
  /// so that the loop can drop it early (asyncio's _timer_handle_cancelled).
  void cancel() noexcept;
  bool cancelled() const noexcept { return cancelled_; }
  /// Loop time (seconds) of a timer handle.
  double when() const noexcept { return static_cast<double>(when_ns_) / 1e9; }

  /// Runs the callback in `ctx` instead (adopts the reference; asyncio's context=).
  void set_context(ContextImpl* ctx) noexcept {
    if (context_ != nullptr) context_->release();
    context_ = ctx;
  }

  std::int64_t when_ns_ = -1;  // -1: not a timer
  EventLoop* heap_loop_ = nullptr;  // the loop whose timer heap refers to this handle
  ContextImpl* context_;            // a reference, or null: the empty context

 protected:
  explicit HandleBase(std::uint32_t refs) : LoopItem(refs), context_(copy_current_context()) {}
  ~HandleBase() override {
    if (context_ != nullptr) context_->release();
  }
  virtual void invoke() = 0;
  /// The callable's name for repr(), e.g. "main_()::{lambda()#1}".
  virtual std::string callback_name() const = 0;

 private:
  /// Calls invoke(); an exception goes to the running loop's exception handler as
  /// "Exception in callback ...", as asyncio's Handle._run does.
  void invoke_guarded() noexcept;
};

std::string callable_name(const std::type_info& type, const void* fn_ptr);

/// A callable and its bound arguments, as asyncio's Handle(callback, args).
template <class F, class... Args>
class CallbackHandle final : public HandleBase {
 public:
  template <class G, class... A>
  CallbackHandle(std::uint32_t refs, G&& fn, A&&... args)
      : HandleBase(refs), fn_(std::forward<G>(fn)), args_(std::forward<A>(args)...) {}

 private:
  void invoke() override { std::apply(fn_, args_); }
  std::string callback_name() const override {
    const void* address = nullptr;
    if constexpr (std::is_pointer_v<F> && sizeof(F) == sizeof(void*)) {
      std::memcpy(&address, &fn_, sizeof address);
    }
    return callable_name(typeid(F), address);
  }
  F fn_;
  std::tuple<Args...> args_;
};

/// Something waiting for an attached descriptor's readiness (aio's sockets and
/// pipes): the loop unhooks it, then calls on_io_ready once.
class IoWaiter {
 public:
  virtual void on_io_ready() noexcept = 0;
  /// The loop closed with this still waiting; it will never be called again.
  virtual void on_io_abandoned() noexcept {}

 protected:
  ~IoWaiter() = default;
};

}  // namespace aio::detail
