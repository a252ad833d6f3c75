// aio/coro.hpp: Coro<T>, what `async def f() -> T` becomes.
//
// Calling a function that returns Coro<T> builds the coroutine and runs nothing (it is
// lazy, like a Python coroutine object). `co_await coro` runs it inline in the awaiting
// task and hands control straight back when it finishes (symmetric transfer), so a
// chain of a million nested awaits does not grow the stack. `aio::create_task(coro)`
// runs it as a task instead. A Coro is move-only and [[nodiscard]]; one destroyed
// without ever being awaited or turned into a task is reported on stderr as Python
// reports it: "file:line: RuntimeWarning: coroutine 'f' was never awaited".
//
// Frames come from the per-thread recycling pool (aio/detail/pool.hpp).
#pragma once

#include <coroutine>
#include <cstdint>
#include <string>
#include <exception>
#include <new>
#include <type_traits>
#include <utility>

#include "aio/detail/pool.hpp"
#include "aio/errors.hpp"

namespace aio {

template <class T = void>
class Coro;

namespace detail {

/// Where a coroutine function is defined. Captured by default arguments evaluated in
/// the coroutine's own body, so it names the coroutine function.
struct CoroLocation {
  const char* function;
  const char* file;
  std::uint32_t line;
  static constexpr CoroLocation current(const char* function = __builtin_FUNCTION(),
                                        const char* file = __builtin_FILE(),
                                        std::uint32_t line = __builtin_LINE()) noexcept {
    return {function, file, line};
  }
};

void report_never_awaited(const CoroLocation& where) noexcept;

/// What a task's get_coro() gives: where its coroutine is defined and the frame's
/// address, shown as Python shows a coroutine object.
struct CoroInfo {
  const char* function;
  const char* file;
  std::uint32_t line;
  const void* address;
  /// "<coroutine object main at 0x55d0c0a1b2c0>"
  std::string repr() const;
};

class CoroPromiseBase : public PoolAllocated {
 public:
  explicit CoroPromiseBase(CoroLocation where = CoroLocation::current()) noexcept
      : function_(where.function), file_(where.file), line_(where.line) {}

  std::suspend_always initial_suspend() noexcept { return {}; }

  struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
      // Hand control to whoever awaited us; a task's root has nobody and returns to
      // the task's step, which then sees done().
      std::coroutine_handle<> next = h.promise().continuation_;
      return next ? next : std::noop_coroutine();
    }
    void await_resume() const noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {}; }

  void unhandled_exception() noexcept { exception_ = std::current_exception(); }

  /// Records the line of each co_await for repr() ("running at file:line"); the
  /// awaitable itself passes through untouched.
  template <class A>
  A&& await_transform(A&& awaitable, std::uint32_t line = __builtin_LINE()) noexcept {
    await_line_ = line;
    return std::forward<A>(awaitable);
  }

  CoroLocation location() const noexcept { return {function_, file_, line_}; }
  /// The line the coroutine is suspended at, or its definition line before it ran.
  std::uint32_t current_line() const noexcept { return await_line_ ? await_line_ : line_; }

  std::coroutine_handle<> continuation_{};  // the awaiting coroutine; null for a task's root
  std::exception_ptr exception_{};          // what escaped the body
  const char* function_;
  const char* file_;
  std::uint32_t line_;
  std::uint32_t await_line_ = 0;
  bool consumed_ = false;   // awaited or given to a task (else: "never awaited")
  bool has_value_ = false;  // CoroPromise<T>::value_ holds a value
};

template <class T>
class CoroPromise final : public CoroPromiseBase {
 public:
  explicit CoroPromise(CoroLocation where = CoroLocation::current()) noexcept : CoroPromiseBase(where) {}
  CoroPromise(const CoroPromise&) = delete;
  ~CoroPromise() {
    if (has_value_) value_.~T();
  }
  Coro<T> get_return_object() noexcept;

  template <class U = T>
    requires std::is_convertible_v<U&&, T>
  void return_value(U&& v) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
    ::new (static_cast<void*>(&value_)) T(std::forward<U>(v));
    has_value_ = true;
  }
  /// The value, or the exception rethrown.
  T& result() & {
    if (exception_) std::rethrow_exception(exception_);
    return value_;
  }
  T* value_address() noexcept { return has_value_ ? &value_ : nullptr; }

 private:
  union {
    T value_;
  };
};

