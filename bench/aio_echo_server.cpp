// aio_echo_server PORT [--buffered]: the echo benchmark's server on aio's streams
// (docs/benchmarks.md, "Echo (networking)"). One loop, one thread, listening on
// 127.0.0.1:PORT. Every connection reads whatever is available, writes it back and
// drains; after the client's EOF, once everything is echoed, it closes. Runs until
// killed. By default it reads with read(65536), a new string per read as asyncio's
// bytes; --buffered writes straight from the reader's buffer (fill, buffered,
// consume: no string and no copy), as a protocol parser works.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

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

aio::Coro<> echo_in_place(aio::StreamReader reader, aio::StreamWriter writer) {
  while (co_await reader.fill()) {
    const std::string_view data = reader.buffered();
    writer.write(data);
    reader.consume(data.size());
    co_await writer.drain();
  }
  writer.close();
  co_await writer.wait_closed();
}

aio::Coro<> serve(int port, bool in_place) {
  aio::Server server = co_await aio::start_server(in_place ? echo_in_place : echo, "127.0.0.1", port);
  std::printf("listening port=%d\n", server.port());
  std::fflush(stdout);
  co_await server.serve_forever();
}

}  // namespace

int main(int argc, char** argv) {
  const bool in_place = argc == 3 && std::string_view(argv[2]) == "--buffered";
  if (argc != 2 && !in_place) {
    std::fprintf(stderr, "usage: %s PORT [--buffered]\n", argv[0]);
    return 2;
  }
  aio::run(serve(std::atoi(argv[1]), in_place));
  return 0;
}
