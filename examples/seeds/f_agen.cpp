// Seed f.agen (000_77fea42500069c72.txt, lines 7703-7737): an asynchronous generator
// consumed with `async for`: 0..9, one per second.
#include <cstdio>

#include "aio/aio.hpp"

// An asynchronous generator.
aio::AsyncGenerator<int> async_generator() {
  for (int i = 0; i < 10; ++i) {
    // block to simulate doing work
    co_await aio::sleep(1);
    // yield the result
    co_yield i;
  }
}

aio::Coro<> main_coro() {
  // async for item in async_generator():
  auto gen = async_generator();
  while (auto item = co_await gen.next()) std::printf("%d\n", *item);
}

int main() { aio::run(main_coro()); }
