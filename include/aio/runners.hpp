// aio/runners.hpp: run() and Runner (asyncio.runners).
//
//   int main() { return aio::run(main_()); }
//
// run() creates a loop, runs the coroutine as the main task, then cancels the tasks
// still pending and waits for them, and closes the loop; it returns main's value or
// rethrows its exception. In the main thread, SIGINT cancels the main task; if that
// ends it, run() throws KeyboardInterrupt, and a KeyboardInterrupt nobody catches
// ends the process as Python's does: by SIGINT (exit status 130). A second SIGINT
// ends the process at once.
#pragma once

#include <memory>
#include <utility>

#include "aio/coro.hpp"
#include "aio/events.hpp"
#include "aio/tasks.hpp"

namespace aio {

using RunOptions = LoopOptions;

/// asyncio.Runner: several run() calls on one loop.
class Runner {
 public:
  explicit Runner(RunOptions options = {}) : options_(std::move(options)) {}
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;
  /// Closes the runner (see close()).
  ~Runner();

  /// Runs `coro` as a task until it is done; see the header comment for SIGINT. The
  /// task runs in a copy of the current context, or in `context` (Runner.run(context=)).
  template <class T>
  T run(Coro<T> coro) {
    return run_task(start(std::move(coro)));
  }
  template <class T>
  T run(Coro<T> coro, const Context& context) {
    check_runnable();
    return run_task(loop_->create_task(std::move(coro), std::string(), context));
  }
  /// Cancels the tasks still pending, waits for them, and closes the loop.
  void close();
  /// The runner's loop, created on first use.
  EventLoop& get_loop();

 private:
  template <class T>
  T run_task(Task<T> task) {
    SigintScope scope(*this, task);
    try {
      return loop_->run_until_complete(Future<T>(task));
    } catch (const CancelledError&) {
      if (scope.interrupted() && task.uncancel() == 0) throw KeyboardInterrupt();
      throw;
    }
  }
  template <class T>
  Task<T> start(Coro<T> coro) {
    check_runnable();
    return loop_->create_task(std::move(coro));
  }
  void check_runnable();
  /// Installs the SIGINT handler for one run() when in the main thread and SIGINT
  /// has its default disposition; restores it afterwards.
  class SigintScope {
   public:
    SigintScope(Runner& runner, Task<> main_task);
    ~SigintScope();
    SigintScope(const SigintScope&) = delete;
    SigintScope& operator=(const SigintScope&) = delete;
    bool interrupted() const noexcept;

   private:
    bool installed_ = false;
    EventLoop* loop_;
  };

  RunOptions options_;
  std::shared_ptr<EventLoop> loop_;
  bool closed_ = false;
};

/// Runs the coroutine on a new loop and returns its result (asyncio.run()).
template <class T>
T run(Coro<T> main, RunOptions options = {}) {
  if (_get_running_loop() != nullptr) throw RuntimeError("aio::run() cannot be called from a running event loop");
  Runner runner(std::move(options));
  return runner.run(std::move(main));
}

}  // namespace aio
