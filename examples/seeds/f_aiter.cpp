// Seed f.aiter (000_77fea42500069c72.txt, lines 7365-7421): an asynchronous iterator
// class; `async for` over it prints 1..10, one per second. The class has Python's
// __anext__ as anext(), which throws StopAsyncIteration at the end.
#include <cstdio>

#include "aio/aio.hpp"

// An asynchronous iterator.
class AsyncIterator {
 public:
  // Returns the next value, after awaiting.
  aio::Coro<int> anext() {
    // check for no further items
    if (counter_ >= 10) throw aio::StopAsyncIteration();
    // increment the counter
    counter_ += 1;
    // simulate work
    co_await aio::sleep(1);
    // return the counter value
    co_return counter_;
  }

 private:
  int counter_ = 0;
};

aio::Coro<> main_coro() {
  // loop over the async iterator: async for item in AsyncIterator()
  AsyncIterator it;
  for (;;) {
    int item = 0;
    try {
      item = co_await it.anext();
    } catch (const aio::StopAsyncIteration&) {
      break;
    }
    std::printf("%d\n", item);
  }
}

int main() { aio::run(main_coro()); }
