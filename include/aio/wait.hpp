// aio/wait.hpp: wait(), wait_for() and as_completed() (from asyncio.tasks).
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <ranges>
#include <vector>

#include "aio/contextlib.hpp"
#include "aio/gather.hpp"
#include "aio/tasks.hpp"
#include "aio/timeouts.hpp"

namespace aio {

/// When wait() returns (asyncio.FIRST_COMPLETED etc.).
enum class ReturnWhen { FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED };
inline constexpr ReturnWhen FIRST_COMPLETED = ReturnWhen::FIRST_COMPLETED;
inline constexpr ReturnWhen FIRST_EXCEPTION = ReturnWhen::FIRST_EXCEPTION;
inline constexpr ReturnWhen ALL_COMPLETED = ReturnWhen::ALL_COMPLETED;

struct WaitOptions {
  std::optional<Delay> timeout{};
  ReturnWhen return_when = ALL_COMPLETED;
};

/// wait()'s result: `auto [done, pending] = co_await aio::wait(tasks);`, each in input order.
template <class F>
struct WaitResult {
  std::vector<F> done;
  std::vector<F> pending;
};

namespace detail {

struct WaitControl {
  std::size_t counter = 0;
  ReturnWhen return_when = ALL_COMPLETED;
  Future<> waiter{nullptr};
  TimerHandle timeout_handle;
};

Coro<> wait_untyped(std::vector<Future<>> fs, std::optional<Delay> timeout, ReturnWhen return_when);
Coro<> cancel_and_wait(Future<> fut);

template <class R>
using range_future_t = std::remove_cvref_t<std::ranges::range_value_t<R>>;

}  // namespace detail

/// Waits for the tasks or futures until `return_when` holds or `timeout` passes (no
/// TimeoutError: what is not done is in `pending`). Nothing is cancelled.
/// Cancellation: the tasks keep running.
template <std::ranges::input_range R>
Coro<WaitResult<detail::range_future_t<R>>> wait(R&& fs, WaitOptions options = {}) {
  using F = detail::range_future_t<R>;
  static_assert(isfuture<F>, "wait() takes tasks or futures; passing coroutines is forbidden, use tasks explicitly");
  std::vector<F> items(std::ranges::begin(fs), std::ranges::end(fs));
  if (items.empty()) throw ValueError("Set of Tasks/Futures is empty.");
  std::vector<Future<>> untyped(items.begin(), items.end());
  co_await detail::wait_untyped(std::move(untyped), options.timeout, options.return_when);
  WaitResult<F> out;
  for (F& f : items) (f.done() ? out.done : out.pending).push_back(std::move(f));
  co_return out;
}
template <std::ranges::input_range R>
Coro<WaitResult<detail::range_future_t<R>>> wait(R&& fs, ReturnWhen return_when) {
  return wait(std::forward<R>(fs), WaitOptions{std::nullopt, return_when});
}

/// Awaits `aw` with a deadline: on timeout, cancels it, waits for it to finish
/// cancelling, then throws TimeoutError. nullopt: no deadline.
template <detail::FutureLike A>
Coro<detail::awaited_t<A>> wait_for(A aw, std::optional<Delay> timeout) {
  using T = detail::awaited_t<A>;
  if (!timeout) co_return co_await std::move(aw);
  if (timeout->ns() <= 0) {
    Future<T> fut = detail::to_future(std::move(aw));
    if (!fut.done()) co_await detail::cancel_and_wait(fut);
    try {
      if constexpr (std::is_void_v<T>) {
        fut.result();
        co_return;
      } else {
        co_return co_await fut;  // done: moves a move-only value out
      }
    } catch (const CancelledError&) {
      throw TimeoutError();
    }
  }
  co_return co_await async_with(aio::timeout(*timeout), [&aw](Timeout&) -> Coro<T> { co_return co_await std::move(aw); });
}

namespace detail {

template <class T>
struct AsCompletedState {
  std::deque<Future<T>> done;  // an empty handle: the timeout passed
  std::deque<Future<>> getters;
  std::vector<std::pair<Future<T>, CallbackId>> todo;
  TimerHandle timeout_handle;

  void push(Future<T> f) {
    done.push_back(std::move(f));
    while (!getters.empty()) {
      Future<> g = std::move(getters.front());
      getters.pop_front();
      if (!g.done()) {
        g.set_result();
        break;
      }
    }
  }
};

template <class T>
Coro<T> wait_for_one(std::shared_ptr<AsCompletedState<T>> st) {
  while (st->done.empty()) {
    Future<> getter = get_running_loop().create_future();
    st->getters.push_back(getter);
    co_await getter;
  }
  Future<T> f = std::move(st->done.front());
  st->done.pop_front();
  if (!f) throw TimeoutError();
  if constexpr (std::is_void_v<T>) {
    f.result();
  } else {
    co_return f.result();
  }
}

}  // namespace detail

/// as_completed(): a range of N coroutines; awaiting the i-th gives the i-th result
/// to finish (or throws its exception, or TimeoutError once `timeout` passed).
///   for (auto next : aio::as_completed(tasks)) { int r = co_await next; }
template <class T>
class AsCompleted {
 public:
  AsCompleted(std::shared_ptr<detail::AsCompletedState<T>> st, std::size_t n) : st_(std::move(st)), n_(n) {}
  class iterator {
   public:
    using value_type = Coro<T>;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    iterator(const AsCompleted* owner, std::size_t i) : owner_(owner), i_(i) {}
    Coro<T> operator*() const { return detail::wait_for_one<T>(owner_->st_); }
    iterator& operator++() {
      ++i_;
      return *this;
    }
    void operator++(int) { ++i_; }
    bool operator==(const iterator& o) const { return i_ == o.i_; }

   private:
    const AsCompleted* owner_ = nullptr;
    std::size_t i_ = 0;
  };
  iterator begin() const { return iterator(this, 0); }
  iterator end() const { return iterator(this, n_); }
  std::size_t size() const { return n_; }

 private:
  std::shared_ptr<detail::AsCompletedState<T>> st_;
  std::size_t n_;
};

template <std::ranges::input_range R>
  requires detail::FutureLike<std::ranges::range_value_t<R>>
AsCompleted<detail::awaited_t<std::ranges::range_value_t<R>>> as_completed(R&& fs,
                                                                            std::optional<Delay> timeout = {}) {
  using T = detail::awaited_t<std::ranges::range_value_t<R>>;
  auto st = std::make_shared<detail::AsCompletedState<T>>();
  for (auto&& a : fs) {
    if constexpr (isfuture<decltype(a)>) {
      st->todo.emplace_back(Future<T>(a), 0);
    } else {
      st->todo.emplace_back(detail::to_future(std::move(a)), 0);
    }
  }
  const std::size_t n = st->todo.size();
  std::weak_ptr<detail::AsCompletedState<T>> weak = st;
  for (auto& [f, id] : st->todo) {
    id = f.add_done_callback([weak](Future<T>& done) {
      auto s = weak.lock();
      if (!s || s->todo.empty()) return;  // the timeout came first
      std::erase_if(s->todo, [&](const auto& p) { return p.first == done; });
      s->push(done);
      if (s->todo.empty()) s->timeout_handle.cancel();
    });
  }
  if (n > 0 && timeout) {
    st->timeout_handle = get_running_loop().call_later(*timeout, [weak] {
      auto s = weak.lock();
      if (!s) return;
      for (auto& [f, id] : s->todo) {
        f.remove_done_callback(id);
        s->push(Future<T>(nullptr));
      }
      s->todo.clear();
    });
  }
  return AsCompleted<T>(std::move(st), n);
}

}  // namespace aio
