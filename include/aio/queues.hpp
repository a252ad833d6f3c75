// aio/queues.hpp: Queue<T>, PriorityQueue<T>, LifoQueue<T> (asyncio.queues, with
// Python 3.13's shutdown()).
//
//   aio::Queue<int> q;                 // maxsize 0: unbounded
//   co_await q.put(1);                 // waits while the queue is full
//   int x = co_await q.get();          // waits while it is empty
//   q.task_done();  co_await q.join(); // as in asyncio
//
// Waiters are served first come, first served. A getter (putter) that was woken and
// then cancelled before it ran hands its wake-up to the next one, so no item is lost
// and none is taken twice. A put or get that need not wait completes without
// suspending and without allocating.
#pragma once

#include <algorithm>
#include <coroutine>
#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "aio/coro.hpp"
#include "aio/detail/waitlist.hpp"
#include "aio/errors.hpp"
#include "aio/locks.hpp"

namespace aio {

namespace detail {

/// Queue orders: how items go in and which comes out.
template <class T>
class FifoItems {
 public:
  void push(T v) { items_.push_back(std::move(v)); }
  T pop() {
    T v = std::move(items_.front());
    items_.pop_front();
    return v;
  }
  std::size_t size() const noexcept { return items_.size(); }

 private:
  std::deque<T> items_;
};

template <class T>
class LifoItems {
 public:
  void push(T v) { items_.push_back(std::move(v)); }
  T pop() {
    T v = std::move(items_.back());
    items_.pop_back();
    return v;
  }
  std::size_t size() const noexcept { return items_.size(); }

 private:
  std::vector<T> items_;
};

/// A binary heap: the smallest item by Compare comes out first (Python's heapq).
template <class T, class Compare>
class HeapItems {
 public:
  void push(T v) {
    items_.push_back(std::move(v));
    std::push_heap(items_.begin(), items_.end(), greater());
  }
  T pop() {
    std::pop_heap(items_.begin(), items_.end(), greater());
    T v = std::move(items_.back());
    items_.pop_back();
    return v;
  }
  std::size_t size() const noexcept { return items_.size(); }

 private:
  auto greater() const {
    return [less = less_](const T& a, const T& b) { return less(b, a); };
  }
  std::vector<T> items_;
  [[no_unique_address]] Compare less_{};
};

}  // namespace detail

/// The queue of asyncio, with the order given by Items (FIFO, LIFO or a heap).
template <class T, class Items>
class BasicQueue {
 public:
  using value_type = T;

  /// maxsize 0 (or less): unbounded.
  explicit BasicQueue(std::ptrdiff_t maxsize = 0) : maxsize_(maxsize < 0 ? 0 : static_cast<std::size_t>(maxsize)) {
    finished_.set();
  }
  BasicQueue(const BasicQueue&) = delete;
  BasicQueue& operator=(const BasicQueue&) = delete;

  std::size_t qsize() const noexcept { return items_.size(); }
  std::size_t maxsize() const noexcept { return maxsize_; }
  bool empty() const noexcept { return items_.size() == 0; }
  bool full() const noexcept { return maxsize_ > 0 && items_.size() >= maxsize_; }

  /// Adds an item now; QueueFull when full, QueueShutDown after shutdown().
  void put_nowait(T item) {
    if (shutdown_) throw QueueShutDown();
    if (full()) throw QueueFull();
    items_.push(std::move(item));
    ++unfinished_;
    finished_.clear();
    getters_.pop_and_wake();
  }
  /// Takes an item now; QueueEmpty when empty (QueueShutDown when also shut down).
  T get_nowait() {
    if (empty()) {
      if (shutdown_) throw QueueShutDown();
      throw QueueEmpty();
    }
    T item = items_.pop();
    putters_.pop_and_wake();
    return item;
  }

  class Put;
  class Get;
  /// Adds an item, waiting while the queue is full. QueueShutDown after shutdown().
  Put put(T item) { return Put(*this, std::move(item)); }
  /// Removes and returns an item, waiting while the queue is empty. QueueShutDown once
  /// the queue is shut down and empty.
  Get get() noexcept { return Get(*this); }

  /// A consumer finished with an item it got. ValueError when called more times than
  /// items were put.
  void task_done() {
    if (unfinished_ == 0) throw ValueError("task_done() called too many times");
    if (--unfinished_ == 0) finished_.set();
  }
  /// Waits until every item put has been marked task_done().
  Event::Wait join() noexcept { return finished_.wait(); }

