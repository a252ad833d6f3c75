// The WebSocket benchmark's server on Boost.Beast (docs/benchmarks.md, "WebSocket
// echo"): one io_context on one thread, a C++20 coroutine per connection
// (asio::awaitable) that accepts the WebSocket handshake and sends every message back
// in the same mode (text or binary), until the client closes. --compress offers Beast's
// permessage-deflate (its defaults otherwise).
//   beast_ws_echo PORT [--compress]
#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

bool g_compress = false;

asio::awaitable<void> session(tcp::socket socket) {
  beast::websocket::stream<tcp::socket> ws(std::move(socket));
  if (g_compress) {
    beast::websocket::permessage_deflate pmd;
    pmd.server_enable = true;
    ws.set_option(pmd);
  }
  try {
    co_await ws.async_accept(asio::use_awaitable);
    beast::flat_buffer buffer;
    for (;;) {
      co_await ws.async_read(buffer, asio::use_awaitable);
      ws.text(ws.got_text());
      co_await ws.async_write(buffer.data(), asio::use_awaitable);
      buffer.consume(buffer.size());
    }
  } catch (const boost::system::system_error&) {
    // closed by the client (websocket::error::closed) or reset
  }
}

asio::awaitable<void> listen(unsigned short port) {
  auto executor = co_await asio::this_coro::executor;
  tcp::acceptor acceptor(executor, {asio::ip::make_address("127.0.0.1"), port});
  std::printf("listening port=%u\n", port);
  std::fflush(stdout);
  for (;;) {
    tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
    socket.set_option(tcp::no_delay(true));
    asio::co_spawn(executor, session(std::move(socket)), asio::detached);
  }
}

int main(int argc, char** argv) {
  if (argc != 2 && !(argc == 3 && std::string_view(argv[2]) == "--compress")) {
    std::fprintf(stderr, "usage: %s PORT [--compress]\n", argv[0]);
    return 2;
  }
  g_compress = argc == 3;
  asio::io_context io(1);
  asio::co_spawn(io, listen(static_cast<unsigned short>(std::atoi(argv[1]))), asio::detached);
  io.run();
}
