// Seed s2.pipeline (002_9eae5cc975999e1e.txt, lines 290-350): chained coroutines
// computing x^2 + 3 for 0..99: "f(0) = 3" ... "f(99) = 9804". The native coroutine
// chain runs by default; --generators runs the seed's first version, a chain of
// generators delegating with `yield from`.
#include <cstdio>
#include <cstring>

#include "aio/aio.hpp"

namespace native {

aio::Coro<long> coro3(long k) { co_return k + 3; }

aio::Coro<long> coro2(long j) {
  j = j * j;
  const long res = co_await coro3(j);
  co_return res;
}

aio::Coro<> coro1() {
  long i = 0;
  while (i < 100) {
    const long res = co_await coro2(i);
    std::printf("f(%ld) = %ld\n", i, res);
    i += 1;
  }
}

}  // namespace native

namespace generators {

aio::Generator<long> coro3(long k) { co_yield k + 3; }

aio::Generator<long> coro2(long j) {
  j = j * j;
  for (long v : coro3(j)) co_yield v;  // yield from coro3(j)
}

aio::Generator<long> coro1() {
  long i = 0;
  while (true) {
    for (long v : coro2(i)) co_yield v;  // yield from coro2(i)
    i += 1;
  }
}

}  // namespace generators

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--generators") == 0) {
    auto cr = generators::coro1();
    for (long v = 0; v < 100; ++v) std::printf("f(%ld) = %ld\n", v, aio::next(cr));
    return 0;
  }
  // The first 100 natural numbers evaluated for the following expression: x^2 + 3
  aio::Coro<> cr = native::coro1();
  aio::EventLoop& loop = aio::get_event_loop();
  loop.run_until_complete(std::move(cr));
}
