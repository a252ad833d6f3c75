// Seed f.all (000_77fea42500069c72.txt, lines 5382-5540): ten tasks sleeping 1 s;
// all_tasks() lists them and the main task: 11 tasks.
#include <cstdio>
#include <vector>

#include "aio/aio.hpp"

// coroutine for a task
aio::Coro<> task_coroutine(int value) {
  // report a message
  std::printf("task %d is running\n", value);
  // block for a moment
  co_await aio::sleep(1);
}

// define a main coroutine
aio::Coro<> main_() {
  // report a message
  std::printf("main coroutine started\n");
  // start many tasks
  std::vector<aio::Task<>> started_tasks;
  for (int i = 0; i < 10; ++i) started_tasks.push_back(aio::create_task(task_coroutine(i)));
  // allow some of the tasks time to start
  co_await aio::sleep(0.1);
  // get all tasks
  std::vector<aio::Task<>> tasks = aio::all_tasks();
  // report all tasks
  for (const aio::Task<>& task : tasks) std::printf("> %s, %s\n", task.get_name().c_str(), task.get_coro().repr().c_str());
  // wait for all tasks to complete
  for (aio::Task<>& task : started_tasks) co_await task;
}

int main() { aio::run(main_()); }