  /// Put and get raise QueueShutDown from now on (get only once the queue is empty,
  /// unless `immediate`, which also drops the items left). Every waiter is woken.
  void shutdown(bool immediate = false) {
    shutdown_ = true;
    if (immediate) {
      while (!empty()) {
        (void)items_.pop();
        if (unfinished_ > 0) --unfinished_;
      }
      if (unfinished_ == 0) finished_.set();
    }
    while (getters_.pop_and_wake()) {
    }
    while (putters_.pop_and_wake()) {
    }
  }
  bool is_shutdown() const noexcept { return shutdown_; }

 private:
  /// A wait in getters_ or putters_. Woken means popped by put/get/shutdown: a
  /// cancel after that passes the wake-up on to the next waiter of the same kind,
  /// if what it was woken for is still there.
  class Turn : public detail::WaitNode {
   public:
    Turn(BasicQueue& q, detail::WaitList& waiters, bool for_get) noexcept : q_(&q), waiters_(&waiters), for_get_(for_get) {}
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) { wait_on(*waiters_, h, for_get_ ? "Queue.get()" : "Queue.put()"); }
    void await_resume() {
      const bool was_woken = woken();
      if (finish()) {
        if (was_woken && (for_get_ ? !q_->empty() : !q_->full())) waiters_->pop_and_wake();
        throw_cancelled();
      }
    }

   private:
    BasicQueue* q_;
    detail::WaitList* waiters_;
    bool for_get_;
  };

  Coro<void> put_slowly(T item) {
    while (full()) {
      if (shutdown_) throw QueueShutDown();
      co_await Turn(*this, putters_, false);
    }
    put_nowait(std::move(item));
  }
  Coro<T> get_slowly() {
    while (empty()) {
      if (shutdown_) throw QueueShutDown();
      co_await Turn(*this, getters_, true);
    }
    co_return get_nowait();
  }

 public:
  /// put()'s awaitable: completes at once when there is room, else runs the waiting
  /// loop of asyncio's Queue.put as a coroutine.
  class [[nodiscard]] Put {
   public:
    Put(BasicQueue& q, T item) : q_(&q), item_(std::move(item)) {}
    bool await_ready() const noexcept { return !q_->full() || q_->shutdown_; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> h) {
      slow_ = q_->put_slowly(std::move(*item_));
      item_.reset();
      awaiter_.emplace(slow_.operator co_await());
      return awaiter_->await_suspend(h);
    }
    void await_resume() {
      if (awaiter_) return awaiter_->await_resume();
      q_->put_nowait(std::move(*item_));
    }

   private:
    BasicQueue* q_;
    std::optional<T> item_;
    Coro<void> slow_;
    std::optional<typename Coro<void>::Awaiter> awaiter_;
  };

  /// get()'s awaitable: takes an item at once when there is one, else runs the
  /// waiting loop of asyncio's Queue.get as a coroutine.
  class [[nodiscard]] Get {
   public:
    explicit Get(BasicQueue& q) noexcept : q_(&q) {}
    bool await_ready() const noexcept { return !q_->empty() || q_->shutdown_; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> h) {
      slow_ = q_->get_slowly();
      awaiter_.emplace(slow_.operator co_await());
      return awaiter_->await_suspend(h);
    }
    T await_resume() {
      if (awaiter_) return awaiter_->await_resume();
      return q_->get_nowait();
    }

   private:
    BasicQueue* q_;
    Coro<T> slow_;
    std::optional<typename Coro<T>::Awaiter> awaiter_;
  };

 private:
  Items items_;
  std::size_t maxsize_;
  std::size_t unfinished_ = 0;
  bool shutdown_ = false;
  detail::WaitList getters_;
  detail::WaitList putters_;
  Event finished_;
};

/// First in, first out (asyncio.Queue).
template <class T>
using Queue = BasicQueue<T, detail::FifoItems<T>>;

/// Last in, first out (asyncio.LifoQueue).
template <class T>
using LifoQueue = BasicQueue<T, detail::LifoItems<T>>;

/// Smallest first, by Compare (asyncio.PriorityQueue; use a pair or tuple for
/// (priority, data) entries as in Python).
template <class T, class Compare = std::less<T>>
using PriorityQueue = BasicQueue<T, detail::HeapItems<T, Compare>>;

}  // namespace aio
