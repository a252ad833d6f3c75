// aio/contextlib.hpp: async_with(), what `async with X() as x: body` becomes.
//
//   co_await aio::async_with(aio::TaskGroup(), [&](aio::TaskGroup& tg) -> aio::Coro<> {
//     tg.create_task(work());
//     co_return;
//   });
//
// The manager is taken by value and lives until the statement ends. `aenter()` is
// awaited; the body gets its result (or the manager itself when aenter() returns
// nothing); `aexit(exception_ptr)` is awaited on every exit path, with the exception
// the body raised (including a CancelledError) or null, and may suppress it by
// returning true. The body's result, if any, is the statement's result.
#pragma once

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "aio/coro.hpp"

namespace aio {

namespace detail {

template <class A>
struct coro_value;
template <class T>
struct coro_value<Coro<T>> {
  using type = T;
};
template <class A>
using coro_value_t = typename coro_value<std::remove_cvref_t<A>>::type;

template <class CM>
using enter_value_t = coro_value_t<decltype(std::declval<CM&>().aenter())>;

template <class CM, class E = enter_value_t<CM>>
struct enter_arg {
  using type = E&;
};
template <class CM>
struct enter_arg<CM, void> {
  using type = CM&;
};
template <class CM>
using enter_arg_t = typename enter_arg<CM>::type;

template <class CM, class Body>
using with_result_t = coro_value_t<std::invoke_result_t<Body&, enter_arg_t<CM>>>;

template <class CM, class R>
Coro<bool> exit_with(CM& cm, std::exception_ptr e) {
  using X = coro_value_t<decltype(cm.aexit(e))>;
  if constexpr (std::is_void_v<X>) {
    co_await cm.aexit(std::move(e));
    co_return false;
  } else {
    co_return static_cast<bool>(co_await cm.aexit(std::move(e)));
  }
}

}  // namespace detail

template <class CM, class Body>
Coro<detail::with_result_t<CM, Body>> async_with(CM cm, Body body) {
  using R = detail::with_result_t<CM, Body>;
  using E = detail::enter_value_t<CM>;
  std::optional<std::conditional_t<std::is_void_v<E>, int, E>> entered;
  if constexpr (std::is_void_v<E>) {
    co_await cm.aenter();
  } else {
    entered.emplace(co_await cm.aenter());
  }
  std::exception_ptr error;
  std::optional<std::conditional_t<std::is_void_v<R>, int, R>> result;
  try {
    if constexpr (std::is_void_v<E>) {
      if constexpr (std::is_void_v<R>) {
        co_await body(cm);
      } else {
        result.emplace(co_await body(cm));
      }
    } else {
      if constexpr (std::is_void_v<R>) {
        co_await body(*entered);
      } else {
        result.emplace(co_await body(*entered));
      }
    }
  } catch (...) {
    error = std::current_exception();
  }
  const bool suppress = co_await detail::exit_with<CM, R>(cm, error);
  if (error && !suppress) std::rethrow_exception(error);
  if constexpr (!std::is_void_v<R>) {
    if (!result) {
      if constexpr (std::is_default_constructible_v<R>) {
        co_return R{};
      } else {
        throw RuntimeError("async_with: the exception was suppressed and the body has no value to return");
      }
    }
    co_return std::move(*result);
  }
}

}  // namespace aio
