// Guide, "Transports and protocols": asyncio's callback API, an echo server and a
// client as Protocol subclasses on 127.0.0.1.
// test: stdout server got: 'hello'
// test: stdout client got: 'hello'
// test: stdout connection lost
#include <cstdio>
#include <exception>
#include <memory>
#include <string_view>

#include <aio/aio.hpp>

// [snippet]
struct EchoServer : aio::Protocol {
  aio::Transport transport;
  void connection_made(aio::Transport t) override { transport = t; }
  void data_received(std::string_view data) override {
    std::printf("server got: '%.*s'\n", static_cast<int>(data.size()), data.data());
    transport.write(data);
    transport.close();  // once the echo is sent
  }
};

struct EchoClient : aio::Protocol {
  explicit EchoClient(aio::Future<void> lost) : on_lost(std::move(lost)) {}
  aio::Future<void> on_lost;
  void connection_made(aio::Transport transport) override { transport.write("hello"); }
  void data_received(std::string_view data) override {
    std::printf("client got: '%.*s'\n", static_cast<int>(data.size()), data.data());
  }
  void connection_lost(std::exception_ptr) override {  // null: closed cleanly
    std::puts("connection lost");
    on_lost.set_result();
  }
};

aio::Coro<> main_() {
  aio::EventLoop& loop = aio::get_running_loop();
  aio::Server server =
      co_await aio::create_server(loop, [] { return std::make_shared<EchoServer>(); }, "127.0.0.1", 0);

  aio::Future<void> on_lost = loop.create_future();
  auto [transport, protocol] = co_await aio::create_connection(
      loop, [&] { return std::make_shared<EchoClient>(on_lost); }, "127.0.0.1", server.port());
  co_await aio::wait_for(on_lost, 5);  // bounded

  server.close();
  co_await server.wait_closed();
}
// [/snippet]

int main() { aio::run(main_()); }
