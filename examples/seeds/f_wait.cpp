// Seed f.wait (000_77fea42500069c72.txt, lines 6058-6138): ten tasks sleep a random
// fraction of a second; wait() returns when all are done. They finish in ascending
// order of their values.
#include <cstdio>
#include <vector>

#include "aio/aio.hpp"
#include "py_random.hpp"

PyRandom random_;

// coroutine to execute in a new task
aio::Coro<> task_coro(int arg) {
  // generate a random value between 0 and 1
  const double value = random_.random();
  // block for a moment
  co_await aio::sleep(value);
  // report the value
  std::printf(">task %d done with %s\n", arg, PyRandom::repr(value).c_str());
}

// main coroutine
aio::Coro<> main_() {
  // create many tasks
  std::vector<aio::Task<>> tasks;
  for (int i = 0; i < 10; ++i) tasks.push_back(aio::create_task(task_coro(i)));
  // wait for all tasks to complete
  auto [done, pending] = co_await aio::wait(tasks);
  // report results
  std::printf("All done\n");
}

int main() { aio::run(main_()); }
