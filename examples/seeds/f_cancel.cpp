// Seed f.cancel (000_77fea42500069c72.txt, lines 10371-10455): cancel a running task
// after 0.1 s; 0.1 s later it is cancelled.
#include <cstdio>

#include "aio/aio.hpp"

// define a coroutine for a task
aio::Coro<> task_coroutine() {
  // report a message
  std::printf("executing the task\n");
  // block for a moment
  co_await aio::sleep(1);
}

// custom coroutine
aio::Coro<> main_() {
  // report a message
  std::printf("main coroutine started\n");
  // create and schedule the task
  aio::Task<> task = aio::create_task(task_coroutine());
  // wait a moment
  co_await aio::sleep(0.1);
  // cancel the task
  const bool was_cancelled = task.cancel();
  // report whether the cancel request was successful
  std::printf("was canceled: %s\n", was_cancelled ? "True" : "False");
  // wait a moment
  co_await aio::sleep(0.1);
  // check the status of the task
  std::printf("canceled: %s\n", task.cancelled() ? "True" : "False");
  // report a final message
  std::printf("main coroutine done\n");
}

int main() { aio::run(main_()); }
