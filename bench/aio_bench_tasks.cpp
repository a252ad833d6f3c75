// aio_bench_tasks [W1|W2|W3|W4]: the task workloads of docs/benchmarks.md, one line each:
//   name=W1 n=1000000 seconds=0.123 per_op_ns=123.0
// With no argument every workload runs, each in a fresh process (so that one's memory
// does not hide the next one's peak RSS).
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "aio/aio.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Peak resident set size in bytes (VmHWM).
long peak_rss() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6) * 1024;
  }
  return 0;
}

void report(const char* name, std::size_t n, double seconds, long bytes_per_task = -1) {
  std::printf("name=%s n=%zu seconds=%.6f per_op_ns=%.1f", name, n, seconds, seconds * 1e9 / static_cast<double>(n));
  if (bytes_per_task >= 0) std::printf(" bytes_per_task=%ld", bytes_per_task);
  std::printf("\n");
  std::fflush(stdout);
}

aio::Coro<int> trivial(int i) { co_return i; }

// W1 spawn: create n tasks of a trivial coroutine, then await them all.
aio::Coro<> w1(std::size_t n) {
  std::vector<aio::Task<int>> tasks;
  tasks.reserve(n);
  const auto t0 = Clock::now();
  for (std::size_t i = 0; i < n; ++i) tasks.push_back(aio::create_task(trivial(static_cast<int>(i))));
  long sum = 0;
  for (auto& t : tasks) sum += co_await t;
  tasks.clear();  // freeing the tasks is part of their cost
  const double s = since(t0);
  if (sum < 0) std::puts("impossible");
  report("W1", n, s);
}

// W2 chain: n sequential awaits of a trivial coroutine in one task.
aio::Coro<> w2(std::size_t n) {
  long sum = 0;
  const auto t0 = Clock::now();
  for (std::size_t i = 0; i < n; ++i) sum += co_await trivial(static_cast<int>(i));
  const double s = since(t0);
  if (sum < 0) std::puts("impossible");
  report("W2", n, s);
}

// W3 switch: two tasks pass a token back and forth through two queues; n hand-overs.
aio::Coro<> w3(std::size_t n) {
  aio::Queue<int> q1;
  aio::Queue<int> q2;
  auto ping = [&]() -> aio::Coro<> {
    for (std::size_t i = 0; i < n / 2; ++i) {
      co_await q1.put(1);
      (void)co_await q2.get();
    }
  };
  auto pong = [&]() -> aio::Coro<> {
    for (std::size_t i = 0; i < n / 2; ++i) {
      (void)co_await q1.get();
      co_await q2.put(1);
    }
  };
  const auto t0 = Clock::now();
  co_await aio::gather(ping(), pong());
  report("W3", n, since(t0));
}

aio::Coro<> sleeper() { co_await aio::sleep(1); }

// W4 sleepers: n tasks each sleeping 1 s concurrently; wall time and bytes per task.
aio::Coro<> w4(std::size_t n) {
  std::vector<aio::Task<>> tasks;
  tasks.reserve(n);
  const long before = peak_rss();
  const auto t0 = Clock::now();
  for (std::size_t i = 0; i < n; ++i) tasks.push_back(aio::create_task(sleeper()));
  for (auto& t : tasks) co_await t;
  const double s = since(t0);
  const long after = peak_rss();
  report("W4", n, s, (after - before) / static_cast<long>(n));
}

int run_one(const std::string& name) {
  if (name == "W1") {
    aio::run(w1(1000000));
  } else if (name == "W2") {
    aio::run(w2(1000000));
  } else if (name == "W3") {
    aio::run(w3(1000000));
  } else if (name == "W4") {
    aio::run(w4(100000));
  } else {
    std::fprintf(stderr, "unknown workload %s (W1, W2, W3, W4)\n", name.c_str());
    return 2;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) return run_one(argv[1]);
  int status = 0;
  for (const char* w : {"W1", "W2", "W3", "W4"}) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::execl("/proc/self/exe", argv[0], w, static_cast<char*>(nullptr));
      std::_Exit(127);
    }
    int st = 0;
    ::waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) status = 1;
  }
  return status;
}
