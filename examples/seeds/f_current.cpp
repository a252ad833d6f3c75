// Seed f.current (000_77fea42500069c72.txt, lines 5202-5275): the main coroutine runs
// as a task too: current_task() inside it is Task-1.
#include <cstdio>

#include "aio/aio.hpp"

// define a main coroutine
aio::Coro<> main_() {
  // report a message
  std::printf("main coroutine started\n");
  // get the current task
  aio::Task<> task = aio::current_task();
  // report its details
  std::printf("%s\n", task.repr().c_str());
  co_return;
}

int main() { aio::run(main_()); }
