// Seed c.ex3 (000_77fea42500069c72.txt, lines 1506-1570): the generator workers with
// a blocking time.sleep(delay) each: the delays add up, 32 s in all. Timer is
// codetiming's Timer: it prints its text with the seconds since start() at stop().
#include <cstdio>
#include <queue>
#include <string>
#include <vector>

#include "aio/aio.hpp"
#include "codetiming.hpp"

aio::Generator<> task(std::string name, std::queue<int>& queue) {
  Timer timer("Task " + name + " elapsed time: %.1f\n");
  while (!queue.empty()) {
    const int delay = queue.front();
    queue.pop();
    std::printf("Task %s running\n", name.c_str());
    timer.start();
    aio::time::sleep(delay);
    timer.stop();
    co_yield aio::None{};
  }
}

int main() {
  std::queue<int> work_queue;
  for (int work : {15, 10, 5, 2}) work_queue.push(work);
  std::vector<aio::Generator<>> tasks;
  tasks.push_back(task("One", work_queue));
  tasks.push_back(task("Two", work_queue));
  bool done = false;
  Timer total("\nTotal elapsed time: %.1f\n");
  total.start();
  while (!done) {
    for (std::size_t i = 0; i < tasks.size(); ++i) {  // see c_ex2.cpp for the index
      try {
        aio::next(tasks[i]);
      } catch (const aio::StopIteration&) {
        tasks.erase(tasks.begin() + static_cast<std::ptrdiff_t>(i));
      }
      if (tasks.empty()) done = true;
    }
  }
  total.stop();
}
