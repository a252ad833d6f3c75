// Seed f.callback (000_77fea42500069c72.txt, lines 10694-10860): the section's
// snippets in one program: a done callback showing progress, a `delay` wrapper that
// starts a coroutine after a pause (awaited, and as a background task), and the three
// ways to issue a follow-up task (from the task itself, from the caller, from a done
// callback). The lines are the ones the same program prints under CPython.
#include <cstdio>
#include <string>
#include <vector>

#include "aio/aio.hpp"

// callback function to show progress of tasks
void progress(aio::Task<bool>&) {
  std::printf(".");
  std::fflush(stdout);
}

// coroutine that will start another coroutine after a delay in seconds
aio::Coro<> delay(aio::Coro<> coro, double seconds) {
  // suspend for a time limit in seconds
  co_await aio::sleep(seconds);
  // execute the other coroutine
  co_await coro;
}

aio::Coro<bool> work(int n) {
  co_await aio::sleep(n / 10.0);
  co_return n % 2 == 0;
}

aio::Coro<> followup(std::string name) {
  std::printf("follow-up %s running\n", name.c_str());
  co_await aio::sleep(0.1);
  std::printf("follow-up %s done\n", name.c_str());
}

// The follow-up issued by the completed task itself. The loop keeps a task alive
// until it finishes, so there is no need to keep a reference (asyncio needs one).
aio::Coro<> work_then_followup() {
  co_await aio::sleep(0.1);
  aio::create_task(followup("from the task"));
}

// The follow-up issued by a done callback.
void callback(aio::Task<bool>&) { aio::create_task(followup("from a callback")); }

aio::Coro<> main_() {
  aio::EventLoop& loop = aio::get_running_loop();
  std::vector<aio::Task<bool>> tasks;
  for (int i = 0; i < 10; ++i) tasks.push_back(aio::create_task(work(i)));
  for (auto& task : tasks) task.add_done_callback(progress);
  co_await aio::wait(tasks);
  std::printf("\n");
  const double start = loop.time();
  co_await delay(followup("delayed"), 1);
  std::printf("delayed by %.1f s\n", loop.time() - start);
  aio::create_task(delay(followup("delayed in the background"), 0.45));
  co_await work_then_followup();
  co_await aio::sleep(0.2);
  auto task = aio::create_task(work(2));
  co_await task;
  if (task.result()) {
    auto followup_task = aio::create_task(followup("from the caller"));
    co_await followup_task;
  }
  task = aio::create_task(work(1));
  task.add_done_callback(callback);
  co_await task;
  co_await aio::sleep(0.5);
  std::printf("main done\n");
}

int main() { aio::run(main_()); }
