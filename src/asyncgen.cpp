// Async generators: stepping, aclose(), the finalizer and loop.shutdown_asyncgens().
#include "aio/asyncgen.hpp"

#include <cstdio>

#include "aio/gather.hpp"

namespace aio {
namespace detail {

std::string AsyncGenPromiseBase::repr() const {
  char addr[32];
  std::snprintf(addr, sizeof addr, "%p", self_.address());
  return std::string("<async_generator object ") + where_.function + " at " + addr + ">";
}

bool AdvanceAwaiter::await_ready() const {
  if (p_->running_) throw RuntimeError("anext(): asynchronous generator is already running");
  return p_->self_.done() || p_->closed_;
}

std::coroutine_handle<> AdvanceAwaiter::await_suspend(std::coroutine_handle<> consumer) noexcept {
  if (!p_->started_) {
    p_->started_ = true;
    // asyncio's firstiter hook: the running loop keeps track of it from now on.
    if (EventLoop* loop = _get_running_loop()) loop->track_asyncgen(p_);
  }
  p_->continuation_ = consumer;
  p_->running_ = true;
  return p_->self_;
}

bool AdvanceAwaiter::step_result() const {
  if (p_->error_) std::rethrow_exception(std::exchange(p_->error_, nullptr));
  return !p_->self_.done() && !p_->closed_;
}

namespace {

/// Resumes a generator frame that aclose() marked closing.
class CloseStep {
 public:
  explicit CloseStep(AsyncGenPromiseBase* p) noexcept : p_(p) {}
  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> closer) noexcept {
    p_->continuation_ = closer;
    p_->running_ = true;
    return p_->self_;
  }
  void await_resume() const noexcept {}

 private:
  AsyncGenPromiseBase* p_;
};

}  // namespace

Coro<void> aclose_generator(AsyncGenPromiseBase* p) {
  if (p->running_) throw RuntimeError("aclose(): asynchronous generator is already running");
  if (p->self_.done() || p->closed_) co_return;
  if (!p->started_) {
    p->closed_ = true;  // a generator closed before it started never runs
    co_return;
  }
  p->closing_ = true;
  co_await CloseStep(p);
  if (!p->self_.done()) throw RuntimeError("async generator ignored GeneratorExit");
  if (std::exception_ptr e = std::exchange(p->error_, nullptr)) {
    try {
      std::rethrow_exception(e);
    } catch (const GeneratorExit&) {
    } catch (const StopAsyncIteration&) {
    }
  }
}

Coro<void> finalize_generator(AsyncGenPromiseBase* p) {
  struct Free {
    AsyncGenPromiseBase* p;
    ~Free() { p->self_.destroy(); }
  } free_frame{p};
  std::exception_ptr error;
  try {
    co_await aclose_generator(p);
  } catch (...) {
    error = std::current_exception();
  }
  if (error && !is_cancelled_error(error)) {
    ExceptionContext ctx;
    ctx.message = "an error occurred during closing of asynchronous generator " + p->repr();
    ctx.exception = error;
    get_running_loop().call_exception_handler(ctx);
  }
}

}  // namespace detail

Coro<void> EventLoop::shutdown_asyncgens() {
  std::vector<detail::AsyncGenPromiseBase*> gens;
  for (detail::AsyncGenLink* g = asyncgens_; g != nullptr; g = g->next_gen_) {
    gens.push_back(static_cast<detail::AsyncGenPromiseBase*>(g));
  }
  if (gens.empty()) co_return;
  std::vector<Task<>> closers;
  closers.reserve(gens.size());
  for (detail::AsyncGenPromiseBase* g : gens) closers.push_back(create_task(detail::aclose_generator(g)));
  co_await gather(return_exceptions, closers);
  for (std::size_t i = 0; i < closers.size(); ++i) {
    if (closers[i].cancelled()) continue;
    if (std::exception_ptr e = closers[i].exception()) {
      ExceptionContext ctx;
      ctx.message = "an error occurred during closing of asynchronous generator " + gens[i]->repr();
      ctx.exception = e;
      call_exception_handler(ctx);
    }
  }
}

}  // namespace aio
