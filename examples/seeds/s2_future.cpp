// Seed s2.future (002_9eae5cc975999e1e.txt, lines 230-285): foo awaits a Future that
// bar resolves after 3 s; first under gather, then (with --tasks) as two tasks on the
// loop, the seed's second version.
#include <cstdio>
#include <cstring>
#include <string>

#include "aio/aio.hpp"

aio::Coro<> bar(aio::Future<std::string> future) {
  std::printf("bar will sleep for 3 seconds\n");
  co_await aio::sleep(3);
  std::printf("bar resolving the future\n");
  (void)future.done();
  future.set_result("future is resolved");
}

aio::Coro<> foo(aio::Future<std::string> future) {
  std::printf("foo will await the future\n");
  co_await future;
  std::printf("foo finds the future resolved\n");
}

aio::Coro<> main_gather() {
  aio::Future<std::string> future;
  auto results = co_await aio::gather(foo(future), bar(future));
  (void)results;
}

aio::Coro<> main_tasks() {
  aio::Future<std::string> future;
  aio::EventLoop& loop = aio::get_event_loop();
  auto t1 = loop.create_task(bar(future));
  auto t2 = loop.create_task(foo(future));
  co_await t2;  // Python's `await t2, t1` awaits t2 only (the tuple holds t1 as it is)
  (void)t1;
}

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--tasks") == 0) {
    aio::EventLoop& loop = aio::get_event_loop();
    loop.run_until_complete(main_tasks());
  } else {
    aio::run(main_gather());
  }
  std::printf("main exiting\n");
}
