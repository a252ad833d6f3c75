// Seed b.loop (000_77fea42500069c72.txt, lines 726-756): three tasks on the loop from
// get_event_loop(), waited for with asyncio.wait: all start, then all finish, 1 s.
#include <cstdio>
#include <string>
#include <vector>

#include "aio/aio.hpp"

aio::EventLoop* loop = nullptr;

aio::Coro<> async_func(std::string task_no) {
  std::printf("%s: Запуск ...\n", task_no.c_str());
  co_await aio::sleep(1);
  std::printf("%s: ... Готово!\n", task_no.c_str());
}

aio::Coro<> main_() {
  auto taskA = loop->create_task(async_func("taskA"));
  auto taskB = loop->create_task(async_func("taskB"));
  auto taskC = loop->create_task(async_func("taskC"));
  std::vector tasks{taskA, taskB, taskC};
  co_await aio::wait(tasks);
}

int main() {
  try {
    loop = &aio::get_event_loop();
    loop->run_until_complete(main_());
  } catch (...) {
  }
}
