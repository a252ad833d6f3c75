// Seed e.rand (000_77fea42500069c72.txt, lines 2700-2734): makerandom() draws
// integers until one exceeds its threshold, sleeping between draws; three of them
// run under gather. Python's random with seed 444, so the numbers are Python's.
#include <cstdio>
#include <string>

#include "aio/aio.hpp"
#include "py_random.hpp"

PyRandom random_;

// ANSI colors
const char* const c[] = {
    "\033[0m",   // End of color
    "\033[36m",  // Cyan
    "\033[91m",  // Red
    "\033[35m",  // Magenta
};

aio::Coro<long> makerandom(int idx, int threshold = 6) {
  std::printf("%sInitiated makerandom(%d).\n", c[idx + 1], idx);
  long i = random_.randint(0, 10);
  while (i <= threshold) {
    std::printf("%smakerandom(%d) == %ld too low; retrying.\n", c[idx + 1], idx, i);
    co_await aio::sleep(idx + 1);
    i = random_.randint(0, 10);
  }
  std::printf("%s---> Finished: makerandom(%d) == %ld%s\n", c[idx + 1], idx, i, c[0]);
  co_return i;
}

aio::Coro<std::tuple<long, long, long>> main_() {
  co_return co_await aio::gather(makerandom(0, 10 - 0 - 1), makerandom(1, 10 - 1 - 1), makerandom(2, 10 - 2 - 1));
}

int main() {
  random_.seed(444);
  auto [r1, r2, r3] = aio::run(main_());
  std::printf("\n");
  std::printf("r1: %ld, r2: %ld, r3: %ld\n", r1, r2, r3);
}
