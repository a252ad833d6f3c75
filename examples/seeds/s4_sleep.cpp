// Seed s4.sleep (004_b3bba8fa071044f7.txt, lines 145-230): async_sleep(1, 2, 3)
// awaited one by one (6 s), then under gather (3 s).
#include <cstdio>
#include <vector>

#include "aio/aio.hpp"

aio::Coro<> async_sleep(int num) {
  std::printf("Sleeping %d seconds.\n", num);
  co_await aio::sleep(num);
}

aio::Coro<> main_sequential() {
  const double start = aio::time::perf_counter();
  for (int i = 1; i < 4; ++i) co_await async_sleep(i);
  const double duration = aio::time::perf_counter() - start;
  std::printf("Took %.2f seconds.\n", duration);
}

aio::Coro<> main_gather() {
  const double start = aio::time::perf_counter();
  std::vector<aio::Coro<>> coro_objs;
  for (int i = 1; i < 4; ++i) coro_objs.push_back(async_sleep(i));
  co_await aio::gather(std::move(coro_objs));
  const double duration = aio::time::perf_counter() - start;
  std::printf("Took %.2f seconds.\n", duration);
}

int main() {
  aio::run(main_sequential());
  aio::run(main_gather());
}
