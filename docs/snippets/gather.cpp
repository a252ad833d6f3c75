// Guide, "gather and wait": results in input order, whatever finishes first
// (seeds a5.4, f.gather, e.countasync).
// test: env AIO_CLOCK=virtual
// test: stdout count 3 starts
// test: stdout count 1 starts
// test: stdout count 2 starts
// test: stdout count 1 ends
// test: stdout count 2 ends
// test: stdout count 3 ends
// test: stdout [3, 1, 2] in 3.0 s
// test: stdout [10, 20, 30]
#include <cstdio>
#include <vector>

#include <aio/aio.hpp>

// [snippet]
aio::Coro<int> count(int n) {
  std::printf("count %d starts\n", n);
  co_await aio::sleep(n);
  std::printf("count %d ends\n", n);
  co_return n;
}

aio::Coro<> main_() {
  const double start = aio::time::perf_counter();
  auto [a, b, c] = co_await aio::gather(count(3), count(1), count(2));
  std::printf("[%d, %d, %d] in %.1f s\n", a, b, c, aio::time::perf_counter() - start);

  std::vector<aio::Coro<int>> coros;             // gather(*coros)
  for (int n : {10, 20, 30}) coros.push_back([](int x) -> aio::Coro<int> { co_return x; }(n));
  std::vector<int> results = co_await aio::gather(coros);
  std::printf("[%d, %d, %d]\n", results[0], results[1], results[2]);
}
// [/snippet]

int main() { aio::run(main_()); }
