// Seed s2.asleep (002_9eae5cc975999e1e.txt, lines 352-470): our own asleep() built from
// a Future and a thread. Each call starts a thread that blocks in time.sleep(), then
// resolves the future through run_coroutine_threadsafe (a Future is not thread-safe).
// Five asleep(5) run side by side: the program takes 5 s, not 25.
//
// As run on CPython 3.12: asyncio.wait() no longer takes coroutines, so the five are
// made tasks first; threads are named "Thread-N (sync_sleep)" as Python names them.
// The threads are not daemons: Python waits for them at exit, so main joins them.
#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "aio/aio.hpp"
#include "py_random.hpp"

thread_local std::string thread_name = "MainThread";
std::atomic<int> thread_counter{0};
std::mutex threads_mu;
std::vector<std::thread> threads;

// a Thread(target=fn, args=...) started at once
template <class F, class... A>
void start_thread(const char* target, F fn, A... args) {
  std::string name = "Thread-" + std::to_string(++thread_counter) + " (" + target + ")";
  std::lock_guard lock(threads_mu);
  threads.emplace_back([name = std::move(name), fn, args...]() mutable {
    thread_name = std::move(name);
    fn(std::move(args)...);
  });
}

void sync_sleep(double sleep_for, aio::Future<void> future, aio::EventLoop* loop) {
  // sleep synchronously
  aio::time::sleep(sleep_for);
  // define a nested coroutine to resolve the future
  auto sleep_future_resolver = [](aio::Future<void> fut) -> aio::Coro<> {
    // resolve the future
    fut.set_result();
    co_return;
  };
  aio::run_coroutine_threadsafe(sleep_future_resolver(std::move(future)), *loop);
  std::printf("Sleeping completed in %s\n\n", thread_name.c_str());
  std::fflush(stdout);
}

aio::Coro<> asleep(double sleep_for) {
  aio::EventLoop& current_loop = aio::get_event_loop();
  aio::Future<void> future = current_loop.create_future();
  start_thread("sync_sleep", sync_sleep, sleep_for, future, &current_loop);
  co_await future;
}

int main() {
  const double start = aio::time::time();
  auto loop = aio::new_event_loop();
  aio::set_event_loop(loop);
  std::vector<aio::Task<void>> work;
  for (int i = 0; i < 5; ++i) work.push_back(loop->create_task(asleep(5)));
  loop->run_until_complete(aio::wait(work, {.return_when = aio::ALL_COMPLETED}));
  std::printf("main program exiting after running for %s\n", PyRandom::repr(aio::time::time() - start).c_str());
  std::lock_guard lock(threads_mu);
  for (std::thread& t : threads) t.join();
  loop->close();
}
