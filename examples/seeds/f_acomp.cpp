// Seed f.acomp (000_77fea42500069c72.txt, lines 8180-8238): the seed shows snippets of
// an async comprehension, `[a async for a in agenerator]` (aio::collect), and an await
// comprehension, `[await a for a in awaitables]` (a loop of co_await); this program runs
// both. The await comprehension awaits one after the other: 1 + 2 + 3 s.
#include <cstdio>
#include <string>
#include <vector>

#include "aio/aio.hpp"

aio::AsyncGenerator<int> agenerator() {
  for (int i = 0; i < 5; ++i) {
    co_await aio::sleep(0.5);
    co_yield i * i;
  }
}

aio::Coro<int> work(int seconds) {
  co_await aio::sleep(seconds);
  co_return seconds * 10;
}

std::string list(const std::vector<int>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

aio::Coro<> main_coro() {
  // async list comprehension with an async generator
  std::vector<int> result = co_await aio::collect(agenerator());
  std::printf("%s\n", list(result).c_str());
  // await list comprehension with a collection of awaitables
  std::vector<aio::Coro<int>> awaitables;
  for (int s : {1, 2, 3}) awaitables.push_back(work(s));
  std::vector<int> results;
  for (auto& a : awaitables) results.push_back(co_await std::move(a));
  std::printf("%s\n", list(results).c_str());
}

int main() { aio::run(main_coro()); }
