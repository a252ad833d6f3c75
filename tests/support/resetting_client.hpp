// A TLS client that resets the connection, for the tests of what a reset does to a
// TLS stream or transport (ssl_test, protocols_test): python3's ssl module, another
// TLS stack than ours, on 127.0.0.1. Its receive buffer is made small before it
// connects, so a server writing more than a few hundred KiB waits for it.
//
// "read": reads 64 KiB of what the server sends and says "read 65536". "write":
// sends "hello\n", reads until the server's "ready\n", sends "a part of it" and says
// "sent". Either way it then reads nothing more until told (a line on its stdin, or
// its stdin closing), and resets the connection: SO_LINGER {1, 0} and close, an RST
// and no close_notify. Bounded: 20 s for each step we wait for.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "aio/aio.hpp"

namespace aio::test {

inline constexpr const char* kResettingClient = R"PY(
import socket, ssl, struct, sys
port, cafile, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
s.connect(("127.0.0.1", port))
t = ssl.create_default_context(cafile=cafile).wrap_socket(s, server_hostname="localhost")
got = b""
if mode == "read":
    while len(got) < 65536:
        chunk = t.recv(65536 - len(got))
        if not chunk:
            break
        got += chunk
    print("read", len(got), flush=True)
else:
    t.sendall(b"hello\n")
    while not got.endswith(b"ready\n"):
        chunk = t.recv(100)
        if not chunk:
            break
        got += chunk
    t.sendall(b"a part of it")
    print("sent", flush=True)
sys.stdin.readline()
t.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
t.close()
)PY";

struct ResettingClient {
  Process process;

  /// Starts it against 127.0.0.1:port, trusting `cafile`, in `mode` ("read" or "write").
  static Coro<ResettingClient> start(int port, std::string cafile, std::string mode) {
    SubprocessOptions options;
    options.stdin = PIPE;
    options.stdout = PIPE;
    std::vector<std::string> args = {"-c", kResettingClient, std::to_string(port), std::move(cafile), std::move(mode)};
    Process p = co_await create_subprocess_exec("/usr/bin/python3", std::move(args), options);
    co_return ResettingClient{std::move(p)};
  }

  /// What it says once it has read or sent its part ("read 65536\n", "sent\n"); ""
  /// if it ended first.
  Coro<std::string> report() { co_return co_await wait_for(process.stdout->readline(), 20); }

  /// Tells it to reset the connection; gives its exit status once it has.
  Coro<int> reset() {
    process.stdin->write("reset\n");
    co_await process.stdin->drain();
    co_return co_await wait_for(process.wait(), 20);
  }
};

}  // namespace aio::test
