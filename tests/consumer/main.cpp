#include <aio/aio.hpp>
#include <cstdio>

aio::Coro<int> twice(int x) {
  co_await aio::sleep(0.01);
  co_return 2 * x;
}

aio::Coro<int> main_() {
  auto [a, b] = co_await aio::gather(twice(1), twice(2));
  co_return a + b;
}

int main() {
  std::printf("consumer ok %d\n", aio::run(main_()));
  return 0;
}
