// Seed f.to_thread (000_77fea42500069c72.txt, lines 6888-6964): a blocking function
// run with to_thread as a task; main keeps running, then awaits it: `Task done` after
// 2 s.
#include <cstdio>

#include "aio/aio.hpp"

// a blocking io-bound task
void blocking_task() {
  std::printf("Task starting\n");
  aio::time::sleep(2);  // block for a while
  std::printf("Task done\n");
}

aio::Coro<> main_coro() {
  std::printf("Main running the blocking task\n");
  // create a coroutine for the blocking task
  auto coro = aio::to_thread(blocking_task);
  // schedule the task
  auto task = aio::create_task(std::move(coro));
  std::printf("Main doing other things\n");
  // allow the scheduled task to start
  co_await aio::sleep(0);
  // await the task
  co_await task;
}

int main() { aio::run(main_coro()); }
