// Seed e.chained (000_77fea42500069c72.txt, lines 2757-2818): chained.py 9 6 3:
// part1 then part2 for each argument, the chains concurrent under gather. Python's
// random with seed 444: the chains take 4, 8 and 11 s; the program 11 s.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "aio/aio.hpp"
#include "py_random.hpp"

PyRandom random_;

aio::Coro<std::string> part1(int n) {
  const long i = random_.randint(0, 10);
  std::printf("part1(%d) sleeping for %ld seconds.\n", n, i);
  co_await aio::sleep(i);
  std::string result = "result" + std::to_string(n) + "-1";
  std::printf("Returning part1(%d) == %s.\n", n, result.c_str());
  co_return result;
}

aio::Coro<std::string> part2(int n, std::string arg) {
  const long i = random_.randint(0, 10);
  std::printf("part2(%d, '%s') sleeping for %ld seconds.\n", n, arg.c_str(), i);
  co_await aio::sleep(i);
  std::string result = "result" + std::to_string(n) + "-2 derived from " + arg;
  std::printf("Returning part2(%d, '%s') == %s.\n", n, arg.c_str(), result.c_str());
  co_return result;
}

aio::Coro<> chain(int n) {
  const double start = aio::time::perf_counter();
  std::string p1 = co_await part1(n);
  std::string p2 = co_await part2(n, p1);
  const double end = aio::time::perf_counter() - start;
  std::printf("-->Chained result%d => %s (took %0.2f seconds).\n", n, p2.c_str(), end);
}

aio::Coro<> main_(std::vector<int> args) {
  std::vector<aio::Coro<>> chains;
  for (int n : args) chains.push_back(chain(n));
  co_await aio::gather(std::move(chains));
}

int main(int argc, char** argv) {
  random_.seed(444);
  std::vector<int> args{1, 2, 3};
  if (argc > 1) {
    args.clear();
    for (int i = 1; i < argc; ++i) args.push_back(std::atoi(argv[i]));
  }
  const double start = aio::time::perf_counter();
  aio::run(main_(args));
  const double end = aio::time::perf_counter() - start;
  std::printf("Program finished in %0.2f seconds.\n", end);
}
