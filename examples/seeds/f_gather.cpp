// Seed f.gather (000_77fea42500069c72.txt, lines 5792-5870): gather ten coroutines
// from a list: all start, then about 1 s later main is done.
#include <cstdio>
#include <vector>

#include "aio/aio.hpp"

// coroutine used for a task
aio::Coro<> task_coro(int value) {
  // report a message
  std::printf(">task %d executing\n", value);
  // sleep for a moment
  co_await aio::sleep(1);
}

// coroutine used for the entry point
aio::Coro<> main_() {
  // report a message
  std::printf("main starting\n");
  // create many coroutines
  std::vector<aio::Coro<>> coros;
  for (int i = 0; i < 10; ++i) coros.push_back(task_coro(i));
  // run the tasks
  co_await aio::gather(std::move(coros));
  // report a message
  std::printf("main done\n");
}

int main() { aio::run(main_()); }
