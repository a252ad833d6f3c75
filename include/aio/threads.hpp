// aio/threads.hpp: threads and executors (asyncio.threads, loop.run_in_executor,
// run_coroutine_threadsafe, concurrent.futures.ThreadPoolExecutor).
//
//   int n = co_await aio::to_thread(count_lines, path);     // blocking work off the loop
//   auto f = loop.run_in_executor(&pool, fn, args...);      // a Future<R>
//   std::future<int> r = aio::run_coroutine_threadsafe(work(), loop);  // from another thread
//
// The loop's default executor is a ThreadPoolExecutor with min(32, cores + 4) workers,
// created on first use and shut down by aio::run. Cancelling an awaited to_thread()
// stops waiting for it; the function itself runs to its end, as in Python.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "aio/coro.hpp"
#include "aio/detail/executor.hpp"
#include "aio/events.hpp"
#include "aio/futures.hpp"
#include "aio/tasks.hpp"

namespace aio {

/// min(32, cores + 4), Python's default for ThreadPoolExecutor.
std::size_t default_max_workers() noexcept;

/// A pool of worker threads (concurrent.futures.ThreadPoolExecutor). Threads start
/// as jobs arrive, up to max_workers, and are reused while they are idle.
class ThreadPoolExecutor final : public Executor {
 public:
  /// max_workers 0: default_max_workers().
  explicit ThreadPoolExecutor(std::size_t max_workers = 0, std::string thread_name_prefix = {});
  /// Shuts down and waits for the workers.
  ~ThreadPoolExecutor() override;
  ThreadPoolExecutor(const ThreadPoolExecutor&) = delete;
  ThreadPoolExecutor& operator=(const ThreadPoolExecutor&) = delete;

  void submit(std::unique_ptr<detail::Job> job) override;
  void shutdown(bool wait = true, bool cancel_futures = false) override;
  std::size_t max_workers() const noexcept { return max_workers_; }
  /// Threads started so far.
  std::size_t thread_count() const;

 private:
  void work() noexcept;
  void report_idle() noexcept;
  std::size_t max_workers_;
  std::string prefix_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<detail::Job>> jobs_;
  std::vector<std::thread> threads_;
  std::size_t idle_ = 0;
  std::size_t idle_reported_ = 0;
  bool shutdown_ = false;
};

namespace detail {

/// A call made on an executor thread whose result lands in a loop's future.
template <class R, class Call>
class ExecutorJob final : public Job {
 public:
  // state: 0 pending, 1 running, 2 cancelled before it started.
  ExecutorJob(EventLoop* loop, Future<R> fut, std::shared_ptr<std::atomic<int>> state, Call call)
      : loop_(loop), fut_(std::move(fut)), state_(std::move(state)), call_(std::move(call)) {}

  void run() noexcept override {
    int expected = 0;
    if (!state_->compare_exchange_strong(expected, 1)) {
      give_back_future();
      return;
    }
    std::optional<value_or_none<R>> value;
    std::exception_ptr error;
    try {
      if constexpr (std::is_void_v<R>) {
        call_();
        value.emplace();
      } else {
        value.emplace(call_());
      }
    } catch (...) {
      error = std::current_exception();
    }
    EventLoop::call_soon_threadsafe_if_alive(
        // Everything the call made moves to the loop's thread and ends there (an
        // exception's message may be a shared string whose count TSan cannot see).
        loop_, [loop = loop_, fut = std::move(fut_), result = std::move(value), error = std::move(error)]() mutable {
          loop->executor_job_ended();
          if (fut.done()) return;  // cancelled while it ran
          if (error) {
            fut.set_exception(error);
          } else if constexpr (std::is_void_v<R>) {
            fut.set_result();
          } else {
            fut.set_result(std::move(*result));
          }
        });
  }
  void cancel() noexcept override {
    EventLoop::call_soon_threadsafe_if_alive(loop_, [loop = loop_, fut = std::move(fut_)] {
      loop->executor_job_ended();
      if (!fut.done()) fut.cancel();
    });
  }
  ~ExecutorJob() override { give_back_future(); }

