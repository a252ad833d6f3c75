// aio/contextvars.hpp: ContextVar<T>, Token<T>, Context, copy_context (Python's
// contextvars module, with asyncio's use of it).
//
//   inline aio::ContextVar<std::string> request_id("request_id", "-");
//   aio::Coro<> handle(std::string id) {
//     request_id.set(id);          // seen by this task and what it awaits or starts
//     co_await aio::gather(step1(), step2());
//   }
//
// As in Python, a Context maps variables to values; it is a mutable handle over an
// immutable mapping, so copying it is O(1) and a set() changes only the context it is
// made in. Each thread has its own current context. asyncio's integration is aio's:
// create_task() runs every step of the task in a copy of its creator's context (or
// the context given), a coroutine awaited inline shares its caller's context,
// call_soon/call_later/call_at/call_soon_threadsafe and add_done_callback run the
// callback in a copy of the context current when they were called (or the one given),
// to_thread() runs the function in a copy of the caller's context, and
// run_in_executor() does not copy it.
//
// Cost: until a variable is first set in a thread, its current context is a null
// pointer; tasks and callbacks then carry no context and entering one is a compare.
// The mapping is a sorted vector, copied on set(): get() is a binary search, set()
// is O(number of variables set), which is small in practice (Python uses a HAMT).
//
// Lifetimes: values are kept by the contexts that hold them (shared, never copied
// after set()); a Context, ContextVar or Token is a handle to shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "aio/detail/context.hpp"
#include "aio/detail/value_repr.hpp"
#include "aio/errors.hpp"

namespace aio {

template <class T>
class ContextVar;
template <class T>
class Token;
class Context;

namespace detail {

/// What a ContextVar<T> is, untyped: tokens and reprs refer to it.
struct VarCore {
  std::uint64_t id;
  std::string name;
  std::shared_ptr<const void> default_value;  // null: no default
  std::string default_repr;
};

/// A token's state (Python's Token): shared by the copies of a Token.
struct TokenState {
  TokenState(std::shared_ptr<const VarCore> v, ContextImpl* ctx, std::shared_ptr<const void> old_value) noexcept
      : var(std::move(v)), context(ctx), old(std::move(old_value)) {
    context->add_ref();
  }
  TokenState(const TokenState&) = delete;
  TokenState& operator=(const TokenState&) = delete;
  ~TokenState() { context->release(); }

  std::shared_ptr<const VarCore> var;
  ContextImpl* context;             // a reference: the context set() was called in
  std::shared_ptr<const void> old;  // null: Token.MISSING
  bool used = false;
};

std::shared_ptr<const VarCore> new_var(std::string name, std::shared_ptr<const void> default_value,
                                       std::string default_repr);
/// The value of `var` in `ctx` (null: the empty context), or null.
const void* context_lookup(const ContextImpl* ctx, std::uint64_t var) noexcept;
/// Sets var in the current context (making the thread's context when there is none).
std::shared_ptr<TokenState> context_var_set(const std::shared_ptr<const VarCore>& var,
                                            std::shared_ptr<const void> value);
void context_var_reset(const VarCore& var, TokenState& token);
[[noreturn]] void throw_lookup_error(const VarCore& var);
[[noreturn]] void throw_key_error(const std::string& var_repr);
std::string var_repr(const VarCore& var);
std::string token_repr(const TokenState& token);
std::string context_repr(const ContextImpl* ctx);
std::size_t context_size(const ContextImpl* ctx) noexcept;
/// Context::run's entry and exit: RuntimeError when ctx is already entered.
ContextImpl* context_enter(ContextImpl* ctx);
void context_exit(ContextImpl* ctx, ContextImpl* outer) noexcept;

}  // namespace detail

/// A context variable (contextvars.ContextVar): a name, an optional default, and a
/// value per context. Copyable handle: copies are the same variable. Declare it once
/// (a global or a static), as Python declares them at module level.
template <class T>
class ContextVar {
  static_assert(std::is_copy_constructible_v<T>, "ContextVar<T> needs a copyable T (get() returns a copy)");

 public:
  explicit ContextVar(std::string name) : core_(detail::new_var(std::move(name), nullptr, {})) {}
  ContextVar(std::string name, T default_value) : core_(make_core(std::move(name), std::move(default_value))) {}

  const std::string& name() const noexcept { return core_->name; }
  /// The value in the current context, else the variable's default; LookupError
  /// (whose message is the variable's repr) when it has neither.
  T get() const {
    if (const void* v = detail::context_lookup(detail::tls_context, core_->id)) return *static_cast<const T*>(v);
    if (core_->default_value) return *static_cast<const T*>(core_->default_value.get());
    detail::throw_lookup_error(*core_);
  }
  /// The value in the current context, else `default_value` (which wins over the
  /// variable's own default, as in Python).
  T get(T default_value) const {
    if (const void* v = detail::context_lookup(detail::tls_context, core_->id)) return *static_cast<const T*>(v);
    return default_value;
  }
  /// Sets the value in the current context only; the token restores the previous one.
  Token<T> set(T value) const {
    return Token<T>(detail::context_var_set(core_, std::make_shared<const T>(std::move(value))));
  }
  /// Restores the value the variable had before the set() that made `token`.
  /// RuntimeError when the token was used already, ValueError when it was made by
  /// another variable or in another context.
  void reset(const Token<T>& token) const { detail::context_var_reset(*core_, *token.st_); }
  /// "<ContextVar name='x' default=0 at 0x...>", as Python shows it.
  std::string repr() const { return detail::var_repr(*core_); }

