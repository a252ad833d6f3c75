// aio_echo_client HOST PORT CONNS MSG_SIZE SECONDS [RATE]: the echo benchmark's load, on
// aio's streams, the same for every server. CONNS connections each run a ping-pong loop
// for SECONDS: write MSG_SIZE bytes, read exactly MSG_SIZE back, record the round trip.
// With RATE (messages per second in all, > 0) the load is paced: each connection sends
// on a fixed schedule of CONNS/RATE seconds per message (staggered between
// connections; a late message goes at once, with no catching up), so that the server
// is not saturated and its CPU time per message is what differs between servers.
// Then each half-closes, reads until the server's EOF and closes. Prints one line:
//   msgs_per_s=... p50_us=... p99_us=... msgs=... seconds=... client_cpu_s=...
// (client_cpu_s: this process's user+system CPU time, to show whether the client,
// pinned to its own core, was the limit). Exits 1 when a connection fails or a
// message comes back wrong.
#include <string>

#include "aio/aio.hpp"
#include "bench_support.hpp"

namespace {

aio::Coro<> ping_pong(std::string host, int port, std::size_t size, bench::Pacer pacer, bench::Conn& out) {
  auto [reader, writer] = co_await aio::open_connection(host, port);
  const std::string msg = bench::message(size);
  out.rtt_ns.reserve(1 << 16);
  while (co_await pacer.next()) {
    const auto t0 = bench::Clock::now();
    writer.write(msg);
    co_await writer.drain();
    std::string back = co_await reader.readexactly(size);
    bench::record(out, t0);
    if (back != msg) throw aio::RuntimeError("the echo differs from the message");
  }
  writer.write_eof();
  std::string rest = co_await reader.read();  // the server closes after our EOF
  if (!rest.empty()) throw aio::RuntimeError("unexpected bytes after the last echo");
  writer.close();
  co_await writer.wait_closed();
  out.ok = true;
}

}  // namespace

int main(int argc, char** argv) {
  const std::optional<bench::LoadArgs> a = bench::parse_load_args(argc, argv, "aio_echo_client");
  if (!a) return 2;
  return aio::run(bench::run_load(*a, "aio_echo_client", [&](bench::Pacer pacer, bench::Conn& out) {
    return ping_pong(a->host, a->port, a->size, pacer, out);
  }));
}
