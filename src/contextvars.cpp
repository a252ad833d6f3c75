// Context variables: ids, set() and reset(), entering a context, the thread's own
// context, and the reprs Python prints in its errors.
#include "aio/contextvars.hpp"

#include "aio/tasks.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>

namespace aio {
namespace detail {

namespace {

std::atomic<std::uint64_t> g_var_ids{0};

std::string address(const void* p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%p", p);
  return buf;
}

ContextMap::const_iterator find_entry(const ContextMap& m, std::uint64_t var) noexcept {
  return std::lower_bound(m.begin(), m.end(), var,
                          [](const ContextEntry& e, std::uint64_t id) noexcept { return e.var < id; });
}

/// `map` with var set to value (the mapping is never changed in place: other contexts
/// and threads may share it).
std::shared_ptr<const ContextMap> with_value(const ContextMap* map, std::uint64_t var,
                                             std::shared_ptr<const void> value) {
  auto out = std::make_shared<ContextMap>();
  if (map != nullptr) {
    out->reserve(map->size() + 1);
    out->assign(map->begin(), map->end());
  }
  auto it = std::lower_bound(out->begin(), out->end(), var,
                             [](const ContextEntry& e, std::uint64_t id) noexcept { return e.var < id; });
  if (it != out->end() && it->var == var) {
    it->value = std::move(value);
  } else {
    out->insert(it, ContextEntry{var, std::move(value)});
  }
  return out;
}

/// `map` without var; null once empty.
std::shared_ptr<const ContextMap> without(const ContextMap* map, std::uint64_t var) {
  if (map == nullptr || map->size() <= 1) return nullptr;
  auto out = std::make_shared<ContextMap>();
  out->reserve(map->size() - 1);
  for (const ContextEntry& e : *map) {
    if (e.var != var) out->push_back(e);
  }
  return out;
}

/// Owns the context a set() made where none was current and nothing adopted it (the
/// thread's own context, outside tasks and callbacks): released when the thread ends.
struct ThreadContext {
  ThreadContext() = default;
  ThreadContext(const ThreadContext&) = delete;
  ThreadContext& operator=(const ThreadContext&) = delete;
  ~ThreadContext() {
    if (ContextImpl* c = std::exchange(tls_context, nullptr)) c->release();
  }
};

/// The current context, made when there is none (Python's thread state always has
/// one; aio makes it on the first set()). A task step running in the empty context
/// (the current context is null only there: a Context::run inside the step makes it
/// non-null) gets it as its own context at once, so that get_context() finds it; a
/// callback or a to_thread call adopts it when it ends (ContextScope); outside those,
/// it is the thread's own context until the thread ends.
ContextImpl* current_for_set() {
  ContextImpl* c = tls_context;
  if (c == nullptr) {
    c = new ContextImpl;
    c->entered_.store(true, std::memory_order_relaxed);
    tls_context = c;
    if (TaskStateBase* task = tls_state.current_task) {
      c->add_ref();
      task->set_context(c);
    } else {
      thread_local ThreadContext owner;  // registers the release at thread exit
    }
  }
  return c;
}

}  // namespace

std::shared_ptr<const VarCore> new_var(std::string name, std::shared_ptr<const void> default_value,
                                       std::string default_repr) {
  auto v = std::make_shared<VarCore>();
  v->id = g_var_ids.fetch_add(1, std::memory_order_relaxed) + 1;
  v->name = std::move(name);
  v->default_value = std::move(default_value);
  v->default_repr = std::move(default_repr);
  return v;
}

const void* context_lookup(const ContextImpl* ctx, std::uint64_t var) noexcept {
  if (ctx == nullptr || !ctx->map_) return nullptr;
  const ContextMap& m = *ctx->map_;
  auto it = find_entry(m, var);
  return it != m.end() && it->var == var ? it->value.get() : nullptr;
}

std::shared_ptr<TokenState> context_var_set(const std::shared_ptr<const VarCore>& var,
                                            std::shared_ptr<const void> value) {
  ContextImpl* ctx = current_for_set();
  const ContextMap* map = ctx->map_.get();
  std::shared_ptr<const void> old;
  if (map != nullptr) {
    auto it = find_entry(*map, var->id);
    if (it != map->end() && it->var == var->id) old = it->value;
  }
  std::shared_ptr<const ContextMap> next = with_value(map, var->id, std::move(value));
  auto token = std::make_shared<TokenState>(var, ctx, std::move(old));
  ctx->map_ = std::move(next);
  return token;
}

void context_var_reset(const VarCore& var, TokenState& token) {
  // CPython's order of checks (contextvar_reset).
  if (token.used) throw RuntimeError(token_repr(token) + " has already been used once");
  if (token.var.get() != &var) throw ValueError(token_repr(token) + " was created by a different ContextVar");
  ContextImpl* ctx = tls_context;
  if (ctx != token.context) throw ValueError(token_repr(token) + " was created in a different Context");
  std::shared_ptr<const ContextMap> next =
      token.old ? with_value(ctx->map_.get(), var.id, token.old) : without(ctx->map_.get(), var.id);
  token.used = true;
  ctx->map_ = std::move(next);
}

void throw_lookup_error(const VarCore& var) { throw LookupError(var_repr(var)); }

void throw_key_error(const std::string& var_repr) { throw KeyError(var_repr); }

std::string var_repr(const VarCore& var) {
  std::string out = "<ContextVar name=" + value_repr_string(var.name);
  if (var.default_value) out += " default=" + var.default_repr;
  return out + " at " + address(&var) + ">";
}

std::string token_repr(const TokenState& token) {
  return std::string("<Token") + (token.used ? " used" : "") + " var=" + var_repr(*token.var) + " at " +
         address(&token) + ">";
}

std::string context_repr(const ContextImpl* ctx) { return "<Context object at " + address(ctx) + ">"; }

std::size_t context_size(const ContextImpl* ctx) noexcept { return ctx != nullptr && ctx->map_ ? ctx->map_->size() : 0; }

ContextImpl* context_enter(ContextImpl* ctx) {
  if (ctx->entered_.exchange(true, std::memory_order_acq_rel)) {
    throw RuntimeError("cannot enter context: " + context_repr(ctx) + " is already entered");
  }
  return std::exchange(tls_context, ctx);
}

void context_exit(ContextImpl* ctx, ContextImpl* outer) noexcept {
  ctx->entered_.store(false, std::memory_order_release);
  tls_context = outer;
}

}  // namespace detail

Context copy_context() {
  detail::ContextImpl* c = detail::tls_context;
  return Context(c != nullptr ? c->copy() : new detail::ContextImpl);
}

}  // namespace aio
