// aio/detail/context.hpp: what the loop needs of contextvars (contextvars.hpp): the
// thread's current context and a context's reference count, so that callback handles
// and task steps can carry one.
//
// A context (Python's contextvars.Context) is a mutable handle over an immutable
// mapping from variables to values: copying a context shares the mapping; set() in a
// context replaces its mapping with a new one. The thread's current context is a plain
// thread-local pointer, null until a variable is first set in this thread: with no
// variable ever set, "copying the current context" copies a null pointer and entering
// a context is one pointer swap, so tasks and callbacks pay nothing for contextvars.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace aio::detail {

/// One variable's value in a context. `var` is the variable's process-wide id (never
/// reused, unlike its address); `value` holds a T of that variable's type.
struct ContextEntry {
  std::uint64_t var;
  std::shared_ptr<const void> value;
};
/// The immutable mapping, sorted by variable id. Shared between contexts (and
/// threads) and never changed once made: set() makes a new one.
using ContextMap = std::vector<ContextEntry>;

/// A context. Lives as long as its references: Context handles, tasks and callback
/// handles that run in it, tokens made in it, and, for a context made by a set() where
/// none was current, the scope it was made in (see ContextScope).
class ContextImpl {
 public:
  ContextImpl() = default;
  explicit ContextImpl(std::shared_ptr<const ContextMap> map) noexcept : map_(std::move(map)) {}
  ContextImpl(const ContextImpl&) = delete;
  ContextImpl& operator=(const ContextImpl&) = delete;

  /// A new context sharing this one's mapping (contextvars.copy_context()).
  ContextImpl* copy() const { return new ContextImpl(map_); }
  void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  /// Null: no variable has a value. Changed only by the thread the context is
  /// entered in (a context is entered by one thread at a time).
  std::shared_ptr<const ContextMap> map_;
  /// Some thread runs in it: Context::run refuses to enter it again.
  std::atomic<bool> entered_{false};

 private:
  ~ContextImpl() = default;
  std::atomic<std::uint32_t> refs_{1};
};

/// The context this thread runs in; null: the thread's empty context, not made yet.
/// Not owned: whoever made it current holds a reference (ContextScope).
inline thread_local ContextImpl* tls_context = nullptr;

/// A copy of the current context, or null when there is none (the nil-cost path).
inline ContextImpl* copy_current_context() {
  ContextImpl* const c = tls_context;
  return c != nullptr ? c->copy() : nullptr;
}

/// Owns a reference to a context, or null (the empty one).
class ContextRef {
 public:
  explicit ContextRef(ContextImpl* adopt = nullptr) noexcept : p_(adopt) {}
  ContextRef(const ContextRef& o) noexcept : p_(o.p_) {
    if (p_ != nullptr) p_->add_ref();
  }
  ContextRef(ContextRef&& o) noexcept : p_(o.p_) { o.p_ = nullptr; }
  ContextRef& operator=(ContextRef o) noexcept {
    ContextImpl* t = p_;
    p_ = o.p_;
    o.p_ = t;
    return *this;
  }
  ~ContextRef() {
    if (p_ != nullptr) p_->release();
  }
  /// The slot a ContextScope runs in.
  ContextImpl*& slot() noexcept { return p_; }

 private:
  ContextImpl* p_;
};

/// Runs a task step, a callback or a to_thread() call in the context `slot` (null:
/// the empty one) and restores the thread's context afterwards. A set() in a null
/// context makes the context there and then (contextvars.cpp); the scope hands it to
/// `slot`, so that the task or callback keeps it for its next run.
class ContextScope {
 public:
  explicit ContextScope(ContextImpl*& slot) noexcept : slot_(slot), outer_(tls_context) {
    if (slot != outer_) [[unlikely]] enter();
  }
  ~ContextScope() {
    if (tls_context != outer_ || slot_ != outer_) [[unlikely]] leave();
  }
  ContextScope(const ContextScope&) = delete;
  ContextScope& operator=(const ContextScope&) = delete;

 private:
  void enter() noexcept {
    tls_context = slot_;
    if (slot_ != nullptr) was_entered_ = slot_->entered_.exchange(true, std::memory_order_relaxed);
  }
  void leave() noexcept {
    ContextImpl* const now = tls_context;
    // A set() made the context (slot_ was null): the slot adopts its reference.
    if (now != slot_) slot_ = now;
    if (now != nullptr && !was_entered_) now->entered_.store(false, std::memory_order_relaxed);
    tls_context = outer_;
  }

  ContextImpl*& slot_;
  ContextImpl* const outer_;
  bool was_entered_ = false;
};

}  // namespace aio::detail
