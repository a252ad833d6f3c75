// Seed f.actx (000_77fea42500069c72.txt, lines 8050-8116): an asynchronous context
// manager used with `async with` (aio::async_with): enter, body, exit, with 0.5 s
// sleeps in enter and exit.
#include <cstdio>
#include <exception>

#include "aio/aio.hpp"

// An asynchronous context manager.
class AsyncContextManager {
 public:
  // enter the async context manager
  aio::Coro<> aenter() {
    std::printf(">entering the context manager\n");
    co_await aio::sleep(0.5);  // block for a moment
  }
  // exit the async context manager
  aio::Coro<> aexit(std::exception_ptr) {
    std::printf(">exiting the context manager\n");
    co_await aio::sleep(0.5);  // block for a moment
  }
};

aio::Coro<> custom_coroutine() {
  // async with AsyncContextManager() as manager:
  co_await aio::async_with(AsyncContextManager(), [](AsyncContextManager&) -> aio::Coro<> {
    std::printf("within the manager\n");
    co_return;
  });
}

int main() { aio::run(custom_coroutine()); }
