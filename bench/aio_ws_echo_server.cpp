// aio_ws_echo_server PORT: the WebSocket benchmark's server on aio (docs/benchmarks.md,
// "WebSocket echo"): an aio::http application on 127.0.0.1:PORT whose /ws endpoint is
// a WebSocketResponse that sends every TEXT or BINARY message straight back, until the
// client closes. One loop, one thread; runs until killed.
#include "aio/aio.hpp"
#include "aio/http.hpp"
#include "bench_support.hpp"

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

}  // namespace

int main(int argc, char** argv) {
  web::Application app;
  app.add_get("/ws", echo);
  return bench::serve_app(argc, argv, app);
}
