// aio_echo_server PORT: the echo benchmark's server on aio's streams (docs/benchmarks.md,
// "Echo (networking)"). One loop, one thread, listening on 127.0.0.1:PORT. Every
// connection reads whatever is available, writes it back and drains; after the
// client's EOF, once everything is echoed, it closes. Runs until killed.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "aio/aio.hpp"

namespace {

aio::Coro<> echo(aio::StreamReader reader, aio::StreamWriter writer) {
  for (;;) {
    std::string data = co_await reader.read(64 * 1024);
    if (data.empty()) break;  // the client's EOF
    writer.write(data);
    co_await writer.drain();
  }
  writer.close();
  co_await writer.wait_closed();
}

aio::Coro<> serve(int port) {
  aio::Server server = co_await aio::start_server(echo, "127.0.0.1", port);
  std::printf("listening port=%d\n", server.port());
  std::fflush(stdout);
  co_await server.serve_forever();
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
