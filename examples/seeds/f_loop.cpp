// Seed f.loop (000_77fea42500069c72.txt, lines 4533-4583): create an event loop and
// report it; get_running_loop() works only inside a running loop.
#include <cstdio>

#include "aio/aio.hpp"

int main() {
  // create and access a new asyncio event loop
  auto loop = aio::new_event_loop();
  // report defaults of the loop
  std::printf("%s\n", loop->repr().c_str());
  // outside a running loop there is none to get
  try {
    aio::get_running_loop();
  } catch (const aio::RuntimeError& e) {
    std::printf("RuntimeError: %s\n", e.what());
  }
  // inside, it is the loop that runs the coroutine
  loop->run_until_complete([]() -> aio::Coro<> {
    aio::EventLoop& running = aio::get_running_loop();
    std::printf("%s\n", running.repr().c_str());
    co_return;
  }());
  loop->close();
  std::printf("%s\n", loop->repr().c_str());
}