  friend bool operator==(const ContextVar& a, const ContextVar& b) noexcept { return a.core_ == b.core_; }
  /// The variable's process-wide id (internal).
  std::uint64_t id() const noexcept { return core_->id; }

 private:
  friend class Token<T>;
  explicit ContextVar(std::shared_ptr<const detail::VarCore> core) noexcept : core_(std::move(core)) {}
  static std::shared_ptr<const detail::VarCore> make_core(std::string name, T default_value) {
    std::string shown = detail::value_repr(default_value);
    return detail::new_var(std::move(name), std::make_shared<const T>(std::move(default_value)), std::move(shown));
  }
  std::shared_ptr<const detail::VarCore> core_;
};

/// What ContextVar::set() returns (contextvars.Token): reset() with it restores the
/// previous value, once. Copyable handle; the copies are the same token.
template <class T>
class Token {
 public:
  /// old_value() when the variable had no value before the set() (Token.MISSING).
  static constexpr std::nullopt_t MISSING = std::nullopt;

  /// The variable that made the token.
  ContextVar<T> var() const { return ContextVar<T>(st_->var); }
  /// The value before the set(), or MISSING.
  std::optional<T> old_value() const {
    if (!st_->old) return MISSING;
    return *static_cast<const T*>(st_->old.get());
  }
  /// "<Token var=<ContextVar name='x' at 0x...> at 0x...>" (" used" once reset).
  std::string repr() const { return detail::token_repr(*st_); }
  friend bool operator==(const Token& a, const Token& b) noexcept { return a.st_ == b.st_; }

 private:
  friend class ContextVar<T>;
  explicit Token(std::shared_ptr<detail::TokenState> st) noexcept : st_(std::move(st)) {}
  std::shared_ptr<detail::TokenState> st_;
};

/// A mapping of context variables to values (contextvars.Context). Copyable handle:
/// copies are the same context (Python's references); copy() makes a new context with
/// the same values. A context is entered by one thread at a time.
class Context {
 public:
  /// An empty context (contextvars.Context()).
  Context() : impl_(new detail::ContextImpl) {}
  Context(const Context& o) noexcept : impl_(o.impl_) { impl_->add_ref(); }
  Context(Context&& o) noexcept : impl_(o.impl_) { o.impl_->add_ref(); }  // never empty
  Context& operator=(Context o) noexcept {
    std::swap(impl_, o.impl_);
    return *this;
  }
  ~Context() { impl_->release(); }

  /// A new context with the same values (Context.copy()).
  Context copy() const { return Context(impl_->copy()); }
  /// Calls fn(args...) with this context current and returns its result; the sets it
  /// makes stay in this context. RuntimeError("cannot enter context: ... is already
  /// entered") when some thread runs in it already (a nested run, or a task that runs
  /// in it calling run).
  template <class F, class... A>
  decltype(auto) run(F&& fn, A&&... args) const {
    struct Exit {
      detail::ContextImpl* ctx;
      detail::ContextImpl* outer;
      ~Exit() { detail::context_exit(ctx, outer); }
    } exit{impl_, detail::context_enter(impl_)};
    return std::invoke(std::forward<F>(fn), std::forward<A>(args)...);
  }

  /// Whether the context holds a value for `var` (`var in ctx`).
  template <class T>
  bool contains(const ContextVar<T>& var) const noexcept {
    return detail::context_lookup(impl_, var.id()) != nullptr;
  }
  /// The value of `var` in this context, or nullopt (ctx.get(var)); the variable's
  /// default does not count, as in Python.
  template <class T>
  std::optional<T> get(const ContextVar<T>& var) const {
    if (const void* v = detail::context_lookup(impl_, var.id())) return *static_cast<const T*>(v);
    return std::nullopt;
  }
  template <class T>
  T get(const ContextVar<T>& var, T default_value) const {
    if (const void* v = detail::context_lookup(impl_, var.id())) return *static_cast<const T*>(v);
    return default_value;
  }
  /// ctx[var]: KeyError when the context holds no value for it.
  template <class T>
  T operator[](const ContextVar<T>& var) const {
    if (const void* v = detail::context_lookup(impl_, var.id())) return *static_cast<const T*>(v);
    detail::throw_key_error(var.repr());
  }
  /// How many variables have a value in it (len(ctx)).
  std::size_t size() const noexcept { return detail::context_size(impl_); }
  /// "<Context object at 0x...>".
  std::string repr() const { return detail::context_repr(impl_); }
  friend bool operator==(const Context& a, const Context& b) noexcept { return a.impl_ == b.impl_; }

  /// Adopts a reference (internal).
  explicit Context(detail::ContextImpl* adopt) noexcept : impl_(adopt) {}
  detail::ContextImpl* impl() const noexcept { return impl_; }

 private:
  detail::ContextImpl* impl_;
};

/// A copy of the current context (contextvars.copy_context()).
Context copy_context();

}  // namespace aio
