// Seed e.countasync (000_77fea42500069c72.txt, lines 2560-2591): three count()
// coroutines under gather: One One One, then after 1 s Two Two Two.
#include <cstdio>

#include "aio/aio.hpp"

aio::Coro<> count() {
  std::printf("One\n");
  co_await aio::sleep(1);
  std::printf("Two\n");
}

aio::Coro<> main_() { co_await aio::gather(count(), count(), count()); }

int main(int, char** argv) {
  const double s = aio::time::perf_counter();
  aio::run(main_());
  const double elapsed = aio::time::perf_counter() - s;
  std::printf("%s executed in %0.2f seconds.\n", argv[0], elapsed);
}
