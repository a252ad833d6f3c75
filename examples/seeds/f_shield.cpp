// Seed f.shield (000_77fea42500069c72.txt, lines 6600-6710): cancelling the shield
// leaves the shielded task running: it finishes with its result 1.
#include <cstdio>

#include "aio/aio.hpp"

// define a simple asynchronous
aio::Coro<int> simple_task(int number) {
  // block for a moment
  co_await aio::sleep(1);
  // return the argument
  co_return number;
}

// cancel the given task after a moment
aio::Coro<> cancel_task(aio::Future<int> task) {
  // block for a moment
  co_await aio::sleep(0.2);
  // cancel the task
  const bool was_cancelled = task.cancel();
  std::printf("cancelled: %s\n", was_cancelled ? "True" : "False");
}

// define a simple coroutine
aio::Coro<> main_() {
  // create the coroutine
  aio::Coro<int> coro = simple_task(1);
  // create a task
  aio::Task<int> task = aio::create_task(std::move(coro));
  // created the shielded task
  aio::Future<int> shielded = aio::shield(task);
  // create the task to cancel the previous task
  aio::create_task(cancel_task(shielded));
  // handle cancellation
  try {
    // await the shielded task
    const int result = co_await shielded;
    // report the result
    std::printf(">got: %d\n", result);
  } catch (const aio::CancelledError&) {
    std::printf("shielded was cancelled\n");
  }
  // wait a moment
  co_await aio::sleep(1);
  // report the details of the tasks
  std::printf("shielded: %s\n", shielded.repr().c_str());
  std::printf("task: %s\n", task.repr().c_str());
}

int main() { aio::run(main_()); }
