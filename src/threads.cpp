// The thread pool, the loop's default executor and its shutdown.
#include "aio/threads.hpp"

#include <pthread.h>

#include <algorithm>

#include "aio/detail/virtual_time.hpp"
#include "platform/process.hpp"

namespace aio {

std::size_t default_max_workers() noexcept {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  return std::min<std::size_t>(32, cores + 4);
}

ThreadPoolExecutor::ThreadPoolExecutor(std::size_t max_workers, std::string thread_name_prefix)
    : max_workers_(max_workers == 0 ? default_max_workers() : max_workers),
      prefix_(thread_name_prefix.empty() ? "aio-worker" : std::move(thread_name_prefix)) {}

ThreadPoolExecutor::~ThreadPoolExecutor() { shutdown(true); }

void ThreadPoolExecutor::submit(std::unique_ptr<detail::Job> job) {
  std::unique_lock lock(mu_);
  if (shutdown_) throw RuntimeError("cannot schedule new futures after shutdown");
  jobs_.push_back(std::move(job));
  report_idle();
  // As Python's _adjust_thread_count: a new thread unless one is idle.
  if (idle_ < jobs_.size() && threads_.size() < max_workers_) {
    threads_.emplace_back([this] { work(); });
    std::string name = prefix_ + "_" + std::to_string(threads_.size() - 1);
    name.resize(std::min<std::size_t>(name.size(), 15));  // the kernel's limit
    pthread_setname_np(threads_.back().native_handle(), name.c_str());
  }
  lock.unlock();
  cv_.notify_one();
}

void ThreadPoolExecutor::work() noexcept {
  // Made by a loop's thread, perhaps, where the signals it handles are blocked: here
  // they must not be, or one sent to this thread would never reach its loop.
  detail::unblock_loop_signals();
  std::unique_lock lock(mu_);
  for (;;) {
    ++idle_;
    report_idle();
    cv_.wait(lock, [this] { return shutdown_ || !jobs_.empty(); });
    --idle_;
    report_idle();
    if (jobs_.empty()) return;  // shut down and nothing left to run
    std::unique_ptr<detail::Job> job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    job->run();
    job.reset();
    lock.lock();
  }
}

// On the virtual process clock, workers with nothing to do are idle parties of the
// timeline (virtual_time.hpp); a worker a job is waiting for is not, from the moment
// the job is queued. Under mu_.
void ThreadPoolExecutor::report_idle() noexcept {
  if (!detail::process_clock_is_virtual()) return;
  const std::size_t idle = idle_ > jobs_.size() ? idle_ - jobs_.size() : 0;
  if (idle != idle_reported_) {
    detail::add_parked_threads(static_cast<int>(idle) - static_cast<int>(idle_reported_));
    idle_reported_ = idle;
  }
}

void ThreadPoolExecutor::shutdown(bool wait, bool cancel_futures) {
  std::deque<std::unique_ptr<detail::Job>> dropped;
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    shutdown_ = true;
    if (cancel_futures) dropped.swap(jobs_);
    if (wait) threads.swap(threads_);
  }
  cv_.notify_all();
  for (auto& job : dropped) job->cancel();
  dropped.clear();
  if (!wait) return;
  for (std::thread& t : threads) {
    if (t.get_id() == std::this_thread::get_id()) {
      t.detach();  // shut down from one of its own jobs
    } else {
      t.join();
    }
  }
}

std::size_t ThreadPoolExecutor::thread_count() const {
  std::lock_guard lock(mu_);
  return threads_.size();
}

// --- the loop's default executor

Executor& EventLoop::default_executor() {
  if (!default_executor_) {
    if (executor_shutdown_called_) throw RuntimeError("Executor shutdown has been called");
    default_executor_ = std::make_shared<ThreadPoolExecutor>();
  }
  return *default_executor_;
}

void EventLoop::set_default_executor(std::shared_ptr<Executor> executor) { default_executor_ = std::move(executor); }

Coro<void> EventLoop::shutdown_default_executor() {
  executor_shutdown_called_ = true;
  std::shared_ptr<Executor> executor = std::exchange(default_executor_, nullptr);
  if (!executor) co_return;
  // Joining the workers blocks: do it on a thread of its own and wait for that.
  Future<void> joined = create_future();
  std::thread joiner([executor, joined, this]() mutable {
    executor->shutdown(true);
    EventLoop::call_soon_threadsafe_if_alive(this, [done = std::move(joined)] {
      if (!done.done()) done.set_result();
    });
  });
  struct Join {
    std::thread& t;
    ~Join() { t.join(); }
  } join{joiner};
  co_await joined;
}

}  // namespace aio
