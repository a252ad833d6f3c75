// aio/asyncgen.hpp: AsyncGenerator<T>, Python's async generator: a coroutine that both
// awaits and yields.
//
//   aio::AsyncGenerator<int> ticker(int n) {
//     for (int i = 0; i < n; ++i) {
//       co_yield i;
//       co_await aio::sleep(1);
//     }
//   }
//   auto gen = ticker(10);
//   while (auto i = co_await gen.next()) print(*i);   // async for i in ticker(10):
//   int first = co_await aio::anext(gen);              // StopAsyncIteration at the end
//   auto evens = co_await aio::collect(ticker(10), [](int i) { return i % 2 == 0; });
//
// Nothing runs until the first next(). An exception thrown in the body comes out of
// next(), and the generator is finished. aclose() throws GeneratorExit at the yield
// where the generator waits, so its cleanup (which may await) runs; a generator that
// yields again then is a RuntimeError. A generator destroyed while suspended at a
// yield is closed on its loop by a task (asyncio's finalizer hook), and aio::run
// closes the ones still suspended when main ends (loop.shutdown_asyncgens()).
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "aio/coro.hpp"
#include "aio/detail/pool.hpp"
#include "aio/errors.hpp"
#include "aio/events.hpp"
#include "aio/tasks.hpp"

namespace aio {

namespace detail {

class AsyncGenPromiseBase : public AsyncGenLink, public PoolAllocated {
 public:
  explicit AsyncGenPromiseBase(CoroLocation where) noexcept : where_(where) {}
  AsyncGenPromiseBase(const AsyncGenPromiseBase&) = delete;
  AsyncGenPromiseBase& operator=(const AsyncGenPromiseBase&) = delete;
  ~AsyncGenPromiseBase() { EventLoop::untrack_asyncgen(this); }

  std::suspend_always initial_suspend() noexcept { return {}; }
  struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<>) noexcept { return p->hand_back(); }
    void await_resume() const noexcept {}
    AsyncGenPromiseBase* p;
  };
  FinalAwaiter final_suspend() noexcept { return {this}; }
  void unhandled_exception() noexcept { error_ = std::current_exception(); }
  void return_void() noexcept {}

  /// Where a yield goes back to: the coroutine that awaited next() or aclose().
  std::coroutine_handle<> hand_back() noexcept {
    running_ = false;
    std::coroutine_handle<> to = std::exchange(continuation_, {});
    return to ? to : std::noop_coroutine();
  }
  /// "<async_generator object ticker at 0x...>"
  std::string repr() const;

  std::coroutine_handle<> self_;
  std::coroutine_handle<> continuation_;
  std::exception_ptr error_;
  CoroLocation where_;
  bool started_ = false;
  bool running_ = false;
  bool closing_ = false;
  bool closed_ = false;  // closed before it started: it never runs
};

/// The awaiter of a co_yield: back to the consumer; GeneratorExit on resumption
/// after aclose().
struct YieldAwaiter {
  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<>) noexcept { return p->hand_back(); }
  void await_resume() const {
    if (p->closing_) throw GeneratorExit();
  }
  AsyncGenPromiseBase* p;
};

/// Runs the generator to its next yield or its end.
class AdvanceAwaiter {
 public:
  explicit AdvanceAwaiter(AsyncGenPromiseBase* p) noexcept : p_(p) {}
  bool await_ready() const;
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> consumer) noexcept;
  /// After the step: rethrows what the body threw; false when it has finished.
  bool step_result() const;

 protected:
  AsyncGenPromiseBase* p_;
};

/// aclose() for any generator frame.
Coro<void> aclose_generator(AsyncGenPromiseBase* p);
/// Closes a generator whose handle was dropped while it was suspended, then frees it.
Coro<void> finalize_generator(AsyncGenPromiseBase* p);

}  // namespace detail

template <class T>
class [[nodiscard]] AsyncGenerator {
 public:
  using value_type = T;

