// Seed c.ex5 (000_77fea42500069c72.txt, lines 1908-1995): c.ex3's two generator
// workers, now fetching seven URLs with a blocking client (the seed's requests.Session):
// each waits for its whole answer, so the latencies add up. The seed's sites are local
// stand-ins (examples/http/, /site/NAME) on a thread of their own, answering after
// --latency seconds (0.5 s by default). Timer is codetiming's Timer.
#include <cstdio>
#include <cstdlib>
#include <queue>
#include <string>
#include <string_view>
#include <vector>

#include "../http/stand_in.hpp"
#include "aio/aio.hpp"
#include "seed_args.hpp"
#include "codetiming.hpp"

aio::Generator<> task(std::string name, std::queue<std::string>& work_queue, std::string base) {
  Timer timer("Task " + name + " elapsed time: %.1f\n");
  while (!work_queue.empty()) {
    const std::string url = work_queue.front();
    work_queue.pop();
    std::printf("Task %s getting URL: %s\n", name.c_str(), url.c_str());
    timer.start();
    (void)stand_in::blocking_get(base + "/site/" + url.substr(7));
    timer.stop();
    co_yield aio::None{};
  }
}

int main(int argc, char** argv) {
  const double latency = latency_arg(argc, argv, 0.5);
  stand_in::ServicesThread services(latency);
  // Create the queue of work and put the work in it.
  std::queue<std::string> work_queue;
  for (const char* url : {"http://google.com", "http://yahoo.com", "http://linkedin.com", "http://apple.com",
                          "http://microsoft.com", "http://facebook.com", "http://twitter.com"}) {
    work_queue.push(url);
  }
  std::vector<aio::Generator<>> tasks;
  tasks.push_back(task("One", work_queue, services.url("")));
  tasks.push_back(task("Two", work_queue, services.url("")));
  // Run the tasks.
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
