// aio/detail/executor.hpp: the interface the loop needs from an executor (its
// default one is created by threads.hpp's ThreadPoolExecutor on first use).
#pragma once

#include <memory>

namespace aio {

namespace detail {
/// One call handed to an executor.
class Job {
 public:
  virtual ~Job() = default;
  /// Runs on a worker thread.
  virtual void run() noexcept = 0;
  /// The executor drops the job without running it (shutdown with cancel_futures).
  virtual void cancel() noexcept {}
};
}  // namespace detail

/// Runs jobs on other threads (Python's concurrent.futures.Executor).
class Executor {
 public:
  virtual ~Executor() = default;
  /// Queues a job; RuntimeError after shutdown().
  virtual void submit(std::unique_ptr<detail::Job> job) = 0;
  /// No new jobs; `wait`: return once queued and running jobs are done;
  /// `cancel_futures`: drop the queued ones instead of running them.
  virtual void shutdown(bool wait = true, bool cancel_futures = false) = 0;
};

}  // namespace aio
