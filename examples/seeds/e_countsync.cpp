// Seed e.countsync (000_77fea42500069c72.txt, lines 2597-2626): the same with a
// blocking sleep: One Two, three times, 3 s.
#include <cstdio>

#include "aio/aio.hpp"

void count() {
  std::printf("One\n");
  aio::time::sleep(1);
  std::printf("Two\n");
}

void main_() {
  for (int i = 0; i < 3; ++i) count();
}

int main(int, char** argv) {
  const double s = aio::time::perf_counter();
  main_();
  const double elapsed = aio::time::perf_counter() - s;
  std::printf("%s executed in %0.2f seconds.\n", argv[0], elapsed);
}
