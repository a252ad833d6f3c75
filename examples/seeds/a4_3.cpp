// Seed a4.3 (000_77fea42500069c72.txt, lines 372-405): awaiting the coroutines
// directly, without tasks: they run one after the other, 6 s in all.
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
  co_await fun1(4);
  co_await fun2(4);
}

int main() {
  std::printf("%s\n", aio::time::strftime("%X").c_str());
  aio::run(main_());
  std::printf("%s\n", aio::time::strftime("%X").c_str());
}
