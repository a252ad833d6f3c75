// aio_ws_client HOST PORT CONNS MSG_SIZE SECONDS [RATE]: the WebSocket benchmark's load
// (docs/benchmarks.md, "WebSocket echo"), on aio's ClientSession::ws_connect, the same
// for every server. CONNS WebSockets to ws://HOST:PORT/ws each run a ping-pong loop for
// SECONDS: send a binary message of MSG_SIZE bytes, receive it back, record the round
// trip. With RATE (messages per second in all) each connection sends on a fixed
// schedule, as aio_echo_client does. Then each closes (the close handshake). With
// AIO_WS_COMPRESS=BITS in the environment each offers permessage-deflate with that
// window (WSConnectOptions::compress; bench/run_ws.sh's COMPRESS=1). Prints:
//   msgs_per_s=... p50_us=... p99_us=... msgs=... seconds=... client_cpu_s=...
// Exits 1 when a connection fails or a message comes back wrong.
#include <cstdlib>
#include <memory>
#include <string>

#include "aio/aio.hpp"
#include "aio/http.hpp"
#include "bench_support.hpp"

namespace {

aio::Coro<> ping_pong(aio::http::ClientSession& session, std::string url, std::size_t size, bench::Pacer pacer,
                      bench::Conn& out) {
  const char* bits = std::getenv("AIO_WS_COMPRESS");
  const aio::http::WSConnectOptions options{.compress = bits != nullptr ? std::atoi(bits) : 0};
  aio::http::ClientWebSocketResponse ws = co_await session.ws_connect(url, options);
  if (options.compress != 0 && ws.compress() == 0) throw aio::RuntimeError("the server declined permessage-deflate");
  const std::string msg = bench::message(size);
  out.rtt_ns.reserve(1 << 16);
  while (co_await pacer.next()) {
    const auto t0 = bench::Clock::now();
    co_await ws.send_bytes(msg);
    std::string back = co_await ws.receive_bytes();
    bench::record(out, t0);
    if (back != msg) throw aio::RuntimeError("the echo differs from the message");
  }
  co_await ws.close();
  out.ok = true;
}

aio::Coro<int> run(const bench::LoadArgs& a) {
  // No pool limit: every WebSocket holds its connection.
  aio::http::ClientSession session(
      {.connector = std::make_shared<aio::http::TCPConnector>(aio::http::TCPConnectorOptions{.limit = 0})});
  const std::string url = "http://" + a.host + ":" + std::to_string(a.port) + "/ws";
  const int rc = co_await bench::run_load(a, "aio_ws_client", [&](bench::Pacer pacer, bench::Conn& out) {
    return ping_pong(session, url, a.size, pacer, out);
  });
  co_await session.close();
  co_return rc;
}

}  // namespace

int main(int argc, char** argv) {
  const std::optional<bench::LoadArgs> a = bench::parse_load_args(argc, argv, "aio_ws_client");
  if (!a) return 2;
  return aio::run(run(*a));
}
