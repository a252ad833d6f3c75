// Seed b.tasks (000_77fea42500069c72.txt, lines 686-714): create_task, then await it.
#include <cstdio>

#include "aio/aio.hpp"

aio::Coro<> async_func() {
  std::printf("Запуск ...\n");
  co_await aio::sleep(1);
  std::printf("... Готово!\n");
}

aio::Coro<> main_() {
  auto task = aio::create_task(async_func());
  co_await task;
}

int main() { aio::run(main_()); }
