// The task workloads of docs/benchmarks.md on Boost.Asio's C++20 coroutines
// (boost::asio::awaitable, co_spawn), one io_context on one thread.
//
// Usage: asio_tasks [W1|W2|W3|W4]   (Boost 1.81, Debian's libboost1.81-dev)
// W1: Asio has no join handle for a spawned coroutine; each task is co_spawn'ed with a
// completion handler that stores its result, and main awaits until all have stored
// theirs. W3: two experimental::channel<void(error_code, int)> with room for one
// message each, the nearest Asio has to an asyncio.Queue.
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;

static long peak_rss() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6) * 1024;
  return 0;
}

static void report(const char* name, std::size_t n, double s, long bpt = -1) {
  std::printf("name=%s n=%zu seconds=%.6f per_op_ns=%.1f", name, n, s, s * 1e9 / static_cast<double>(n));
  if (bpt >= 0) std::printf(" bytes_per_task=%ld", bpt);
  std::printf("\n");
  std::fflush(stdout);
}

static double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

awaitable<int> trivial(int i) { co_return i; }

awaitable<void> w1(std::size_t n) {
  auto ex = co_await asio::this_coro::executor;
  const auto t0 = Clock::now();
  std::vector<int> results(n);
  std::size_t done = 0;
  for (std::size_t i = 0; i < n; ++i) {
    asio::co_spawn(ex, trivial(static_cast<int>(i)), [&, i](std::exception_ptr, int r) {
      results[i] = r;
      ++done;
    });
  }
  while (done < n) co_await asio::post(ex, use_awaitable);  // let the spawned tasks run
  long total = 0;
  for (int r : results) total += r;
  report("W1", n, since(t0));
  if (total < 0) std::puts("impossible");
}

awaitable<void> w2(std::size_t n) {
  const auto t0 = Clock::now();
  long total = 0;
  for (std::size_t i = 0; i < n; ++i) total += co_await trivial(static_cast<int>(i));
  report("W2", n, since(t0));
  if (total < 0) std::puts("impossible");
}

using Channel = asio::experimental::channel<void(boost::system::error_code, int)>;

awaitable<void> w3(std::size_t n) {
  auto ex = co_await asio::this_coro::executor;
  Channel q1(ex, 1), q2(ex, 1);
  std::size_t finished = 0;
  const auto t0 = Clock::now();
  auto ping = [&]() -> awaitable<void> {
    for (std::size_t i = 0; i < n / 2; ++i) {
      co_await q1.async_send(boost::system::error_code{}, 1, use_awaitable);
      (void)co_await q2.async_receive(use_awaitable);
    }
    ++finished;
  };
  auto pong = [&]() -> awaitable<void> {
    for (std::size_t i = 0; i < n / 2; ++i) {
      (void)co_await q1.async_receive(use_awaitable);
      co_await q2.async_send(boost::system::error_code{}, 1, use_awaitable);
    }
    ++finished;
  };
  asio::co_spawn(ex, ping(), asio::detached);
  asio::co_spawn(ex, pong(), asio::detached);
  while (finished < 2) co_await asio::post(ex, use_awaitable);
  report("W3", n, since(t0));
}

awaitable<void> sleeper(std::size_t& done) {
  asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::seconds(1));
  co_await t.async_wait(use_awaitable);
  ++done;
}

awaitable<void> w4(std::size_t n) {
  auto ex = co_await asio::this_coro::executor;
  const long before = peak_rss();
  const auto t0 = Clock::now();
  std::size_t done = 0;
  for (std::size_t i = 0; i < n; ++i) asio::co_spawn(ex, sleeper(done), asio::detached);
  asio::steady_timer poll(ex);
  while (done < n) {
    poll.expires_after(std::chrono::milliseconds(1));
    co_await poll.async_wait(use_awaitable);
  }
  const double s = since(t0);
  report("W4", n, s, (peak_rss() - before) / static_cast<long>(n));
}

int main(int argc, char** argv) {
  std::vector<std::string> names;
  for (int i = 1; i < argc; ++i) names.emplace_back(argv[i]);
  if (names.empty()) names = {"W1", "W2", "W3", "W4"};
  for (const std::string& name : names) {
    asio::io_context io(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE);  // one thread, no locking
    if (name == "W1") {
      asio::co_spawn(io, w1(1000000), asio::detached);
    } else if (name == "W2") {
      asio::co_spawn(io, w2(1000000), asio::detached);
    } else if (name == "W4") {
      asio::co_spawn(io, w4(100000), asio::detached);
    } else if (name == "W3") {
      asio::co_spawn(io, w3(1000000), asio::detached);
    } else {
      std::fprintf(stderr, "unknown workload %s\n", name.c_str());
      return 2;
    }
    io.run();
  }
}
