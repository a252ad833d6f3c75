// Seed b.never-awaited (000_77fea42500069c72.txt, lines 661-684): calling a coroutine
// function without awaiting it does nothing but build a coroutine, which Python
// reports when it is destroyed. In C++ the call alone does not compile
// (Coro is [[nodiscard]]); `(void)` says "discard it on purpose", and the runtime
// report is the same as Python's.
#include <cstdio>

#include "aio/aio.hpp"

aio::Coro<> async_func() {
  std::printf("Запуск ...\n");
  co_await aio::sleep(1);
  std::printf("... Готово!\n");
}

aio::Coro<> main_() {
  (void)async_func();  // this does nothing (and is reported)
  co_await async_func();
}

int main() { aio::run(main_()); }
