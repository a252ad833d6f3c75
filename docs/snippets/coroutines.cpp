// Guide, "Coroutines": a coroutine is lazy, awaiting runs it inline; two awaits in a
// row take the sum of their times (seeds s4.sleep, a4.3, a3.x).
// test: env AIO_CLOCK=virtual
// test: stdout sleeping 1 s
// test: stdout sleeping 2 s
// test: stdout total 3.0
// test: stdout 3 s, in 3.0 s
// [snippet]
#include <cstdio>

#include <aio/aio.hpp>

aio::Coro<int> async_sleep(int seconds) {   // async def async_sleep(seconds):
  std::printf("sleeping %d s\n", seconds);
  co_await aio::sleep(seconds);
  co_return seconds;                          //     return seconds
}

aio::Coro<> main_() {
  const double start = aio::time::perf_counter();
  aio::Coro<int> c = async_sleep(1);          // nothing runs yet: c is a coroutine object
  int total = co_await std::move(c);          // runs it to its end, here
  total += co_await async_sleep(2);           // one after the other: 1 s + 2 s
  std::printf("total %d.0\n", total);
  std::printf("%d s, in %.1f s\n", total, aio::time::perf_counter() - start);
}

int main() { aio::run(main_()); }
// [/snippet]
