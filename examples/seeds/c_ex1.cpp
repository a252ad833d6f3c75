// Seed c.ex1 (000_77fea42500069c72.txt, lines 1101-1180; in English in
// 003_35a9083776c30a1a.txt): two synchronous "tasks" on a work queue. Task One does
// all the work before Task Two even starts.
#include <cstdio>
#include <queue>
#include <string>
#include <vector>

void task(const std::string& name, std::queue<int>& work_queue) {
  if (work_queue.empty()) {
    std::printf("Task %s nothing to do\n", name.c_str());
  } else {
    while (!work_queue.empty()) {
      const int count = work_queue.front();
      work_queue.pop();
      int total = 0;
      std::printf("Task %s running\n", name.c_str());
      for (int x = 0; x < count; ++x) total += 1;
      std::printf("Task %s total: %d\n", name.c_str(), total);
    }
  }
}

int main() {
  std::queue<int> work_queue;
  for (int work : {15, 10, 5, 2}) work_queue.push(work);
  const std::vector<std::string> names{"One", "Two"};
  for (const std::string& n : names) task(n, work_queue);
}
