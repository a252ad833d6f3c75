// aio/gather.hpp: gather() (asyncio.gather).
//
//   auto [a, b] = co_await aio::gather(f(), g());          // a tuple, in input order
//   std::vector<int> r = co_await aio::gather(tasks);      // a range gives a vector
//   auto r = co_await aio::gather(aio::return_exceptions, f(), g());
//
// Coroutines are wrapped in tasks at once. The first exception is raised while the
// other children keep running; with return_exceptions each result is a
// std::variant<value, std::exception_ptr> instead. Cancelling the gather cancels the
// children. A void result becomes aio::None.
#pragma once

#include <cstddef>
#include <exception>
#include <iterator>
#include <ranges>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "aio/futures.hpp"
#include "aio/tasks.hpp"

namespace aio {

/// Pass first to gather() to get exceptions back as results.
inline constexpr struct ReturnExceptions {
} return_exceptions{};

/// A child's outcome under return_exceptions: its value, or its exception (a
/// CancelledError when it was cancelled).
template <class T>
using Outcome = std::variant<value_or_none<T>, std::exception_ptr>;

namespace detail {

template <class A>
struct awaitable_traits {
  static constexpr bool ok = false;
};
// Any other awaitable (sleep(), ...) runs as a coroutine wrapped around it.
template <class A>
  requires(Awaitable<A> && !iscoroutine<A> && !isfuture<A>)
struct awaitable_traits<A> {
  static constexpr bool ok = true;
  using value_type = await_result_t<A>;
};
template <class T>
struct awaitable_traits<Coro<T>> {
  static constexpr bool ok = true;
  using value_type = T;
};
template <class T>
struct awaitable_traits<Task<T>> {
  static constexpr bool ok = true;
  using value_type = T;
};
template <class T>
struct awaitable_traits<Future<T>> {
  static constexpr bool ok = true;
  using value_type = T;
};

/// Coro, Task, Future or another awaitable: what gather, wait_for and shield accept.
template <class A>
concept FutureLike = awaitable_traits<std::remove_cvref_t<A>>::ok;

template <FutureLike A>
using awaited_t = typename awaitable_traits<std::remove_cvref_t<A>>::value_type;

/// ensure_future() for any FutureLike, viewed as Future<T>.
template <FutureLike A>
Future<awaited_t<A>> to_future(A&& a) {
  if constexpr (iscoroutine<A>) {
    return Future<awaited_t<A>>(create_task(std::move(a)));
  } else if constexpr (isfuture<A>) {
    return Future<awaited_t<A>>(a);
  } else {
    return Future<awaited_t<A>>(create_task(as_coro(std::move(a))));
  }
}

template <class T>
value_or_none<T> take_value(const Future<void>& kid) {
  if constexpr (std::is_void_v<T>) {
    return None{};
  } else {
    return take_value<T>(kid.state());
  }
}

template <class T>
Outcome<T> take_outcome(const Future<void>& kid) {
  if (kid.cancelled()) return std::make_exception_ptr(CancelledError(kid.state()->cancel_message()));
  if (std::exception_ptr error = kid.exception()) return error;
  return Outcome<T>(std::in_place_index<0>, take_value<T>(kid));
}

/// The gathering future: counts finished children, fails fast unless
/// return_exceptions, and builds the results when all are done.
template <class R>
class GatherState final : public FutureState<R> {
 public:
  using Build = R (*)(const std::vector<Future<void>>&);

  GatherState(EventLoop* loop, std::vector<Future<void>> children, bool return_exceptions, Build build)
      : FutureState<R>(loop), children_(std::move(children)), return_exceptions_(return_exceptions), build_(build) {}

  /// Registers the done callbacks; the gather must be fully built first.
  static Future<R> start(GatherState* self) {
    Future<R> outer(self);
    for (const Future<void>& child : self->children_) {
      // Each callback holds a reference: dropped uncalled (a child abandoned at loop
      // close), it still lets go of the gather.
      self->add_ref();
      child.add_done_callback([ref = Future<R>(self)](Future<void>& kid) {
        static_cast<GatherState*>(ref.state())->on_child_done(kid);
      });
    }
    return outer;
  }

  bool cancel(const std::string& msg) override {
    if (this->done()) return false;
    bool any = false;
    for (Future<void>& kid : children_) {
      if (kid.cancel(msg)) any = true;
    }
    if (any) cancel_requested_ = true;
    return any;
  }

 private:
  void on_child_done(Future<void>& kid) {
    ++finished_;
    if (this->done()) {
      if (!kid.cancelled()) (void)kid.exception();  // mark it retrieved
      return;
    }
    if (!return_exceptions_) {
      if (kid.cancelled()) {
        this->set_exception(std::make_exception_ptr(CancelledError(kid.state()->cancel_message())));
        return;
      }
      if (std::exception_ptr error = kid.exception()) {
        this->set_exception(error);
        return;
      }
    }
    if (finished_ == children_.size()) {
      if (cancel_requested_) {
        // A cancelled gather propagates the cancellation even with return_exceptions.
        this->set_exception(std::make_exception_ptr(CancelledError(kid.state()->cancel_message())));
      } else {
        for (Future<void>& each : children_) {
          if (!each.cancelled()) (void)each.exception();  // all retrieved
        }
        this->set_result(build_(children_));
      }
    }
  }

