// Seed e.asyncgen (000_77fea42500069c72.txt, lines 3032-3063): an async generator of
// powers of 2 and two async comprehensions over it (aio::collect).
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "aio/aio.hpp"

aio::AsyncGenerator<int> mygen(int u = 10) {
  // Yield powers of 2.
  int i = 0;
  while (i < u) {
    co_yield 1 << i;
    i += 1;
    co_await aio::sleep(0.1);
  }
}

aio::Coro<std::pair<std::vector<int>, std::vector<int>>> main_coro() {
  // This does *not* introduce concurrent execution; it is meant to show syntax only.
  std::vector<int> g = co_await aio::collect(mygen());
  std::vector<int> f = co_await aio::collect(mygen(), [](int j) { return !(j / 3 % 5); });
  co_return std::pair{g, f};
}

std::string list(const std::vector<int>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

int main() {
  auto [g, f] = aio::run(main_coro());
  std::printf("%s\n%s\n", list(g).c_str(), list(f).c_str());
}
