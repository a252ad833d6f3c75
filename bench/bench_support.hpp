// bench/bench_support.hpp: what aio's benchmark programs share. For the servers
// (aio_http_hello, aio_ws_echo_server): serve_app, an application on 127.0.0.1:PORT
// until killed. For the ping-pong load clients (aio_echo_client, aio_ws_client): the
// arguments, the pacing, the round trips and the one line they print.
#pragma once

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "aio/aio.hpp"
#include "aio/http.hpp"

namespace bench {

// --- servers

/// main() of a server: `usage: NAME PORT`; serves `app` on 127.0.0.1:PORT (no access
/// log), prints "listening port=N" when ready, runs until killed.
inline int serve_app(int argc, char** argv, aio::http::web::Application& app) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s PORT\n", argv[0]);
    return 2;
  }
  auto serve = [&app](int port) -> aio::Coro<> {
    aio::http::web::AppRunner runner(app, {.access_log = nullptr});
    co_await runner.setup();
    aio::http::web::TCPSite site(runner, "127.0.0.1", port);
    co_await site.start();
    std::printf("listening port=%d\n", site.port());
    std::fflush(stdout);
    co_await aio::sleep(1e9);
  };
  aio::run(serve(std::atoi(argv[1])));
  return 0;
}

// --- load clients: HOST PORT CONNS MSG_SIZE SECONDS [RATE]

using Clock = std::chrono::steady_clock;

struct LoadArgs {
  std::string host;
  int port = 0, conns = 0;
  std::size_t size = 0;
  double seconds = 0, rate = 0;
};

/// The arguments, or nullopt after printing why (the program exits 2).
inline std::optional<LoadArgs> parse_load_args(int argc, char** argv, const char* name) {
  if (argc != 6 && argc != 7) {
    std::fprintf(stderr, "usage: %s HOST PORT CONNS MSG_SIZE SECONDS [RATE]\n", argv[0]);
    return std::nullopt;
  }
  const long size = std::atol(argv[4]);
  LoadArgs a{argv[1], std::atoi(argv[2]), std::atoi(argv[3]), 0, std::atof(argv[5]), argc == 7 ? std::atof(argv[6]) : 0.0};
  if (a.conns <= 0 || size <= 0 || a.seconds <= 0 || a.rate < 0) {
    std::fprintf(stderr, "%s: CONNS, MSG_SIZE and SECONDS must be positive, RATE not negative\n", name);
    return std::nullopt;
  }
  a.size = static_cast<std::size_t>(size);
  return a;
}

/// One connection's round trips.
struct Conn {
  std::vector<std::uint32_t> rtt_ns;
  bool ok = false;
};

/// The message every client sends: MSG_SIZE bytes of the alphabet.
inline std::string message(std::size_t size) {
  std::string msg(size, 'x');
  for (std::size_t i = 0; i < size; ++i) msg[i] = static_cast<char>('a' + i % 26);
  return msg;
}

/// A connection's schedule: with a period, one message every `period` seconds from
/// `offset` (a late one goes at once, with no catching up); without, as fast as the
/// answers come. next() waits for the next send time; false once `until` is past.
class Pacer {
 public:
  Pacer(Clock::time_point until, double period, double offset)
      : until_(until), period_(period), next_(Clock::now() + to_duration(offset)) {}
  aio::Coro<bool> next() {
    if (period_ > 0) {
      const auto now = Clock::now();
      if (now < next_) co_await aio::sleep(std::chrono::duration<double>(next_ - now).count());
      next_ = std::max(next_ + to_duration(period_), Clock::now());
    }
    co_return Clock::now() < until_;
  }

 private:
  static Clock::duration to_duration(double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  }
  Clock::time_point until_;
  double period_;
  Clock::time_point next_;
};

/// Records one round trip begun at t0.
inline void record(Conn& c, Clock::time_point t0) {
  c.rtt_ns.push_back(
      static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count()));
}

inline double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/// Runs `ping_pong(pacer, conn)` on CONNS connections for SECONDS (bounded: a server
/// that stops answering ends the run), then prints
///   msgs_per_s=... p50_us=... p99_us=... msgs=... seconds=... client_cpu_s=...
/// Returns the exit status: 1 when a connection failed or no round trip completed.
template <class F>
aio::Coro<int> run_load(const LoadArgs& a, const char* name, F ping_pong) {
  std::vector<Conn> results(static_cast<std::size_t>(a.conns));
  const double cpu0 = cpu_seconds();
  const auto t0 = Clock::now();
  const auto until = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(a.seconds));
  const double period = a.rate > 0 ? a.conns / a.rate : 0.0;
  std::vector<aio::Task<>> tasks;
  for (int i = 0; i < a.conns; ++i) {
    tasks.push_back(aio::create_task(ping_pong(Pacer(until, period, period * i / a.conns), results[static_cast<std::size_t>(i)])));
  }
  int rc = 0;
  try {
    auto all = aio::gather(tasks);
    co_await aio::wait_for(std::move(all), a.seconds + 10.0);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", name, e.what());
    rc = 1;
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu = cpu_seconds() - cpu0;
  std::vector<std::uint32_t> all;
  for (Conn& c : results) {
    if (!c.ok) rc = 1;
    all.insert(all.end(), c.rtt_ns.begin(), c.rtt_ns.end());
  }
  if (all.empty()) {
    std::fprintf(stderr, "%s: no round trip completed\n", name);
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
              static_cast<double>(all.size()) / a.seconds, p50, p99, all.size(), elapsed, cpu);
  std::fflush(stdout);
  co_return rc;
}

}  // namespace bench
