// Seed a2.2 (000_77fea42500069c72.txt, lines 67-97): the same two functions as tasks
// with a non-blocking sleep: both fast parts at once, both messages after 3 s.
#include <cmath>
#include <cstdio>

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

aio::Coro<> main_() {
  auto task1 = aio::create_task(fun1(4));
  auto task2 = aio::create_task(fun2(4));
  co_await task1;
  co_await task2;
}

int main() {
  std::printf("%s\n", aio::time::strftime("%X").c_str());
  aio::run(main_());
  std::printf("%s\n", aio::time::strftime("%X").c_str());
}
