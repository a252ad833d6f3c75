// Seed f.tasks (000_77fea42500069c72.txt, lines 4621-5190): the section's snippets in
// one program: creating tasks three ways, names, done() and cancelled(), result()
// and exception() (and their errors before the task is done, after it failed and
// after it was cancelled), cancel(msg), and done callbacks. The lines are the ones
// the same program prints under CPython.
#include <cstdio>
#include <stdexcept>

#include "aio/aio.hpp"

// Python's ValueError, so that the exception's repr reads the same.
struct ValueError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

const char* py(bool b) { return b ? "True" : "False"; }

aio::Coro<int> task_coroutine(int value) {
  co_await aio::sleep(1);
  co_return value * 10;
}

aio::Coro<int> failing() {
  co_await aio::sleep(0.5);
  throw ValueError("something bad happened");
}

void handle(aio::Task<int>& task) {
  std::printf("done callback: %s done=%s\n", task.get_name().c_str(), py(task.done()));
}

aio::Coro<> main_() {
  auto task = aio::create_task(task_coroutine(1));
  auto task2 = aio::ensure_future(task_coroutine(2));
  aio::EventLoop& loop = aio::get_event_loop();
  auto task3 = loop.create_task(task_coroutine(3), "MyTask");
  std::printf("%s %s %s\n", task.get_name().c_str(), task2.get_name().c_str(), task3.get_name().c_str());
  task2.set_name("Renamed");
  std::printf("%s\n", task2.get_name().c_str());
  std::printf("done: %s, cancelled: %s\n", py(task.done()), py(task.cancelled()));
  try {
    task.result();
  } catch (const aio::InvalidStateError&) {
    std::printf("task is not yet done\n");
  }
  task.add_done_callback(handle);
  const aio::CallbackId handle3 = task3.add_done_callback(handle);
  co_await task;
  std::printf("done: %s, cancelled: %s\n", py(task.done()), py(task.cancelled()));
  std::printf("result: %d, exception: %s\n", task.result(), aio::exception_repr(task.exception()).c_str());

  auto f = aio::create_task(failing());
  try {
    co_await f;
  } catch (const ValueError&) {
    std::printf("awaiting failed: %s\n", aio::exception_repr(std::current_exception()).c_str());
  }
  std::printf("exception: %s\n", aio::exception_repr(f.exception()).c_str());
  try {
    f.result();
  } catch (const ValueError&) {
    std::printf("result() raised %s\n", aio::exception_repr(std::current_exception()).c_str());
  }

  auto c = aio::create_task(task_coroutine(4));
  co_await aio::sleep(0);
  std::printf("cancel: %s\n", py(c.cancel("stop it")));
  try {
    co_await c;
  } catch (const aio::CancelledError& e) {
    std::printf("cancelled with: %s\n", e.what());
  }
  std::printf("cancelled: %s\n", py(c.cancelled()));
  try {
    c.result();
  } catch (const aio::CancelledError&) {
    std::printf("result() of a cancelled task raises CancelledError\n");
  }
  std::printf("cancel again: %s\n", py(c.cancel()));
  std::printf("removed: %zu\n", task3.remove_done_callback(handle3));
  const int r2 = co_await task2;
  const int r3 = co_await task3;
  std::printf("%d %d\n", r2, r3);
}

int main() { aio::run(main_()); }
