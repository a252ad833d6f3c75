// aio/generator.hpp: Generator<T>, a synchronous generator (Python's `def` with
// `yield`), for the round-robin schedulers of the seeds and for plain iteration.
//
//   aio::Generator<int> count(int n) { for (int i = 0; i < n; ++i) co_yield i; }
//   for (int i : count(3)) ...;          // or: g.next() until StopIteration
//
// Nothing runs until the first next() (or begin()). An exception thrown in the body
// comes out of next(). Generator<> yields aio::None, like a bare `yield`.
#pragma once

#include <coroutine>
#include <exception>
#include <iterator>
#include <optional>
#include <utility>

#include "aio/detail/pool.hpp"
#include "aio/errors.hpp"
#include "aio/futures.hpp"

namespace aio {

template <class T = None>
class [[nodiscard]] Generator {
 public:
  struct promise_type : detail::PoolAllocated {
    std::optional<T> current;
    std::exception_ptr error;
    Generator get_return_object() noexcept {
      return Generator(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    template <class U = T>
    std::suspend_always yield_value(U&& v) {
      current.emplace(std::forward<U>(v));
      return {};
    }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { error = std::current_exception(); }
    // A synchronous generator cannot await.
    template <class A>
    std::suspend_never await_transform(A&&) = delete;
  };
  using handle_type = std::coroutine_handle<promise_type>;

  Generator(Generator&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  Generator& operator=(Generator&& o) noexcept {
    if (this != &o) {
      if (h_) h_.destroy();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  ~Generator() {
    if (h_) h_.destroy();
  }

  /// Runs to the next yield and returns its value; throws StopIteration at the end,
  /// or what the body threw.
  T next() {
    if (!advance()) throw StopIteration();
    return std::move(*h_.promise().current);
  }
  /// True once the body returned.
  bool done() const noexcept { return !h_ || h_.done(); }

  class iterator {
   public:
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    explicit iterator(Generator* g) : g_(g) {}
    T& operator*() const { return *g_->h_.promise().current; }
    iterator& operator++() {
      if (!g_->advance()) g_ = nullptr;
      return *this;
    }
    void operator++(int) { ++*this; }
    bool operator==(std::default_sentinel_t) const noexcept { return g_ == nullptr; }

   private:
    Generator* g_ = nullptr;
  };
  iterator begin() {
    iterator it(this);
    if (!advance()) return iterator();
    return it;
  }
  std::default_sentinel_t end() const noexcept { return {}; }

 private:
  explicit Generator(handle_type h) noexcept : h_(h) {}
  bool advance() {
    if (!h_ || h_.done()) return false;
    h_.promise().current.reset();
    h_.resume();
    if (h_.promise().error) std::rethrow_exception(std::exchange(h_.promise().error, nullptr));
    return !h_.done();
  }
  handle_type h_;
};

/// Python's next(gen).
template <class T>
T next(Generator<T>& g) {
  return g.next();
}

}  // namespace aio
