// Seed e.gen (000_77fea42500069c72.txt, lines 2960-3026): generators stop and resume
// at will. gen() yields one tuple; endless() cycles 9 8 7 6 forever; iteration breaks
// once the total passes 30 and resumes later with next().
#include <cstdio>
#include <tuple>

#include "aio/aio.hpp"

aio::Generator<std::tuple<int, int, int>> gen() { co_yield std::tuple{0x10, 0x20, 0x30}; }

aio::Generator<int> endless() {
  // Yields 9, 8, 7, 6, 9, 8, 7, 6, ... forever
  for (;;) {
    for (int i : {9, 8, 7, 6}) co_yield i;
  }
}

int main() {
  auto g = gen();  // nothing much happens: need to iterate with next()
  const auto [a, b, c] = aio::next(g);
  std::printf("(%d, %d, %d)\n", a, b, c);

  auto e = endless();
  int total = 0;
  for (int i : e) {
    if (total < 30) {
      std::printf("%d ", i);
      total += i;
    } else {
      std::printf("\n");
      break;  // pause execution; we can resume later
    }
  }
  // Resume
  const int x = aio::next(e);
  const int y = aio::next(e);
  const int z = aio::next(e);
  std::printf("(%d, %d, %d)\n", x, y, z);
}
