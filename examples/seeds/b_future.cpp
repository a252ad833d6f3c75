// Seed b.future (000_77fea42500069c72.txt, lines 758-770): a Future is the eventual
// result of an asynchronous operation; awaiting it waits until it is resolved
// elsewhere. The seed shows no program; this one resolves a future from a callback
// one second later while a coroutine awaits it.
#include <cstdio>

#include "aio/aio.hpp"

aio::Coro<> main_() {
  aio::EventLoop& loop = aio::get_running_loop();
  aio::Future<int> fut = loop.create_future<int>();
  std::printf("future: %s\n", fut.repr().c_str());
  loop.call_later(1, [fut] { fut.set_result(42); });
  const int result = co_await fut;
  std::printf("future: %s\n", fut.repr().c_str());
  std::printf("result: %d\n", result);
}

int main() { aio::run(main_()); }