  std::vector<Future<void>> children_;
  std::size_t finished_ = 0;
  bool return_exceptions_;
  bool cancel_requested_ = false;
  Build build_;
};

template <class R>
Future<R> start_gather(std::vector<Future<void>> children, bool return_exceptions,
                       typename GatherState<R>::Build build) {
  EventLoop* loop = children.empty() ? &get_running_loop() : &children.front().get_loop();
  return GatherState<R>::start(new GatherState<R>(loop, std::move(children), return_exceptions, build));
}

/// One result of a gather: the value, or under return_exceptions the Outcome.
template <bool ReturnExceptions, class T>
using result_t = std::conditional_t<ReturnExceptions, Outcome<T>, value_or_none<T>>;

template <bool ReturnExceptions, class T>
result_t<ReturnExceptions, T> take_result(const Future<void>& kid) {
  if constexpr (ReturnExceptions) {
    return take_outcome<T>(kid);
  } else {
    return take_value<T>(kid);
  }
}

template <bool ReturnExceptions, class... Ts, std::size_t... I>
std::tuple<result_t<ReturnExceptions, Ts>...> build_tuple(const std::vector<Future<void>>& kids,
                                                          std::index_sequence<I...>) {
  return std::tuple<result_t<ReturnExceptions, Ts>...>(take_result<ReturnExceptions, Ts>(kids[I])...);
}

template <class R>
Future<R> already_gathered() {
  auto empty = get_running_loop().create_future<R>();
  empty.set_result(R{});
  return empty;
}

template <bool ReturnExceptions, FutureLike... A>
Future<std::tuple<result_t<ReturnExceptions, awaited_t<A>>...>> gather_all(A&&... aws) {
  using R = std::tuple<result_t<ReturnExceptions, awaited_t<A>>...>;
  if constexpr (sizeof...(A) == 0) {
    return already_gathered<R>();
  } else {
    std::vector<Future<void>> children;
    children.reserve(sizeof...(A));
    (children.emplace_back(to_future(std::forward<A>(aws))), ...);
    return start_gather<R>(std::move(children), ReturnExceptions, [](const std::vector<Future<void>>& kids) {
      return build_tuple<ReturnExceptions, awaited_t<A>...>(kids, std::index_sequence_for<A...>{});
    });
  }
}

template <class Range>
std::vector<Future<void>> range_children(Range&& range) {
  using A = std::ranges::range_value_t<Range>;
  std::vector<Future<void>> children;
  if constexpr (std::ranges::sized_range<Range>) children.reserve(std::ranges::size(range));
  for (auto&& a : range) {
    if constexpr (isfuture<A>) {
      children.emplace_back(a);  // a handle: copied, the caller keeps its own
    } else {
      children.emplace_back(to_future(std::move(a)));
    }
  }
  return children;
}

template <bool ReturnExceptions, class Range>
Future<std::vector<result_t<ReturnExceptions, awaited_t<std::ranges::range_value_t<Range>>>>> gather_range(
    Range&& range) {
  using T = awaited_t<std::ranges::range_value_t<Range>>;
  using V = std::vector<result_t<ReturnExceptions, T>>;
  std::vector<Future<void>> children = range_children(std::forward<Range>(range));
  if (children.empty()) return already_gathered<V>();
  return start_gather<V>(std::move(children), ReturnExceptions, [](const std::vector<Future<void>>& kids) {
    V out;
    out.reserve(kids.size());
    for (const Future<void>& kid : kids) out.push_back(take_result<ReturnExceptions, T>(kid));
    return out;
  });
}

}  // namespace detail

/// Runs the awaitables concurrently; their results as a tuple in input order.
template <detail::FutureLike... A>
auto gather(A&&... aws) {
  return detail::gather_all<false>(std::forward<A>(aws)...);
}

/// The same, with each result a std::variant<value, std::exception_ptr>.
template <detail::FutureLike... A>
auto gather(ReturnExceptions, A&&... aws) {
  return detail::gather_all<true>(std::forward<A>(aws)...);
}

/// Runs a range of awaitables (coroutines are moved out of it) concurrently; their
/// results as a vector in input order.
template <std::ranges::input_range R>
  requires detail::FutureLike<std::ranges::range_value_t<R>>
auto gather(R&& range) {
  return detail::gather_range<false>(std::forward<R>(range));
}

template <std::ranges::input_range R>
  requires detail::FutureLike<std::ranges::range_value_t<R>>
auto gather(ReturnExceptions, R&& range) {
  return detail::gather_range<true>(std::forward<R>(range));
}

}  // namespace aio
