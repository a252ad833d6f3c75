// aio_echo_server PORT [MODE]: the echo benchmark's server on aio's streams
// (docs/benchmarks.md, "Echo (networking)"). One loop, one thread, listening on
// 127.0.0.1:PORT. Every connection reads whatever is available, writes it back and
// drains; after the client's EOF, once everything is echoed, it closes. Runs until
// killed. By default it reads with read(65536), a new string per read as asyncio's
// bytes; MODE --buffered writes straight from the reader's buffer (fill, buffered,
// consume: no string and no copy), as a protocol parser works.
//
// Two more modes take read()'s cost apart ("What remains", docs/benchmarks.md): both
// work in place and add one part of what read() does per message. --buffered-alloc
// makes and frees a heap block of the message's size (the string's allocation, with
// no copy); --buffered-copy writes a std::string copied out of the buffer (the
// allocation and the copy, without read()'s own frame).
//
// MODE --protocol serves with asyncio's callback API instead (create_server and a
// Protocol: data_received writes the data back, eof_received closes once it is
// sent), as asyncio's and uvloop's "protocols" servers do.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
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

enum class Extra { none, alloc, copy };
char* volatile g_block_seen;  // where --buffered-alloc's block escapes, so it is made

template <Extra extra>
aio::Coro<> echo_in_place(aio::StreamReader reader, aio::StreamWriter writer) {
  while (co_await reader.fill()) {
    const std::string_view data = reader.buffered();
    if constexpr (extra == Extra::alloc) {
      const std::unique_ptr<char[]> block(new char[data.size() + 1]);  // a string's size
      g_block_seen = block.get();
      writer.write(data);
    } else if constexpr (extra == Extra::copy) {
      const std::string copy(data);
      writer.write(copy);
    } else {
      writer.write(data);
    }
    reader.consume(data.size());
    co_await writer.drain();
  }
  writer.close();
  co_await writer.wait_closed();
}

struct EchoProtocol final : aio::Protocol {
  aio::Transport transport;
  void connection_made(aio::Transport t) override { transport = t; }
  void data_received(std::string_view data) override { transport.write(data); }
  // false: the transport closes once what was written is sent
  bool eof_received() override { return false; }
  void connection_lost(std::exception_ptr) override { transport = aio::Transport(); }
};

aio::Coro<> serve_protocol(int port) {
  aio::Server server = co_await aio::create_server(
      aio::get_running_loop(), [] { return std::make_shared<EchoProtocol>(); }, "127.0.0.1", port);
  std::printf("listening port=%d\n", server.port());
  std::fflush(stdout);
  co_await server.serve_forever();
}

using Handler = aio::Coro<> (*)(aio::StreamReader, aio::StreamWriter);

aio::Coro<> serve(int port, Handler handler) {
  aio::Server server = co_await aio::start_server(handler, "127.0.0.1", port);
  std::printf("listening port=%d\n", server.port());
  std::fflush(stdout);
  co_await server.serve_forever();
}

}  // namespace

int main(int argc, char** argv) {
  Handler handler = echo;
  bool protocol = false;
  if (argc == 3) {
    const std::string_view mode = argv[2];
    if (mode == "--protocol") {
      protocol = true;
    } else if (mode == "--buffered") {
      handler = echo_in_place<Extra::none>;
    } else if (mode == "--buffered-alloc") {
      handler = echo_in_place<Extra::alloc>;
    } else if (mode == "--buffered-copy") {
      handler = echo_in_place<Extra::copy>;
    } else {
      argc = 0;  // usage
    }
  }
  if (argc != 2 && argc != 3) {
    std::fprintf(stderr, "usage: %s PORT [--buffered | --buffered-alloc | --buffered-copy | --protocol]\n", argv[0]);
    return 2;
  }
  if (protocol) {
    aio::run(serve_protocol(std::atoi(argv[1])));
  } else {
    aio::run(serve(std::atoi(argv[1]), handler));
  }
  return 0;
}