 private:
  /// The future's last handle goes back to its loop's thread.
  void give_back_future() noexcept {
    if (!fut_) return;
    EventLoop::call_soon_threadsafe_if_alive(loop_, [loop = loop_, fut = std::move(fut_)] { loop->executor_job_ended(); });
  }
  EventLoop* loop_;
  Future<R> fut_;
  std::shared_ptr<std::atomic<int>> state_;
  Call call_;
};

/// The future of an executor call: cancelling it marks the call so that it never
/// starts if it has not yet (at once, not on the next iteration).
template <class R>
class ExecutorFutureState final : public FutureState<R> {
 public:
  ExecutorFutureState(EventLoop* loop, std::shared_ptr<std::atomic<int>> state)
      : FutureState<R>(loop), state_(std::move(state)) {}
  bool cancel(const std::string& msg) override {
    if (this->done()) return false;
    int expected = 0;
    state_->compare_exchange_strong(expected, 2);
    return FutureState<R>::cancel(msg);
  }

 private:
  std::shared_ptr<std::atomic<int>> state_;
};

}  // namespace detail

template <class F, class... A>
auto EventLoop::run_in_executor(Executor* executor, F&& fn, A&&... args) {
  using R = std::invoke_result_t<std::decay_t<F>&&, std::decay_t<A>&&...>;
  check_closed();
  if (executor == nullptr) executor = &default_executor();
  auto state = std::make_shared<std::atomic<int>>(0);
  // Cancelling the future before the call starts means it never starts.
  Future<R> fut(new detail::ExecutorFutureState<R>(this, state));
  auto call = [fn = std::forward<F>(fn), ... args = std::forward<A>(args)]() mutable -> R {
    return std::invoke(std::move(fn), std::move(args)...);
  };
  executor->submit(std::make_unique<detail::ExecutorJob<R, decltype(call)>>(this, fut, std::move(state), std::move(call)));
  executor_job_started();  // each job posts exactly one callback back, which ends it
  return fut;
}

/// Runs fn(args...) on the running loop's default executor (asyncio.to_thread), in a
/// copy of the caller's context (run_in_executor does not copy it, as in asyncio).
/// Nothing starts until the coroutine is awaited or made a task.
template <class F, class... A>
Coro<std::invoke_result_t<std::decay_t<F>&&, std::decay_t<A>&&...>> to_thread(F fn, A... args) {
  using R = std::invoke_result_t<std::decay_t<F>&&, std::decay_t<A>&&...>;
  // asyncio: loop.run_in_executor(None, functools.partial(ctx.run, func, *args)) with
  // ctx = copy_context(). A null copy (no variable set) is still a scope of its own:
  // what fn sets stays out of the worker thread's context.
  auto in_context = [ctx = detail::ContextRef(detail::copy_current_context()), fn = std::move(fn)](
                        A&&... a) mutable -> R {
    detail::ContextScope scope(ctx.slot());
    return std::invoke(std::move(fn), std::move(a)...);
  };
  co_return co_await get_running_loop().run_in_executor(nullptr, std::move(in_context), std::move(args)...);
}

/// Schedules `coro` as a task on `loop` from any thread; the std::future gets its
/// result or exception (asyncio.run_coroutine_threadsafe).
template <class T>
std::future<T> run_coroutine_threadsafe(Coro<T> coro, EventLoop& loop) {
  auto promise = std::make_shared<std::promise<T>>();
  std::future<T> result = promise->get_future();
  loop.threadsafe_coro_started();
  loop.call_soon_threadsafe([coro = std::move(coro), promise, &loop]() mutable {
    try {
      Task<T> task = loop.create_task(std::move(coro));
      task.add_done_callback([promise, &loop](Task<T>& t) {
        loop.threadsafe_coro_ended();
        try {
          if constexpr (std::is_void_v<T>) {
            t.result();
            promise->set_value();
          } else {
            promise->set_value(t.result());
          }
        } catch (...) {
          promise->set_exception(std::current_exception());
        }
      });
    } catch (...) {
      loop.threadsafe_coro_ended();
      promise->set_exception(std::current_exception());
    }
  });
  return result;
}

}  // namespace aio
