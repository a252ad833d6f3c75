// Seed a2.3 (000_77fea42500069c72.txt, lines 133-158): a2.2 with the older loop API:
// get_event_loop, loop.create_task, run_until_complete(wait([...])).
#include <cmath>
#include <cstdio>
#include <vector>

#include "aio/aio.hpp"

aio::Coro<> fun1(int x) {
  std::printf("%d\n", x * x);
  co_await aio::sleep(3);
  std::printf("fun1 завершена\n");
}

aio::Coro<> fun2(int x) {
  std::printf("%.1f\n", std::sqrt(x));
  co_await aio::sleep(3);
  std::printf("fun2 завершена\n");
}

int main() {
  std::printf("%s\n", aio::time::strftime("%X").c_str());
  aio::EventLoop& loop = aio::get_event_loop();
  auto task1 = loop.create_task(fun1(4));
  auto task2 = loop.create_task(fun2(4));
  loop.run_until_complete(aio::wait(std::vector{task1, task2}));
  std::printf("%s\n", aio::time::strftime("%X").c_str());
}
