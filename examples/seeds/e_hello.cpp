// Seed e.hello (000_77fea42500069c72.txt, lines 3097-3112): calling main() only makes
// a coroutine object; aio::run(routine) runs it: "Hello ...", 1 s, "World!".
#include <cstdio>

#include "aio/aio.hpp"

aio::Coro<> main_() {
  std::printf("Hello ...\n");
  co_await aio::sleep(1);
  std::printf("World!\n");
}

int main() {
  aio::Coro<> routine = main_();
  std::printf("%s\n", routine.repr().c_str());  // >>> routine
  aio::run(std::move(routine));
}
