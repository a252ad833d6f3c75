// Guide, "Streams": an echo server and a client on 127.0.0.1 (seed f.streams).
// test: stdout server got: 'hello'
// test: stdout client got: 'hello'
// test: stdout closed
#include <cstdio>
#include <string>

#include <aio/aio.hpp>

// [snippet]
aio::Coro<> handle_echo(aio::StreamReader reader, aio::StreamWriter writer) {
  std::string line = co_await reader.readline();
  std::printf("server got: '%s'\n", line.substr(0, line.size() - 1).c_str());
  writer.write(line);
  co_await writer.drain();
  writer.close();
  co_await writer.wait_closed();
}

aio::Coro<> main_() {
  // port 0: the system picks a free port; server.port() says which
  aio::Server server = co_await aio::start_server(handle_echo, "127.0.0.1", 0);

  auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());
  writer.write("hello\n");
  co_await writer.drain();
  std::string answer = co_await aio::wait_for(reader.readline(), 5);   // bounded
  std::printf("client got: '%s'\n", answer.substr(0, answer.size() - 1).c_str());
  writer.close();
  co_await writer.wait_closed();

  server.close();
  co_await server.wait_closed();
  std::puts("closed");
}
// [/snippet]

int main() { aio::run(main_()); }
