// Seed c.ex2 (000_77fea42500069c72.txt, lines 1302-1364): the workers become
// generators that yield after every step, and main() is a round-robin scheduler that
// calls next() on each in turn. Output interleaves (lines 1378-1392).
#include <cstdio>
#include <queue>
#include <string>
#include <vector>

#include "aio/aio.hpp"

aio::Generator<> task(std::string name, std::queue<int>& queue) {
  while (!queue.empty()) {
    const int count = queue.front();
    queue.pop();
    int total = 0;
    std::printf("Task %s running\n", name.c_str());
    for (int x = 0; x < count; ++x) {
      total += 1;
      co_yield aio::None{};
    }
    std::printf("Task %s total: %d\n", name.c_str(), total);
  }
}

int main() {
  std::queue<int> work_queue;
  for (int work : {15, 10, 5, 2}) work_queue.push(work);
  std::vector<aio::Generator<>> tasks;
  tasks.push_back(task("One", work_queue));
  tasks.push_back(task("Two", work_queue));
  bool done = false;
  while (!done) {
    // Python's `for t in tasks:` with tasks.remove(t) inside: the list iterator keeps
    // its index, so the task after a removed one is skipped in that round.
    for (std::size_t i = 0; i < tasks.size(); ++i) {
      try {
        aio::next(tasks[i]);
      } catch (const aio::StopIteration&) {
        tasks.erase(tasks.begin() + static_cast<std::ptrdiff_t>(i));
      }
      if (tasks.empty()) done = true;
    }
  }
}
