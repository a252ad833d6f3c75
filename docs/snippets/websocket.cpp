// Guide, "WebSockets": an echo endpoint (aiohttp's web.WebSocketResponse) and a
// ClientSession that talks to it over ws_connect, on 127.0.0.1.
// test: stdout echo: hello
// test: stdout echo: world
// test: stdout 3 bytes back
// test: stdout closed with 1000
// test: stdout the server saw 3 messages
#include <cstdio>
#include <string>

#include <aio/aio.hpp>
#include <aio/http.hpp>

// [snippet]
namespace web = aio::http::web;

int seen = 0;

aio::Coro<web::StreamResponse> echo(web::Request& request) {
  web::WebSocketResponse ws;
  co_await ws.prepare(request);
  for (;;) {  // async for msg in ws:
    web::WSMessage msg = co_await ws.receive();
    if (msg.type == web::WSMsgType::TEXT) {
      co_await ws.send_str("echo: " + msg.data);
    } else if (msg.type == web::WSMsgType::BINARY) {
      co_await ws.send_bytes(msg.data);
    } else {
      break;  // the client closed (CLOSE), or the connection failed (ERROR)
    }
    ++seen;
  }
  co_return ws;
}

aio::Coro<> main_() {
  web::Application app;
  app.add_get("/ws", echo);
  web::AppRunner runner(app, {.access_log = nullptr});
  co_await runner.setup();
  web::TCPSite site(runner, "127.0.0.1", 0);
  co_await site.start();

  aio::http::ClientSession session;
  aio::http::ClientWebSocketResponse ws =
      co_await session.ws_connect("http://127.0.0.1:" + std::to_string(site.port()) + "/ws");
  for (const char* word : {"hello", "world"}) {
    co_await ws.send_str(word);
    std::puts((co_await ws.receive_str()).c_str());
  }
  co_await ws.send_bytes(std::string("\x01\x02\x03", 3));
  std::printf("%zu bytes back\n", (co_await ws.receive_bytes()).size());
  co_await ws.close();
  std::printf("closed with %d\n", ws.close_code().value_or(-1));
  co_await session.close();
  co_await runner.cleanup();
  std::printf("the server saw %d messages\n", seen);
}
// [/snippet]

int main() { aio::run(main_()); }
