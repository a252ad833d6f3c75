// Seed f.executor (000_77fea42500069c72.txt, lines 10862-10932): the seed's snippets
// of the two ways to run a blocking call: to_thread(), and loop.run_in_executor() with
// the default executor or with an executor of our own (shut down when done). Each
// call blocks for 1 s on its thread; they run one after the other: 3 s.
#include <cstdio>
#include <string>

#include "aio/aio.hpp"

// a blocking call
std::string task(std::string how) {
  aio::time::sleep(1);
  return "done with " + how;
}

aio::Coro<> main_coro() {
  // execute a function in a separate thread
  std::printf("%s\n", (co_await aio::to_thread(task, "to_thread")).c_str());
  // get the event loop; execute a function on the default executor
  aio::EventLoop& loop = aio::get_running_loop();
  std::printf("%s\n", (co_await loop.run_in_executor(nullptr, task, "the default executor")).c_str());
  // create a thread pool; it is shut down when it goes
  {
    aio::ThreadPoolExecutor exe;
    std::printf("%s\n", (co_await loop.run_in_executor(&exe, task, "our own executor")).c_str());
  }
}

int main() { aio::run(main_coro()); }
