// Seed s4.hello (004_b3bba8fa071044f7.txt, lines 60-140): a coroutine function returns
// a coroutine object, which runs only when awaited; a generator runs only when
// iterated; aio::run runs the entry point.
#include <cstdio>
#include <string>

#include "aio/aio.hpp"

aio::Coro<> coro_func() {
  std::printf("Hello, asyncio!\n");
  co_return;
}

aio::Generator<std::string> gen_func() { co_yield "Hello, generator!"; }

aio::Coro<> main_() {
  std::printf("In the entrypoint coroutine.\n");
  co_await coro_func();
}

int main() {
  {
    aio::Coro<> coro_obj = coro_func();
    std::printf("%s\n", aio::iscoroutine<decltype(coro_obj)> ? "coroutine" : "?");  // type(coro_obj)
  }  // only inspected, never awaited: reported, as Python reports it
  auto generator = gen_func();
  std::printf("generator\n");                           // type(generator)
  std::printf("'%s'\n", aio::next(generator).c_str());  // next(generator)
  aio::run(main_());
}
