// Seed e.coro (000_77fea42500069c72.txt, lines 3393-3452): a task awaited by main;
// gather of two tasks (10 s, results in input order); as_completed (results in the
// order they finish: 3 s, then 10 s).
#include <cstdio>
#include <string>
#include <vector>

#include "aio/aio.hpp"

// Python's repr of a list of ints.
std::string py_list(const std::vector<int>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + std::to_string(v[i]);
  return out + "]";
}

// 'IO' wait time is proportional to the max element.
aio::Coro<std::vector<int>> coro(std::vector<int> seq) {
  int max = seq.front();
  for (int x : seq) max = x > max ? x : max;
  co_await aio::sleep(max);
  co_return std::vector<int>(seq.rbegin(), seq.rend());
}

aio::Coro<> main1() {
  auto t = aio::create_task(coro({3, 2, 1}));
  co_await t;
  std::printf("t: type <class 'aio::Task<std::vector<int>>'>\n");
  std::printf("t done: %s\n", t.done() ? "True" : "False");
}

aio::Coro<std::vector<std::vector<int>>> main2() {
  auto t = aio::create_task(coro({3, 2, 1}));
  auto t2 = aio::create_task(coro({10, 5, 0}));
  std::printf("Start: %s\n", aio::time::strftime("%X").c_str());
  auto [a1, a2] = co_await aio::gather(t, t2);
  std::printf("End: %s\n", aio::time::strftime("%X").c_str());  // Should be 10 seconds
  std::printf("Both tasks done: %s\n", t.done() && t2.done() ? "True" : "False");
  co_return std::vector<std::vector<int>>{a1, a2};
}

aio::Coro<> main3() {
  auto t = aio::create_task(coro({3, 2, 1}));
  auto t2 = aio::create_task(coro({10, 5, 0}));
  std::printf("Start: %s\n", aio::time::strftime("%X").c_str());
  for (auto res : aio::as_completed(std::vector{t, t2})) {
    auto compl_ = co_await std::move(res);
    std::printf("res: %s completed at %s\n", py_list(compl_).c_str(), aio::time::strftime("%X").c_str());
  }
  std::printf("End: %s\n", aio::time::strftime("%X").c_str());
  std::printf("Both tasks done: %s\n", t.done() && t2.done() ? "True" : "False");
}

int main() {
  aio::run(main1());
  auto a = aio::run(main2());
  std::printf("[%s, %s]\n", py_list(a[0]).c_str(), py_list(a[1]).c_str());  // >>> a
  aio::run(main3());
}
