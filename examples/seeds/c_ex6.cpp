// Seed c.ex6 (000_77fea42500069c72.txt, lines 2145-2219): two tasks share an
// aio::Queue of seven URLs and fetch them with aiohttp-style ClientSessions, so the
// waits overlap: about half of c.ex5's time. The seed's sites are local stand-ins
// (examples/http/, /site/NAME) answering after --latency seconds (0.5 s by default).
// Timer is codetiming's Timer: it prints its text with the seconds since start().
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "../http/stand_in.hpp"
#include "aio/aio.hpp"
#include "seed_args.hpp"
#include "codetiming.hpp"
#include "aio/http.hpp"

aio::Coro<> task(std::string name, aio::Queue<std::string>& work_queue, std::string base) {
  Timer timer("Task " + name + " elapsed time: %.1f\n");
  aio::http::ClientSession session;
  while (!work_queue.empty()) {
    const std::string url = co_await work_queue.get();
    std::printf("Task %s getting URL: %s\n", name.c_str(), url.c_str());
    timer.start();
    {
      aio::http::ClientResponse response = co_await session.get(base + "/site/" + url.substr(7));
      (void)co_await response.text();
    }
    timer.stop();
  }
  co_await session.close();
}

aio::Coro<> main_(double latency) {
  auto services = co_await stand_in::Services::start(latency);
  // Create the queue of work and put the work in it.
  aio::Queue<std::string> work_queue;
  for (const char* url : {"http://google.com", "http://yahoo.com", "http://linkedin.com", "http://apple.com",
                          "http://microsoft.com", "http://facebook.com", "http://twitter.com"}) {
    co_await work_queue.put(url);
  }
  // Run the tasks.
  Timer total("\nTotal elapsed time: %.1f\n");
  total.start();
  const std::string base = services->url("");
  co_await aio::gather(aio::create_task(task("One", work_queue, base)), aio::create_task(task("Two", work_queue, base)));
  total.stop();
  co_await services->close();
}

int main(int argc, char** argv) {
  const double latency = latency_arg(argc, argv, 0.5);
  aio::run(main_(latency));
}