template <>
class CoroPromise<void> final : public CoroPromiseBase {
 public:
  explicit CoroPromise(CoroLocation where = CoroLocation::current()) noexcept : CoroPromiseBase(where) {}
  Coro<void> get_return_object() noexcept;
  void return_void() noexcept {}
  void result() {
    if (exception_) std::rethrow_exception(exception_);
  }
};

}  // namespace detail

/// A lazy coroutine returning T. Await it once, or give it to create_task().
template <class T>
class [[nodiscard]] Coro {
 public:
  using promise_type = detail::CoroPromise<T>;
  using value_type = T;
  using handle_type = std::coroutine_handle<promise_type>;

  Coro() noexcept = default;
  explicit Coro(handle_type h) noexcept : h_(h) {}
  Coro(Coro&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  Coro& operator=(Coro&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  ~Coro() { reset(); }

  explicit operator bool() const noexcept { return static_cast<bool>(h_); }
  /// The coroutine function's name, file and line (for messages and repr).
  detail::CoroLocation location() const noexcept { return h_.promise().location(); }
  /// True when the coroutine ran to its end.
  bool done() const noexcept { return h_ && h_.done(); }
  /// "<coroutine object main at 0x...>", as Python shows a coroutine object.
  std::string repr() const {
    const detail::CoroLocation where = location();
    return detail::CoroInfo{where.function, where.file, where.line, h_.address()}.repr();
  }

  /// Takes the frame out, marking it consumed (create_task uses this).
  handle_type release() noexcept {
    if (h_) h_.promise().consumed_ = true;
    return std::exchange(h_, {});
  }

  class Awaiter {
   public:
    explicit Awaiter(handle_type h) noexcept : h_(h) {}
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) noexcept {
      h_.promise().continuation_ = caller;
      return h_;
    }
    T await_resume() {
      if constexpr (std::is_void_v<T>) {
        h_.promise().result();
      } else {
        return std::move(h_.promise().result());
      }
    }

   private:
    handle_type h_;
  };

  /// Runs the coroutine inline; its result or exception comes back here.
  Awaiter operator co_await() {
    if (!h_) throw RuntimeError("cannot await an empty coroutine");
    if (h_.promise().consumed_) throw RuntimeError("cannot reuse already awaited coroutine");
    h_.promise().consumed_ = true;
    return Awaiter(h_);
  }

 private:
  void reset() noexcept {
    if (!h_) return;
    if (!h_.promise().consumed_) detail::report_never_awaited(h_.promise().location());
    h_.destroy();
    h_ = {};
  }
  handle_type h_{};
};

namespace detail {
template <class T>
Coro<T> CoroPromise<T>::get_return_object() noexcept {
  return Coro<T>(std::coroutine_handle<CoroPromise<T>>::from_promise(*this));
}
inline Coro<void> CoroPromise<void>::get_return_object() noexcept {
  return Coro<void>(std::coroutine_handle<CoroPromise<void>>::from_promise(*this));
}

template <class A>
struct is_coro : std::false_type {};
template <class T>
struct is_coro<Coro<T>> : std::true_type {};
}  // namespace detail

/// True for Coro<T> (asyncio.iscoroutine).
template <class A>
inline constexpr bool iscoroutine = detail::is_coro<std::remove_cvref_t<A>>::value;

namespace detail {
template <class A>
decltype(auto) get_awaiter(A&& a) {
  if constexpr (requires { std::forward<A>(a).operator co_await(); }) {
    return std::forward<A>(a).operator co_await();
  } else {
    return std::forward<A>(a);
  }
}
/// What `co_await a` gives.
template <class A>
using await_result_t = decltype(get_awaiter(std::declval<A>()).await_resume());

/// A coroutine that awaits `a` and returns its result: how an awaitable that is not a
/// coroutine (sleep(), a lock's acquire()...) becomes a task or a gather child.
template <class A>
Coro<await_result_t<A>> as_coro(A a) {
  co_return co_await std::move(a);
}
}  // namespace detail

/// Anything `co_await` accepts in an aio coroutine.
template <class A>
concept Awaitable = requires { typename detail::await_result_t<A>; };

}  // namespace aio
