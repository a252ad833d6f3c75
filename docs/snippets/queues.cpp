// Guide, "Queues": workers on an asyncio.Queue with task_done() and join()
// (seeds c.ex4, e.asyncq).
// test: env AIO_CLOCK=virtual
// test: stdout Task One running
// test: stdout Task Two running
// test: stdout Task Two total: 10
// test: stdout Task Two running
// test: stdout Task One total: 15
// test: stdout Task One running
// test: stdout Task Two total: 5
// test: stdout Task One total: 2
// test: stdout Elapsed time: 17.0
#include <cstdio>
#include <string>

#include <aio/aio.hpp>

// [snippet]
aio::Coro<> task(std::string name, aio::Queue<int>& work_queue) {
  while (!work_queue.empty()) {
    int delay = co_await work_queue.get();
    std::printf("Task %s running\n", name.c_str());
    co_await aio::sleep(delay);
    std::printf("Task %s total: %d\n", name.c_str(), delay);
    work_queue.task_done();
  }
}

aio::Coro<> main_() {
  aio::Queue<int> work_queue;
  for (int work : {15, 10, 5, 2}) co_await work_queue.put(work);

  const double start = aio::time::perf_counter();
  co_await aio::gather(task("One", work_queue), task("Two", work_queue));
  co_await work_queue.join();                  // every item was task_done()
  std::printf("Elapsed time: %.1f\n", aio::time::perf_counter() - start);
}
// [/snippet]

int main() { aio::run(main_()); }