  struct promise_type : detail::AsyncGenPromiseBase {
    explicit promise_type(detail::CoroLocation where = detail::CoroLocation::current()) noexcept
        : AsyncGenPromiseBase(where) {}
    AsyncGenerator get_return_object() noexcept {
      auto h = std::coroutine_handle<promise_type>::from_promise(*this);
      self_ = h;
      return AsyncGenerator(h);
    }
    template <class U = T>
      requires std::is_constructible_v<T, U&&>
    detail::YieldAwaiter yield_value(U&& v) {
      current_.emplace(std::forward<U>(v));
      return {this};
    }
    std::optional<T> current_;
  };
  using handle_type = std::coroutine_handle<promise_type>;

  AsyncGenerator(AsyncGenerator&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  AsyncGenerator& operator=(AsyncGenerator&& o) noexcept {
    if (this != &o) {
      drop();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  ~AsyncGenerator() { drop(); }

  class [[nodiscard]] Next : public detail::AdvanceAwaiter {
   public:
    using AdvanceAwaiter::AdvanceAwaiter;
    /// The next value, or nullopt once the generator has finished.
    std::optional<T> await_resume() {
      if (!step_result()) return std::nullopt;
      auto& current = static_cast<promise_type*>(p_)->current_;
      std::optional<T> v(std::move(current));
      current.reset();
      return v;
    }
  };
  /// Runs to the next co_yield: its value, or nullopt at the end (`async for`).
  Next next() noexcept { return Next(&h_.promise()); }
  /// Throws GeneratorExit into the generator at its yield and waits for it to finish.
  Coro<void> aclose() { return detail::aclose_generator(&h_.promise()); }
  /// True once the body finished (or aclose() closed it).
  bool done() const noexcept { return h_.done() || h_.promise().closed_; }
  std::string repr() const { return h_.promise().repr(); }

 private:
  explicit AsyncGenerator(handle_type h) noexcept : h_(h) {}
  void drop() noexcept {
    if (!h_) return;
    promise_type& p = h_.promise();
    EventLoop* loop = p.tracked_by_;
    const bool suspended_at_yield = p.started_ && !p.running_ && !h_.done() && !p.closed_;
    if (suspended_at_yield && loop != nullptr && loop->is_running() && _get_running_loop() == loop) {
      // asyncio's finalizer hook: close it on the loop, then free the frame.
      try {
        loop->create_task(detail::finalize_generator(&p));
        h_ = {};
        return;
      } catch (...) {
      }
    }
    std::exchange(h_, {}).destroy();
  }
  handle_type h_;
};

/// Python's anext(gen): the next value; StopAsyncIteration at the end.
template <class T>
Coro<T> anext(AsyncGenerator<T>& gen) {
  std::optional<T> v = co_await gen.next();
  if (!v) throw StopAsyncIteration();
  co_return std::move(*v);
}
/// anext(gen, default): `fallback` at the end.
template <class T>
Coro<T> anext(AsyncGenerator<T>& gen, T fallback) {
  std::optional<T> v = co_await gen.next();
  co_return v ? std::move(*v) : std::move(fallback);
}

/// An async comprehension, `[x async for x in gen if pred(x)]`: every value the
/// generator yields, in order, that `pred` accepts. The generator must outlive the
/// await (a temporary in the same co_await expression does).
template <class T, class Pred>
Coro<std::vector<T>> collect(AsyncGenerator<T>& gen, Pred pred) {
  std::vector<T> out;
  while (std::optional<T> v = co_await gen.next()) {
    if (pred(std::as_const(*v))) out.push_back(std::move(*v));
  }
  co_return out;
}
template <class T, class Pred>
Coro<std::vector<T>> collect(AsyncGenerator<T>&& gen, Pred pred) {
  return collect(gen, std::move(pred));
}
/// `[x async for x in gen]`.
template <class T>
Coro<std::vector<T>> collect(AsyncGenerator<T>& gen) {
  return collect(gen, [](const T&) { return true; });
}
template <class T>
Coro<std::vector<T>> collect(AsyncGenerator<T>&& gen) {
  return collect(gen, [](const T&) { return true; });
}

}  // namespace aio
