// Seed s1.speak (001_73b3861f43fb8fba.txt, lines 64-72): get the event loop, run one
// coroutine until it completes, close the loop.
#include <cstdio>

#include "aio/aio.hpp"

aio::Coro<> speak_async() {
  std::printf("OMG asynchronicity!\n");
  co_return;
}

int main() {
  aio::EventLoop& loop = aio::get_event_loop();
  loop.run_until_complete(speak_async());
  loop.close();
}
