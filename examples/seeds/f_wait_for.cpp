// Seed f.wait_for (000_77fea42500069c72.txt, lines 6300-6368): a coroutine that
// sleeps 1-2 s, awaited with a 0.2 s timeout: it is cancelled, and main gives up.
#include <cstdio>

#include "aio/aio.hpp"
#include "py_random.hpp"

PyRandom random_;

// coroutine to execute in a new task
aio::Coro<> task_coro(int) {
  // generate a random value between 0 and 1
  const double value = 1 + random_.random();
  // report message
  std::printf(">task got %s\n", PyRandom::repr(value).c_str());
  // block for a moment
  co_await aio::sleep(value);
  // report all done
  std::printf(">task done\n");
}

// main coroutine
aio::Coro<> main_() {
  // create a task
  aio::Coro<> task = task_coro(1);
  // execute and wait for the task without a timeout
  try {
    co_await aio::wait_for(std::move(task), 0.2);
  } catch (const aio::TimeoutError&) {
    std::printf("Gave up waiting, task canceled\n");
  }
}

int main() { aio::run(main_()); }
