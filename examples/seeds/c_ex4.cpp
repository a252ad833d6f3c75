// Seed c.ex4 (000_77fea42500069c72.txt, lines 1701-1753; in English in
// 003_35a9083776c30a1a.txt): two tasks share an aio::Queue of work and sleep without
// blocking, so the delays overlap: 17 s in all instead of 32. Timer is codetiming's
// Timer: it prints its text with the seconds since start() at stop().
#include <cstdio>
#include <string>

#include "aio/aio.hpp"
#include "codetiming.hpp"

aio::Coro<> task(std::string name, aio::Queue<int>& work_queue) {
  Timer timer("Task " + name + " elapsed time: %.1f\n");
  while (!work_queue.empty()) {
    const int delay = co_await work_queue.get();
    std::printf("Task %s running\n", name.c_str());
    timer.start();
    co_await aio::sleep(delay);
    timer.stop();
  }
}

aio::Coro<> main_coro() {
  // Create the queue of work and put the work in it.
  aio::Queue<int> work_queue;
  for (int work : {15, 10, 5, 2}) co_await work_queue.put(work);
  // Run the tasks.
  Timer total("\nTotal elapsed time: %.1f\n");
  total.start();
  co_await aio::gather(aio::create_task(task("One", work_queue)), aio::create_task(task("Two", work_queue)));
  total.stop();
}

int main() { aio::run(main_coro()); }
