// aio_ws_client HOST PORT CONNS MSG_SIZE SECONDS [RATE]: the WebSocket benchmark's load
// (docs/benchmarks.md, "WebSocket echo"), on aio's ClientSession::ws_connect, the same
// for every server. CONNS WebSockets to ws://HOST:PORT/ws each run a ping-pong loop for
// SECONDS: send a binary message of MSG_SIZE bytes, receive it back, record the round
// trip. With RATE (messages per second in all) each connection sends on a fixed
// schedule, as aio_echo_client does. Then each closes (the close handshake). Prints:
//   msgs_per_s=... p50_us=... p99_us=... msgs=... seconds=... client_cpu_s=...
// Exits 1 when a connection fails or a message comes back wrong.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "aio/aio.hpp"
#include "aio/http.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Conn {
  std::vector<std::uint32_t> rtt_ns;
  bool ok = false;
};

aio::Coro<> ping_pong(aio::http::ClientSession& session, std::string url, std::size_t size, Clock::time_point until,
                      double period, double offset, Conn& out) {
  aio::http::ClientWebSocketResponse ws = co_await session.ws_connect(url);
  std::string msg(size, 'x');
  for (std::size_t i = 0; i < size; ++i) msg[i] = static_cast<char>('a' + i % 26);
  out.rtt_ns.reserve(1 << 16);
  const auto to_duration = [](double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  };
  auto next = Clock::now() + to_duration(offset);
  for (;;) {
    if (period > 0) {
      const auto now = Clock::now();
      if (now < next) co_await aio::sleep(std::chrono::duration<double>(next - now).count());
      next = std::max(next + to_duration(period), Clock::now());
    }
    const auto t0 = Clock::now();
    if (t0 >= until) break;
    co_await ws.send_bytes(msg);
    std::string back = co_await ws.receive_bytes();
    const auto t1 = Clock::now();
    if (back != msg) throw aio::RuntimeError("the echo differs from the message");
    out.rtt_ns.push_back(static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()));
  }
  co_await ws.close();
  out.ok = true;
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

aio::Coro<int> run_load(std::string host, int port, int conns, std::size_t size, double seconds, double rate) {
  aio::http::ClientSession session({.connector = std::make_shared<aio::http::TCPConnector>(
                                        aio::http::TCPConnectorOptions{.limit = 0})});
  const std::string url = "http://" + host + ":" + std::to_string(port) + "/ws";
  std::vector<Conn> results(static_cast<std::size_t>(conns));
  const double cpu0 = cpu_seconds();
  const auto t0 = Clock::now();
  const auto until = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::vector<aio::Task<>> tasks;
  const double period = rate > 0 ? conns / rate : 0.0;
  for (int i = 0; i < conns; ++i) {
    tasks.push_back(aio::create_task(
        ping_pong(session, url, size, until, period, period * i / conns, results[static_cast<std::size_t>(i)])));
  }
  int rc = 0;
  try {
    auto all = aio::gather(tasks);
    co_await aio::wait_for(std::move(all), seconds + 10.0);  // bounded: a server that stops answering ends it
  } catch (const std::exception& e) {
    std::fprintf(stderr, "aio_ws_client: %s\n", e.what());
    rc = 1;
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu = cpu_seconds() - cpu0;
  co_await session.close();
  std::vector<std::uint32_t> all;
  for (Conn& c : results) {
    if (!c.ok) rc = 1;
    all.insert(all.end(), c.rtt_ns.begin(), c.rtt_ns.end());
  }
  if (all.empty()) {
    std::fprintf(stderr, "aio_ws_client: no round trip completed\n");
    co_return 1;
  }
  auto pct = [&all](double p) {
    const std::size_t k = std::min(all.size() - 1, static_cast<std::size_t>(p * static_cast<double>(all.size())));
    std::nth_element(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(k), all.end());
    return all[k] / 1000.0;
  };
  const double p50 = pct(0.50);
  const double p99 = pct(0.99);
  std::printf("msgs_per_s=%.0f p50_us=%.1f p99_us=%.1f msgs=%zu seconds=%.3f client_cpu_s=%.3f\n",
              static_cast<double>(all.size()) / seconds, p50, p99, all.size(), elapsed, cpu);
  std::fflush(stdout);
  co_return rc;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6 && argc != 7) {
    std::fprintf(stderr, "usage: %s HOST PORT CONNS MSG_SIZE SECONDS [RATE]\n", argv[0]);
    return 2;
  }
  const int conns = std::atoi(argv[3]);
  const long size = std::atol(argv[4]);
  const double seconds = std::atof(argv[5]);
  const double rate = argc == 7 ? std::atof(argv[6]) : 0.0;
  if (conns <= 0 || size <= 0 || seconds <= 0 || rate < 0) {
    std::fprintf(stderr, "aio_ws_client: CONNS, MSG_SIZE and SECONDS must be positive, RATE not negative\n");
    return 2;
  }
  return aio::run(run_load(argv[1], std::atoi(argv[2]), conns, static_cast<std::size_t>(size), seconds, rate));
}
