// aio_ws_echo_server PORT: the WebSocket benchmark's server on aio (docs/benchmarks.md,
// "WebSocket echo"): an aio::http application on 127.0.0.1:PORT whose /ws endpoint is
// a WebSocketResponse that sends every TEXT or BINARY message straight back, until the
// client closes. One loop, one thread; runs until killed.
#include <cstdio>
#include <cstdlib>

#include "aio/aio.hpp"
#include "aio/http.hpp"

namespace {

namespace web = aio::http::web;

aio::Coro<web::StreamResponse> echo(web::Request& request) {
  web::WebSocketResponse ws;
  co_await ws.prepare(request);
  for (;;) {
    web::WSMessage msg = co_await ws.receive();
    if (msg.type == web::WSMsgType::BINARY) {
      co_await ws.send_bytes(msg.data);
    } else if (msg.type == web::WSMsgType::TEXT) {
      co_await ws.send_str(msg.data);
    } else {
      break;
    }
  }
  co_return ws;
}

aio::Coro<> serve(int port) {
  web::Application app;
  app.add_get("/ws", echo);
  web::AppRunner runner(app, {.access_log = nullptr});
  co_await runner.setup();
  web::TCPSite site(runner, "127.0.0.1", port);
  co_await site.start();
  std::printf("listening port=%d\n", site.port());
  std::fflush(stdout);
  co_await aio::sleep(1e9);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s PORT\n", argv[0]);
    return 2;
  }
  aio::run(serve(std::atoi(argv[1])));
  return 0;
}
