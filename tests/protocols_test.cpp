// asyncio's transports and protocols over TCP and Unix sockets and pipes
// (aio/protocols.hpp): create_server and create_connection with Protocol and
// BufferedProtocol, against python3 (a socket client, an asyncio server) and aio's
// own streams, on 127.0.0.1; connect_read_pipe and connect_write_pipe with children
// (sh, head, wc) at the pipe's other end; subprocess_exec and subprocess_shell with
// a SubprocessProtocol.
// These run on the real clock; timeouts only bound a hang.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "support/aio_test.hpp"
#include "support/exception_ptr.hpp"
#include "support/python_peer.hpp"
#include "support/resetting_client.hpp"

namespace aio {
namespace {

constexpr double kBound = 20;  // seconds: only a hung test reaches it

// Records every call, and resolves `lost` at connection_lost.
struct Recorder : Protocol {
  Transport transport;
  std::vector<std::string> calls;
  std::string data;
  std::exception_ptr lost_exc;
  Future<void> lost = get_running_loop().create_future();
  bool echo = false;
  bool keep_open = false;

  void connection_made(Transport t) override {
    transport = t;
    calls.push_back("made");
  }
  void data_received(std::string_view d) override {
    data += d;
    if (calls.empty() || calls.back() != "data") calls.push_back("data");
    if (echo) transport.write(d);
  }
  bool eof_received() override {
    calls.push_back("eof");
    return keep_open;
  }
  void connection_lost(std::exception_ptr exc) override {
    calls.push_back(exc ? "lost(error)" : "lost");
    lost_exc = exc;
    transport = Transport();  // as asyncio protocols drop theirs
    lost.set_result();
  }
  // Kept apart from `calls`: whether an echo crosses the high-water mark depends on
  // how fast the peer reads.
  std::vector<std::string> flow;
  void pause_writing() override { flow.push_back("pause_writing"); }
  void resume_writing() override { flow.push_back("resume_writing"); }
};

// Polls `done` every millisecond; TimeoutError after kBound seconds. Give it [&]
// lambdas only: g++ 12 destroys a temporary made in a co_await expression twice,
// which only a closure of references survives.
template <class F>
Coro<void> until(F done) {
  for (int i = 0; !done(); ++i) {
    if (i > kBound * 1000) throw TimeoutError();
    co_await sleep(0.001);
  }
}

// A socket listening on 127.0.0.1 (a free port).
Socket listening() {
  Socket listener(AF_INET, SOCK_STREAM);
  listener.bind(SockAddr("127.0.0.1", 0));
  listener.listen();
  return listener;
}

struct SocketPair {
  Socket mine;       // connected to
  Socket accepted;   // the listener's side
  SockAddr peer;     // mine's address, as accept gave it
};

// Two ends of one TCP connection on 127.0.0.1, made with the loop's socket calls.
Coro<SocketPair> connected_sockets() {
  EventLoop& loop = get_running_loop();
  Socket listener = listening();
  Socket mine(AF_INET, SOCK_STREAM);
  co_await loop.sock_connect(mine, listener.getsockname());
  auto [accepted, peer] = co_await loop.sock_accept(listener);
  co_return SocketPair{std::move(mine), std::move(accepted), std::move(peer)};
}

// The exception a protocol's connection_lost got, as its message; "" for none.
std::string what_of(const std::exception_ptr& e) {
  if (!e) return "";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "?";
  }
}

using test::holds;

// A list of strings, made outside the coroutines: g++ 12 rejects a braced list of
// std::string inside a co_await expression ("array used as initializer"), and this
// reads the same everywhere.
template <class... S>
std::vector<std::string> strings(S... s) {
  return {std::string(s)...};
}

const std::vector<std::string> kEchoed = {"made", "data", "eof", "lost"};

// A server's factory: makes a T (a Recorder) that echoes or keeps the connection
// open after the peer's EOF as asked, and keeps the last one made in `last`, or every
// one in `made`.
template <class T = Recorder>
std::function<std::shared_ptr<T>()> keeping_last(std::shared_ptr<T>& last, bool echo = false, bool keep_open = false) {
  return [&last, echo, keep_open] {
    last = std::make_shared<T>();
    last->echo = echo;
    last->keep_open = keep_open;
    return last;
  };
}

std::function<std::shared_ptr<Recorder>()> keeping_all(std::vector<std::shared_ptr<Recorder>>& made, bool echo = false) {
  return [&made, echo] {
    made.push_back(std::make_shared<Recorder>());
    made.back()->echo = echo;
    return made.back();
  };
}

TEST(Protocols, EchoServerWithAPythonClient) {
  auto main_ = []() -> Coro<> {
    EventLoop& loop = get_running_loop();
    std::vector<std::shared_ptr<Recorder>> made;
    Server server = co_await create_server(loop, keeping_all(made, true), "127.0.0.1", 0);
    // python3 sends 100 KiB, half-closes, and prints how much came back and whether
    // it was the same.
    const char* script = R"(
import socket, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
data = bytes(range(256)) * 400
s.sendall(data)
s.shutdown(socket.SHUT_WR)
back = b''
while True:
    chunk = s.recv(65536)
    if not chunk: break
    back += chunk
print(len(back), back == data)
)";
    std::vector<std::string> args = strings(std::to_string(server.port()));
    test::PeerRun run = co_await test::run_python(script, std::move(args));
    EXPECT_EQ(run.status, 0) << run.err;
    EXPECT_EQ(run.out, "102400 True\n");
    CO_ASSERT_TRUE(made.size() == 1);
    co_await wait_for(made[0]->lost, kBound);
    EXPECT_EQ(made[0]->calls, kEchoed);  // eof_received said false: closed after the echo
    EXPECT_EQ(made[0]->data.size(), 102400u);
    EXPECT_FALSE(made[0]->lost_exc);
    server.close();
    co_await wait_for(server.wait_closed(), kBound);
  };
  aio::run(main_());
}

TEST(Protocols, CreateConnectionToAPythonAsyncioServer) {
  auto main_ = []() -> Coro<> {
    // An asyncio echo server: answers each line upper-cased, and closes at our EOF.
    const char* script = R"(
import asyncio
async def handle(reader, writer):
    while line := await reader.readline():
        writer.write(line.upper())
        await writer.drain()
    writer.close()
async def main():
    server = await asyncio.start_server(handle, '127.0.0.1', 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.sleep(30)
asyncio.run(main())
)";
    test::PythonServer peer = co_await test::PythonServer::start(script);
    auto [transport, protocol] = co_await create_connection(
        get_running_loop(), [] { return std::make_shared<Recorder>(); }, "127.0.0.1", std::stoi(peer.line));
    EXPECT_EQ(transport.get_protocol(), protocol);
    EXPECT_EQ(transport.peername().port(), std::stoi(peer.line));
    EXPECT_TRUE(transport.can_write_eof());
    EXPECT_TRUE(transport.is_reading());
    EXPECT_FALSE(transport.is_tls());
    std::vector<std::string> lines = strings("one\n", "two\n", "three\n");
    transport.writelines(lines);
    transport.write_eof();
    EXPECT_THROW(transport.write("late"), RuntimeError);  // asyncio: after write_eof()
    co_await wait_for(protocol->lost, kBound);
    EXPECT_EQ(protocol->data, "ONE\nTWO\nTHREE\n");
    EXPECT_EQ(protocol->calls.front(), "made");
    EXPECT_EQ(std::vector<std::string>(protocol->calls.end() - 2, protocol->calls.end()),
              strings("eof", "lost"));
    EXPECT_TRUE(transport.is_closing());
    EXPECT_EQ(transport.get_protocol(), nullptr);  // dropped once connection_lost ran
    EXPECT_EQ(transport.fileno(), -1);
    co_await peer.stop();
  };
  aio::run(main_());
}

// A BufferedProtocol with a small buffer of its own: every byte arrives through it,
// in order.
struct Collector : BufferedProtocol {
  std::vector<char> buf = std::vector<char>(1000);
  std::string got;
  int updates = 0;
  bool eof = false;
  Future<void> lost = get_running_loop().create_future();
  std::span<char> get_buffer(long sizehint) override {
    EXPECT_EQ(sizehint, -1);
    return buf;
  }
  void buffer_updated(std::size_t n) override {
    EXPECT_LE(n, buf.size());
    got.append(buf.data(), n);
    ++updates;
  }
  bool eof_received() override {
    eof = true;
    return false;
  }
  void connection_lost(std::exception_ptr) override { lost.set_result(); }
};

TEST(Protocols, BufferedProtocolReadsIntoItsOwnBuffer) {
  auto main_ = []() -> Coro<> {
    std::string sent;
    for (int i = 0; sent.size() < 300000; ++i) sent += std::to_string(i) + ",";
    auto handler = [&sent](StreamReader, StreamWriter writer) -> Coro<void> {
      writer.write(sent);
      writer.close();
      co_await writer.wait_closed();
    };
    Server server = co_await start_server(handler, "127.0.0.1", 0);
    auto [transport, protocol] = co_await create_connection(
        get_running_loop(), [] { return std::make_shared<Collector>(); }, "127.0.0.1", server.port());
    co_await wait_for(protocol->lost, kBound);
    EXPECT_EQ(protocol->got, sent);
    EXPECT_GE(protocol->updates, 300);  // 1000 bytes at most per read
    EXPECT_TRUE(protocol->eof);
    server.close();
    co_await wait_for(server.wait_closed(), kBound);
  };
  aio::run(main_());
}

// TLS under a protocol: the handshake runs before connection_made, then both kinds
// of protocol read the plaintext (a BufferedProtocol through its own buffer). The
// certificate is made at test time.
// A self-signed certificate for localhost and 127.0.0.1 (cert.pem, key.pem), made
// with the `openssl` command in a temporary directory that goes with it.
struct TlsFiles {
  std::string dir;
  TlsFiles() {
    char tmpl[] = "/tmp/aio-protocols-tls-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir = tmpl;
    const std::string make = "cd " + dir +
                             " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
                             " -keyout key.pem -out cert.pem -days 2 -subj /CN=localhost"
                             " -addext subjectAltName=DNS:localhost,IP:127.0.0.1 >/dev/null 2>&1";
    if (std::system(make.c_str()) != 0) throw std::runtime_error("making the certificate failed");
  }
  ~TlsFiles() { (void)std::system(("rm -rf " + dir).c_str()); }
  TlsFiles(const TlsFiles&) = delete;
  TlsFiles& operator=(const TlsFiles&) = delete;
  std::string cert() const { return dir + "/cert.pem"; }
  SSLContext server() const {
    SSLContext ctx(PROTOCOL_TLS_SERVER);
    ctx.load_cert_chain(cert(), dir + "/key.pem");
    return ctx;
  }
  SSLContext client() const { return create_default_context(Purpose::SERVER_AUTH, cert()); }
};

TEST(Protocols, OverTlsBothKindsReadThePlaintext) {
  const TlsFiles files;
  auto main_ = [&files]() -> Coro<> {
    SSLContext server_ctx = files.server();
    SSLContext client_ctx = files.client();
    std::shared_ptr<Recorder> server_side;
    Server server =
        co_await create_server(get_running_loop(), keeping_last(server_side, true), "127.0.0.1", 0, {.ssl = server_ctx});
    auto [transport, client] = co_await create_connection(
        get_running_loop(), [] { return std::make_shared<Recorder>(); }, "127.0.0.1", server.port(),
        {.ssl = client_ctx, .server_hostname = "localhost"});
    EXPECT_TRUE(transport.is_tls());
    EXPECT_FALSE(transport.ssl_version().empty());
    EXPECT_TRUE(transport.cipher().has_value());
    EXPECT_FALSE(transport.can_write_eof());
    EXPECT_THROW(transport.write_eof(), NotImplementedError);
    const std::string big(200000, 'z');  // many TLS records
    transport.write(big);
    Recorder* c = client.get();  // a structured binding: [&] cannot take it under clang 14
    co_await until([&] { return c->data.size() >= big.size(); });
    EXPECT_EQ(client->data, big);
    transport.close();  // close_notify, answered by the server's
    co_await wait_for(client->lost, kBound);
    co_await wait_for(server_side->lost, kBound);
    EXPECT_EQ(server_side->calls, kEchoed);  // the close_notify is the server's EOF
    EXPECT_FALSE(client->lost_exc);

    std::string sent;
    for (int i = 0; sent.size() < 300000; ++i) sent += std::to_string(i) + ";";
    auto handler = [&sent](StreamReader, StreamWriter writer) -> Coro<void> {
      writer.write(sent);
      writer.close();
      co_await writer.wait_closed();
    };
    Server streams = co_await start_server(handler, "127.0.0.1", 0, {.ssl = server_ctx});
    auto [t2, collector] = co_await create_connection(
        get_running_loop(), [] { return std::make_shared<Collector>(); }, "127.0.0.1", streams.port(),
        {.ssl = client_ctx, .server_hostname = "localhost"});
    co_await wait_for(collector->lost, kBound);
    EXPECT_EQ(collector->got, sent);
    EXPECT_TRUE(collector->eof);

    // Sockets of our own: connect_accepted_socket is the server side of the handshake,
    // create_connection(sock) the client side; both run at once.
    EventLoop& loop = get_running_loop();
    SocketPair pair = co_await connected_sockets();
    std::shared_ptr<Recorder> accepted;
    auto accepting =
        create_task(connect_accepted_socket(loop, keeping_last(accepted, true), std::move(pair.accepted), {.ssl = server_ctx}));
    auto [given, given_client] = co_await create_connection(
        loop, [] { return std::make_shared<Recorder>(); }, std::move(pair.mine),
        {.ssl = client_ctx, .server_hostname = "localhost"});
    auto [accepted_transport, accepted_protocol] = co_await wait_for(accepting, kBound);
    EXPECT_EQ(accepted_protocol, accepted);
    EXPECT_TRUE(accepted_transport.is_tls());
    EXPECT_TRUE(given.is_tls());
    given.write("over sockets of our own");
    Recorder* g = given_client.get();
    co_await until([&] { return g->data == "over sockets of our own"; });
    given.close();
    co_await wait_for(g->lost, kBound);
    co_await wait_for(accepted->lost, kBound);
    EXPECT_EQ(accepted->calls, kEchoed);

    server.close();
    streams.close();
    co_await wait_for(server.wait_closed(), kBound);
    co_await wait_for(streams.wait_closed(), kBound);
  };
  aio::run(main_());
}

// Writes `size` bytes at connection_made, in one write, through a socket whose send
// buffer is made small: most of it waits in the transport's buffer.
struct BigWriter : Recorder {
  std::size_t size = 0;
  Transport kept;  // Recorder drops its transport at connection_lost
  void connection_made(Transport t) override {
    Recorder::connection_made(t);
    kept = t;
    const int small = 64 * 1024;
    ::setsockopt(t.fileno(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    t.write(std::string(size, 'w'));
  }
};

// The peer (python3's ssl module, support/resetting_client.hpp) reads 64 KiB of a
// large write over TLS, stops, and resets the connection: as asyncio's, the
// protocol's connection_lost gets the OS error (the reset, or the broken pipe after
// it), once, and the loop's exception handler hears nothing of it. The write buffer
// goes with the connection.
TEST(Protocols, OverTlsAResetDuringALargeWriteIsLostOnceWithTheError) {
  const TlsFiles files;
  auto main_ = [&files]() -> Coro<> {
    EventLoop& loop = get_running_loop();
    std::vector<std::string> reported;
    loop.set_exception_handler([&](EventLoop&, const ExceptionContext& ctx) { reported.push_back(ctx.message); });
    std::shared_ptr<BigWriter> writer;
    auto factory = [&writer] {
      writer = std::make_shared<BigWriter>();
      writer->size = 8 * 1024 * 1024;  // far more than the buffers on the way hold
      return writer;
    };
    Server server = co_await create_server(loop, factory, "127.0.0.1", 0, {.ssl = files.server()});
    test::ResettingClient client = co_await test::ResettingClient::start(server.port(), files.cert(), "read");
    EXPECT_EQ(co_await client.report(), "read 65536\n");
    CO_ASSERT_TRUE(writer != nullptr);
    EXPECT_GT(writer->kept.get_write_buffer_size(), 64u * 1024);  // it reads no more: most of it waits here
    EXPECT_EQ(writer->calls, strings("made"));
    EXPECT_EQ(co_await client.reset(), 0);
    co_await wait_for(writer->lost, kBound);
    for (int i = 0; i < 20; ++i) co_await sleep(0.001);  // iterations for a second connection_lost
    EXPECT_EQ(writer->calls, strings("made", "lost(error)"));
    EXPECT_EQ(writer->flow, strings("pause_writing"));  // the write was still in the buffer
    EXPECT_TRUE(holds<ConnectionResetError>(writer->lost_exc) || holds<BrokenPipeError>(writer->lost_exc))
        << what_of(writer->lost_exc);
    EXPECT_NE(what_of(writer->lost_exc).find(writer->kept.peername().str()), std::string::npos)
        << what_of(writer->lost_exc);  // names the peer
    EXPECT_EQ(writer->kept.get_write_buffer_size(), 0u);
    EXPECT_TRUE(writer->kept.is_closing());
    writer->kept = Transport();
    EXPECT_EQ(reported, std::vector<std::string>());
    server.close();
    co_await wait_for(server.wait_closed(), kBound);
  };
  aio::run(main_());
}

TEST(Protocols, PauseReadingHoldsTheDataUntilResumed) {
  auto main_ = []() -> Coro<> {
    std::shared_ptr<Recorder> server_side;
    Server server = co_await create_server(get_running_loop(), keeping_last(server_side), "127.0.0.1", 0);
    auto [reader, writer] = co_await open_connection("127.0.0.1", server.port());
    co_await until([&] { return server_side && static_cast<bool>(server_side->transport); });
    server_side->transport.pause_reading();
    EXPECT_FALSE(server_side->transport.is_reading());
    writer.write("held back");
    co_await writer.drain();
    for (int i = 0; i < 20; ++i) co_await sleep(0.005);  // iterations with the data in the kernel
    EXPECT_EQ(server_side->data, "");
    server_side->transport.resume_reading();
    EXPECT_TRUE(server_side->transport.is_reading());
    co_await until([&] { return server_side->data.size() >= 9; });
    EXPECT_EQ(server_side->data, "held back");
    server_side->transport.close();
    co_await wait_for(server_side->lost, kBound);
    EXPECT_EQ(co_await wait_for(reader.read(), kBound), "");
    server.close();
    co_await wait_for(server.wait_closed(), kBound);
  };
  aio::run(main_());
}

TEST(Protocols, WriteFlowControlPausesAndResumesTheProtocol) {
  auto main_ = []() -> Coro<> {
    Event go, read_all;
    std::string got;
    auto handler = [&go, &read_all, &got](StreamReader reader, StreamWriter) -> Coro<void> {
      co_await go.wait();  // reads nothing until told
      got = co_await reader.read();  // to the EOF
      read_all.set();
    };
    Server server = co_await start_server(handler, "127.0.0.1", 0);
    auto [transport, protocol] = co_await create_connection(
        get_running_loop(), [] { return std::make_shared<Recorder>(); }, "127.0.0.1", server.port());
    transport.set_write_buffer_limits(64 * 1024);
    EXPECT_EQ(transport.get_write_buffer_limits(), (std::pair<std::size_t, std::size_t>(16 * 1024, 64 * 1024)));
    EXPECT_THROW(transport.set_write_buffer_limits(10, 20), ValueError);
    const std::string block(64 * 1024, 'x');
    std::size_t written = 0;
    while (protocol->flow.empty() && written < (64u << 20)) {  // the kernel's buffers fill first
      transport.write(block);
      written += block.size();
    }
    CO_ASSERT_TRUE(protocol->flow == strings("pause_writing"));
    EXPECT_GT(transport.get_write_buffer_size(), 64u * 1024);
    go.set();
    Recorder* p = protocol.get();
    co_await until([&] { return p->flow.size() == 2; });
    EXPECT_LE(transport.get_write_buffer_size(), 16u * 1024);
    transport.close();  // after the buffer
    co_await wait_for(protocol->lost, kBound);
    co_await wait_for(read_all.wait(), kBound);
    EXPECT_EQ(got.size(), written);  // nothing accepted was lost
    EXPECT_EQ(protocol->flow, strings("pause_writing", "resume_writing"));
    EXPECT_EQ(protocol->calls, strings("made", "lost"));
    server.close();
    co_await wait_for(server.wait_closed(), kBound);
  };
  aio::run(main_());
}

TEST(Protocols, AResetByThePeerEndsWithConnectionResetError) {
  auto main_ = []() -> Coro<> {
    EventLoop& loop = get_running_loop();
    std::vector<std::string> reported;
    loop.set_exception_handler([&](EventLoop&, const ExceptionContext& ctx) { reported.push_back(ctx.message); });
    Socket listener = listening();
    auto [transport, protocol] = co_await create_connection(
        loop, [] { return std::make_shared<Recorder>(); }, "127.0.0.1", listener.getsockname().port());
    auto [conn, peer] = co_await loop.sock_accept(listener);
    co_await loop.sock_sendall(conn, "partial");
    Recorder* p = protocol.get();
    co_await until([&] { return !p->data.empty(); });
    linger lg{1, 0};  // close with SO_LINGER 0: the kernel sends RST
    ::setsockopt(conn.fileno(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    conn.close();
    co_await wait_for(protocol->lost, kBound);
    EXPECT_EQ(protocol->calls, strings("made", "data", "lost(error)"));
    CO_ASSERT_TRUE(protocol->lost_exc != nullptr);
    try {
      std::rethrow_exception(protocol->lost_exc);
    } catch (const ConnectionResetError& e) {
      EXPECT_EQ(e.code().value(), ECONNRESET);
    } catch (...) {
      ADD_FAILURE() << "not a ConnectionResetError";
    }
    EXPECT_TRUE(reported.empty());  // an OS error ends the connection quietly, as asyncio
  };
  aio::run(main_());
}

// data_received throws on the first connection: reported, that connection closed
// with the exception, the server goes on.
struct Thrower : Recorder {
  void data_received(std::string_view d) override {
    Recorder::data_received(d);
    throw std::runtime_error("protocol failed");
  }
};

TEST(Protocols, ACallbackThatThrowsIsReportedAndClosesOnlyItsConnection) {
  auto main_ = []() -> Coro<> {
    std::vector<std::string> reported;
    get_running_loop().set_exception_handler([&](EventLoop&, const ExceptionContext& ctx) {
      reported.push_back(ctx.message);
    });
    std::vector<std::shared_ptr<Recorder>> made;
    Server server = co_await create_server(
        get_running_loop(),
        [&made]() -> std::shared_ptr<Recorder> {
          auto p = made.empty() ? std::make_shared<Thrower>() : std::make_shared<Recorder>();
          p->echo = true;
          made.push_back(p);
          return p;
        },
        "127.0.0.1", 0);
    {
      auto [r1, w1] = co_await open_connection("127.0.0.1", server.port());
      w1.write("boom");
      EXPECT_EQ(co_await wait_for(r1.read(), kBound), "boom");  // written before it threw
      EXPECT_EQ(co_await wait_for(r1.read(), kBound), "");      // then closed
    }
    co_await wait_for(made[0]->lost, kBound);
    EXPECT_EQ(made[0]->calls.back(), "lost(error)");
    EXPECT_EQ(what_of(made[0]->lost_exc), "protocol failed");
    EXPECT_EQ(reported, strings("Fatal error: protocol.data_received() call failed."));
    auto [r2, w2] = co_await open_connection("127.0.0.1", server.port());
    w2.write("still serving");
    EXPECT_EQ(co_await wait_for(r2.read(100), kBound), "still serving");
    server.close();
    server.close_clients();
    co_await wait_for(server.wait_closed(), kBound);
  };
  aio::run(main_());
}

TEST(Protocols, AbortDropsTheBufferAndCloseSendsItFirst) {
  auto main_ = []() -> Coro<> {
    std::vector<std::shared_ptr<Recorder>> made;
    Server server = co_await create_server(get_running_loop(), keeping_all(made), "127.0.0.1", 0);
    const std::string big(8 << 20, 'b');  // more than the kernel takes at once
    auto [r1, w1] = co_await open_connection("127.0.0.1", server.port());
    co_await until([&] { return made.size() >= 1 && static_cast<bool>(made[0]->transport); });
    made[0]->transport.write(big);
    EXPECT_GT(made[0]->transport.get_write_buffer_size(), 0u);
    made[0]->transport.close();
    EXPECT_TRUE(made[0]->transport.is_closing());
    EXPECT_FALSE(made[0]->transport.is_reading());
    made[0]->transport.write("dropped");  // after close(): ignored (docs/asyncio-to-aio.md)
    std::string all;
    for (;;) {
      std::string chunk = co_await wait_for(r1.read(), kBound);
      if (chunk.empty()) break;
      all += chunk;
    }
    EXPECT_EQ(all.size(), big.size());  // close() sent everything buffered
    co_await wait_for(made[0]->lost, kBound);
    EXPECT_EQ(made[0]->calls, strings("made", "lost"));
    EXPECT_EQ(made[0]->flow, strings("pause_writing", "resume_writing"));

    auto [r2, w2] = co_await open_connection("127.0.0.1", server.port());
    co_await until([&] { return made.size() >= 2 && static_cast<bool>(made[1]->transport); });
    const std::string huge(32 << 20, 'h');  // far more than the kernel takes at once
    made[1]->transport.write(huge);
    made[1]->transport.abort();
    EXPECT_EQ(made[1]->transport.get_write_buffer_size(), 0u);
    co_await wait_for(made[1]->lost, kBound);
    EXPECT_EQ(made[1]->calls, strings("made", "lost"));
    EXPECT_EQ(made[1]->flow, strings("pause_writing"));  // no resume: the buffer was dropped
    std::size_t second = 0;
    try {
      for (;;) {
        std::string chunk = co_await wait_for(r2.read(), kBound);
        if (chunk.empty()) break;
        second += chunk.size();
      }
    } catch (const ConnectionResetError&) {
      // the abort may reset the connection
    }
    EXPECT_LT(second, huge.size());
    server.close();
    co_await wait_for(server.wait_closed(), kBound);
  };
  aio::run(main_());
}

TEST(Protocols, EofReceivedTrueKeepsTheTransportOpenForWriting) {
  auto main_ = []() -> Coro<> {
    std::shared_ptr<Recorder> server_side;
    Server server = co_await create_server(get_running_loop(), keeping_last(server_side, false, true), "127.0.0.1", 0);
    auto [reader, writer] = co_await open_connection("127.0.0.1", server.port());
    writer.write("question");
    writer.write_eof();
    co_await until([&] { return server_side && server_side->calls.back() == "eof"; });
    EXPECT_FALSE(server_side->transport.is_closing());
    server_side->transport.write("answer after your EOF");
    server_side->transport.close();
    EXPECT_EQ(co_await wait_for(reader.read(), kBound), "answer after your EOF");
    co_await wait_for(server_side->lost, kBound);
    EXPECT_EQ(server_side->calls, kEchoed);
    server.close();
    co_await wait_for(server.wait_closed(), kBound);
  };
  aio::run(main_());
}

TEST(Protocols, UnixSocketsBothWays) {
  auto main_ = []() -> Coro<> {
    const std::string path = "/tmp/aio-protocols-test-" + std::to_string(::getpid()) + ".sock";
    std::shared_ptr<Recorder> server_side;
    Server server = co_await create_unix_server(get_running_loop(), keeping_last(server_side, true), path);
    auto [transport, client] =
        co_await create_unix_connection(get_running_loop(), [] { return std::make_shared<Recorder>(); }, path);
    transport.write("over a unix socket");
    Recorder* c = client.get();
    co_await until([&] { return c->data.size() >= 18; });
    EXPECT_EQ(client->data, "over a unix socket");
    transport.close();
    co_await wait_for(client->lost, kBound);
    co_await wait_for(server_side->lost, kBound);
    EXPECT_EQ(server_side->calls, kEchoed);
    server.close();
    co_await wait_for(server.wait_closed(), kBound);
    EXPECT_NE(::access(path.c_str(), F_OK), 0);  // the server removed its socket file
  };
  aio::run(main_());
}

// A protocol that hands the connection to another one after its first read.
struct Switcher : Recorder {
  std::shared_ptr<Recorder> next = std::make_shared<Recorder>();
  void data_received(std::string_view d) override {
    Recorder::data_received(d);
    next->transport = transport;
    transport.set_protocol(next);
  }
};

struct Bare : BaseProtocol {};

TEST(Protocols, SetProtocolSwitchesAndABareBaseProtocolIsATypeError) {
  auto main_ = []() -> Coro<> {
    std::shared_ptr<Switcher> first;
    Server server = co_await create_server(get_running_loop(), keeping_last(first), "127.0.0.1", 0);
    auto [reader, writer] = co_await open_connection("127.0.0.1", server.port());
    writer.write("first");
    co_await until([&] { return first && !first->data.empty(); });
    writer.write("second");
    co_await until([&] { return !first->next->data.empty(); });
    EXPECT_EQ(first->data, "first");
    EXPECT_EQ(first->next->data, "second");
    writer.close();
    co_await wait_for(first->next->lost, kBound);
    EXPECT_EQ(first->next->calls, strings("data", "eof", "lost"));
    server.close();
    co_await wait_for(server.wait_closed(), kBound);

    std::vector<std::string> reported;
    get_running_loop().set_exception_handler([&](EventLoop&, const ExceptionContext& ctx) {
      reported.push_back(ctx.message);
    });
    Server bare = co_await create_server(get_running_loop(), [] { return std::make_shared<Bare>(); }, "127.0.0.1", 0);
    auto [r2, w2] = co_await open_connection("127.0.0.1", bare.port());
    EXPECT_EQ(co_await wait_for(r2.read(), kBound), "");  // dropped
    EXPECT_EQ(reported, strings("Error on transport creation for incoming connection"));
    bool raised = false;
    try {
      (void)co_await create_connection(
          get_running_loop(), [] { return std::make_shared<Bare>(); }, "127.0.0.1", bare.port());
    } catch (const TypeError&) {
      raised = true;
    }
    EXPECT_TRUE(raised);
    bare.close();
    bare.close_clients();
    co_await wait_for(bare.wait_closed(), kBound);
  };
  aio::run(main_());
}

TEST(Protocols, SocketsOfOurOwnWithConnectAcceptedSocketAndCreateConnection) {
  auto main_ = []() -> Coro<> {
    EventLoop& loop = get_running_loop();
    SocketPair pair = co_await connected_sockets();
    std::shared_ptr<Recorder> server_side;
    auto [server_transport, server_protocol] =
        co_await connect_accepted_socket(loop, keeping_last(server_side, true), std::move(pair.accepted));
    EXPECT_EQ(server_protocol, server_side);
    EXPECT_EQ(server_transport.peername(), pair.peer);
    auto [transport, client] =
        co_await create_connection(loop, [] { return std::make_shared<Recorder>(); }, std::move(pair.mine));
    transport.write("given sockets");
    Recorder* c = client.get();
    co_await until([&] { return c->data == "given sockets"; });
    transport.close();
    co_await wait_for(c->lost, kBound);
    co_await wait_for(server_side->lost, kBound);
    EXPECT_EQ(server_side->calls, kEchoed);
    // TLS over a given socket needs the name to check, as asyncio says.
    try {
      (void)create_connection(
          loop, [] { return std::make_shared<Recorder>(); }, Socket(AF_INET, SOCK_STREAM), {.ssl = true});
      ADD_FAILURE() << "no ValueError";
    } catch (const ValueError& e) {
      EXPECT_STREQ(e.what(), "You must set server_hostname when using ssl without a host");
    }
  };
  aio::run(main_());
}

// create_server(sock=): the protocol server on a bound socket of ours.
TEST(Protocols, CreateServerOnABoundSocketOfOurOwn) {
  auto main_ = []() -> Coro<> {
    Socket sock(AF_INET, SOCK_STREAM);
    sock.bind(SockAddr("127.0.0.1", 0));
    const int port = sock.getsockname().port();
    std::shared_ptr<Recorder> server_side;
    Server server = co_await create_server(get_running_loop(), keeping_last(server_side, true), std::move(sock));
    EXPECT_EQ(server.port(), port);
    auto [reader, writer] = co_await open_connection("127.0.0.1", port);
    writer.write("given");
    writer.write_eof();
    EXPECT_EQ(co_await wait_for(reader.read(), kBound), "given");  // echoed, then closed at our EOF
    co_await wait_for(server_side->lost, kBound);
    EXPECT_EQ(server_side->calls, kEchoed);
    server.close();
    co_await wait_for(server.wait_closed(), kBound);
  };
  aio::run(main_());
}

TEST(Protocols, ConnectionRefusedNamesTheAddress) {
  auto main_ = []() -> Coro<> {
    Socket s(AF_INET, SOCK_STREAM);
    s.bind(SockAddr("127.0.0.1", 0));
    const int port = s.getsockname().port();
    s.close();
    bool raised = false;
    try {
      (void)co_await create_connection(
          get_running_loop(), [] { return std::make_shared<Recorder>(); }, "127.0.0.1", port);
    } catch (const ConnectionRefusedError& e) {
      raised = true;
      EXPECT_NE(std::string(e.what()).find("127.0.0.1"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(raised);
  };
  aio::run(main_());
}

// Connections left open when the loop closes are freed with it, protocols and all:
// the server's side waits with its reading paused (its edge registered with the
// loop), the client's has its read step queued when the loop stops. (LeakSanitizer
// checks the rest.)
Coro<void> echo_and_close(StreamReader reader, StreamWriter writer) {
  writer.write(co_await reader.read(100));
  writer.close();
}

TEST(Protocols, TheLoopClosingWithOpenTransportsFreesThem) {
  std::weak_ptr<Recorder> server_seen, client_seen;
  {
    EventLoop loop;
    auto main_ = [](std::weak_ptr<Recorder>& server_out, std::weak_ptr<Recorder>& client_out) -> Coro<> {
      std::shared_ptr<Recorder> server_side;
      Server server = co_await create_server(get_running_loop(), keeping_last(server_side), "127.0.0.1", 0);
      auto [transport, client] = co_await create_connection(
          get_running_loop(), [] { return std::make_shared<Recorder>(); }, "127.0.0.1", server.port());
      co_await until([&] { return server_side && static_cast<bool>(server_side->transport); });
      server_side->transport.pause_reading();
      transport.write("unread");
      server_side->transport.write("read");
      Recorder* c = client.get();
      co_await until([&] { return c->data == "read"; });
      transport.pause_reading();
      transport.resume_reading();  // the read step is queued as the loop stops
      server_out = server_side;
      client_out = client;
    };
    loop.run_until_complete(main_(server_seen, client_seen));
    EXPECT_FALSE(server_seen.expired());  // held by their transports while the loop is open
    EXPECT_FALSE(client_seen.expired());
    loop.close();
  }
  EXPECT_TRUE(server_seen.expired());
  EXPECT_TRUE(client_seen.expired());

  // A connection aborted in the loop's last iteration: its connection_lost is still
  // queued when the loop closes, and the protocol (which holds its transport) goes
  // all the same.
  std::weak_ptr<Recorder> aborted_seen;
  {
    EventLoop loop;
    Transport transport;
    auto main_ = [](Transport& t, std::weak_ptr<Recorder>& out) -> Coro<> {
      Server server = co_await start_server(echo_and_close, "127.0.0.1", 0);
      auto [made, client] = co_await create_connection(
          get_running_loop(), [] { return std::make_shared<Recorder>(); }, "127.0.0.1", server.port());
      t = made;
      out = client;
      server.close();
    };
    loop.run_until_complete(main_(transport, aborted_seen));
    loop.call_soon([&] {
      transport.abort();  // connection_lost goes on the ready list, for the next iteration
      transport = Transport();
      loop.stop();
    });
    loop.run_forever();
    EXPECT_FALSE(aborted_seen.expired());  // connection_lost has not run
    loop.close();
  }
  EXPECT_TRUE(aborted_seen.expired());
}

// What a protocol may do from inside data_received: close, abort, pause (and be
// resumed later), and throw after closing (still reported, asyncio's _fatal_error).
struct Reentrant : Recorder {
  void data_received(std::string_view d) override {
    Recorder::data_received(d);
    if (d == "close") {
      transport.write("closing");
      transport.close();
    } else if (d == "abort") {
      transport.abort();
    } else if (d == "pause") {
      transport.pause_reading();
      get_running_loop().call_later(0.05, [t = transport]() mutable { t.resume_reading(); });
    } else if (d == "close and throw") {
      transport.close();
      throw std::runtime_error("thrown after close");
    }
  }
};

TEST(Protocols, DataReceivedMayCloseAbortPauseOrThrowAfterClosing) {
  auto main_ = []() -> Coro<> {
    std::vector<std::string> reported;
    get_running_loop().set_exception_handler([&](EventLoop&, const ExceptionContext& ctx) {
      reported.push_back(ctx.message + ": " + what_of(ctx.exception));
    });
    std::shared_ptr<Reentrant> last;
    Server server = co_await create_server(get_running_loop(), keeping_last(last), "127.0.0.1", 0);
    const std::vector<std::string> words = strings("close", "abort", "close and throw");
    for (const std::string& word : words) {
      auto [reader, writer] = co_await open_connection("127.0.0.1", server.port());
      writer.write(word);
      std::string answer;
      try {
        answer = co_await wait_for(reader.read(), kBound);
      } catch (const ConnectionResetError&) {
        answer = "reset";  // an abort may reset
      }
      EXPECT_EQ(answer == "" || answer == "reset", word != "close") << word << ": " << answer;
      if (word == "close") {
        EXPECT_EQ(answer, "closing");
      }
      co_await wait_for(last->lost, kBound);
      EXPECT_EQ(last->calls, strings("made", "data", "lost")) << word;
      EXPECT_EQ(what_of(last->lost_exc), "") << word;  // closed by the protocol first
    }
    EXPECT_EQ(reported, strings("Fatal error: protocol.data_received() call failed.: thrown after close"));

    auto [reader, writer] = co_await open_connection("127.0.0.1", server.port());
    writer.write("pause");
    co_await until([&] { return last && last->data == "pause" && !last->transport.is_reading(); });
    writer.write(" then more");
    co_await sleep(0.02);
    EXPECT_EQ(last->data, "pause");  // held while paused
    co_await until([&] { return last->data == "pause then more"; });  // resumed by the timer
    EXPECT_TRUE(last->transport.is_reading());
    writer.close();
    co_await wait_for(last->lost, kBound);
    server.close();
    co_await wait_for(server.wait_closed(), kBound);
  };
  aio::run(main_());
}

// --- pipes (connect_read_pipe, connect_write_pipe)

// A pipe whose ends close on exec: a child gets only the end given to it.
struct Pipe {
  int r = -1, w = -1;
  Pipe() { EXPECT_EQ(::pipe2(&r, O_CLOEXEC), 0); }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  ~Pipe() {
    close_read();
    close_write();
  }
  void close_read() {
    if (r >= 0) ::close(std::exchange(r, -1));
  }
  void close_write() {
    if (w >= 0) ::close(std::exchange(w, -1));
  }
  int take_read() { return std::exchange(r, -1); }  // the transport's now
  int take_write() { return std::exchange(w, -1); }
};

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) >= 0; }

int open_fds() {
  int n = 0;
  for (int fd = 0; fd < 1024; ++fd) n += is_open(fd) ? 1 : 0;
  return n;
}

// Whether process `pid` is stopped (state T in /proc/PID/stat).
bool stopped(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const std::size_t paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'T';
}

// A child that stops itself before it reads anything, then counts its stdin: a
// reader that takes nothing until we send SIGCONT, so a write fills the pipe and
// the buffer whatever the machine's speed.
const char* const kStoppedCounter = "kill -STOP $$; exec wc -c";

// A child writes into the pipe: every byte arrives in order, then eof_received (its
// true is not heeded: a read pipe closes at its EOF) and connection_lost(null). The
// same pipe through a BufferedProtocol's buffer.
TEST(Protocols, ReadPipeTakesAChildsOutputThenItsEof) {
  auto main_ = []() -> Coro<> {
    EventLoop& loop = get_running_loop();
    Pipe pipe;
    Process child = co_await create_subprocess_shell(
        "printf 'one\\ntwo\\n'; head -c 300000 /dev/zero | tr '\\0' x", {.stdout = pipe.w});
    pipe.close_write();  // the child holds the only writer
    std::shared_ptr<Recorder> made;
    auto [transport, protocol] = co_await connect_read_pipe(loop, keeping_last(made, false, true), pipe.take_read());
    EXPECT_EQ(protocol, made);
    EXPECT_TRUE(transport.is_reading());
    EXPECT_FALSE(transport.can_write_eof());
    EXPECT_THROW(transport.write("no"), NotImplementedError);
    EXPECT_THROW(transport.write_eof(), NotImplementedError);
    EXPECT_TRUE(transport.peername().empty());
    EXPECT_GE(transport.fileno(), 0);
    co_await wait_for(protocol->lost, kBound);
    EXPECT_EQ(protocol->data, "one\ntwo\n" + std::string(300000, 'x'));
    EXPECT_EQ(protocol->calls, kEchoed);
    EXPECT_FALSE(protocol->lost_exc);
    EXPECT_EQ(transport.fileno(), -1);
    EXPECT_EQ(co_await wait_for(child.wait(), kBound), 0);

    Pipe second;
    Process writer = co_await create_subprocess_exec("head", "-c", "250000", "/dev/zero", SubprocessOptions{.stdout = second.w});
    second.close_write();
    auto [t2, collector] = co_await connect_read_pipe(
        loop, [] { return std::make_shared<Collector>(); }, second.take_read());
    co_await wait_for(collector->lost, kBound);
    EXPECT_EQ(collector->got, std::string(250000, '\0'));
    EXPECT_GE(collector->updates, 250);  // 1000 bytes at most per read
    EXPECT_TRUE(collector->eof);
    EXPECT_EQ(co_await wait_for(writer.wait(), kBound), 0);
  };
  aio::run(main_());
}

// What a write pipe's protocol sees: connection_made, pause_writing above the
// high-water mark and resume_writing once the child has read it down, and after
// write_eof (the pipe closes once the buffer is out) connection_lost(null). The
// child counts every byte.
struct PipeFeeder : BaseProtocol {
  Transport transport;
  std::vector<std::string> calls;
  std::exception_ptr lost_exc;
  Future<void> lost = get_running_loop().create_future();
  void connection_made(Transport t) override {
    transport = t;
    calls.push_back("made");
  }
  void pause_writing() override { calls.push_back("pause_writing"); }
  void resume_writing() override { calls.push_back("resume_writing"); }
  void connection_lost(std::exception_ptr exc) override {
    calls.push_back(exc ? "lost(error)" : "lost");
    lost_exc = exc;
    transport = Transport();
    lost.set_result();
  }
};

TEST(Protocols, WritePipeFeedsAChildWithFlowControl) {
  auto main_ = []() -> Coro<> {
    EventLoop& loop = get_running_loop();
    Pipe pipe;
    ::fcntl(pipe.w, F_SETPIPE_SZ, 65536);  // as most kernels make it (64 KiB pages make it 1 MiB)
    Process child = co_await create_subprocess_shell(kStoppedCounter, {.stdin = pipe.r, .stdout = PIPE});
    pipe.close_read();
    const int pid = child.pid();
    co_await until([&] { return stopped(pid); });
    auto [transport, feeder] = co_await connect_write_pipe(
        loop, [] { return std::make_shared<PipeFeeder>(); }, pipe.take_write());
    EXPECT_FALSE(transport.is_reading());
    EXPECT_TRUE(transport.can_write_eof());
    EXPECT_THROW(transport.pause_reading(), NotImplementedError);
    EXPECT_THROW(transport.resume_reading(), NotImplementedError);
    const std::string block(1 << 20, 'p');  // far more than the pipe holds
    transport.write(block);
    EXPECT_GT(transport.get_write_buffer_size(), 64u * 1024);
    EXPECT_EQ(feeder->calls, strings("made", "pause_writing"));
    child.send_signal(SIGCONT);  // the child reads now
    PipeFeeder* f = feeder.get();  // a structured binding: [&] cannot take it under clang 14
    co_await until([&] { return f->calls.size() == 3; });
    EXPECT_EQ(feeder->calls.back(), "resume_writing");
    EXPECT_LE(transport.get_write_buffer_size(), 16u * 1024);
    transport.write("and the rest");
    transport.write_eof();  // the child's EOF once everything is out
    EXPECT_TRUE(transport.is_closing());
    co_await wait_for(feeder->lost, kBound);
    EXPECT_EQ(feeder->calls.back(), "lost");
    EXPECT_FALSE(feeder->lost_exc);
    std::string counted = co_await wait_for(child.stdout->read(), kBound);
    EXPECT_EQ(std::stol(counted), static_cast<long>(block.size() + 12));
    EXPECT_EQ(co_await wait_for(child.wait(), kBound), 0);
  };
  aio::run(main_());
}

// The reader closing its end closes the write transport: with nothing buffered,
// connection_lost(null); with bytes that can never arrive, BrokenPipeError, which
// (an OS error) the loop's exception handler does not hear of.
TEST(Protocols, WritePipeClosesWhenTheReaderGoes) {
  auto main_ = []() -> Coro<> {
    EventLoop& loop = get_running_loop();
    std::vector<std::string> reported;
    loop.set_exception_handler([&](EventLoop&, const ExceptionContext& ctx) { reported.push_back(ctx.message); });

    Pipe idle;
    auto [t1, quiet] = co_await connect_write_pipe(loop, [] { return std::make_shared<PipeFeeder>(); }, idle.take_write());
    co_await sleep(0.01);  // a few iterations: nothing happens while the reader is there
    EXPECT_EQ(quiet->calls, strings("made"));
    idle.close_read();
    co_await wait_for(quiet->lost, kBound);
    EXPECT_EQ(quiet->calls, strings("made", "lost"));
    EXPECT_FALSE(quiet->lost_exc);
    EXPECT_EQ(t1.fileno(), -1);

    Pipe full;
    ::fcntl(full.w, F_SETPIPE_SZ, 65536);
    auto [t2, stuck] = co_await connect_write_pipe(loop, [] { return std::make_shared<PipeFeeder>(); }, full.take_write());
    t2.write(std::string(1 << 20, 'q'));  // nobody reads: most of it waits in the buffer
    EXPECT_GT(t2.get_write_buffer_size(), 0u);
    full.close_read();
    co_await wait_for(stuck->lost, kBound);
    EXPECT_EQ(stuck->calls, strings("made", "pause_writing", "lost(error)"));
    EXPECT_TRUE(holds<BrokenPipeError>(stuck->lost_exc)) << what_of(stuck->lost_exc);
    EXPECT_EQ(reported, std::vector<std::string>());
  };
  aio::run(main_());
}

// A write pipe on a terminal: its descriptor turns readable when someone types,
// which is not its reader going (the pipe's test above), and the transport stays
// open; the terminal hanging up closes it.
TEST(Protocols, WritePipeOnATerminalOutlivesTypingNotTheHangUp) {
  auto main_ = []() -> Coro<> {
    EventLoop& loop = get_running_loop();
    const int master = ::posix_openpt(O_RDWR | O_NOCTTY);
    CO_ASSERT_TRUE(master >= 0);
    CO_ASSERT_TRUE(::grantpt(master) == 0 && ::unlockpt(master) == 0);
    const int terminal = ::open(::ptsname(master), O_RDWR | O_NOCTTY);
    CO_ASSERT_TRUE(terminal >= 0);
    auto [transport, shown] = co_await connect_write_pipe(loop, [] { return std::make_shared<PipeFeeder>(); }, terminal);
    transport.write("to the screen\n");
    auto readable = [](int fd) {
      pollfd p{fd, POLLIN, 0};
      return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
    };
    co_await until([&] { return readable(master); });
    char screen[64] = {};
    const ssize_t n = ::read(master, screen, sizeof screen - 1);
    EXPECT_EQ(std::string(screen, n > 0 ? static_cast<std::size_t>(n) : 0), "to the screen\r\n");

    CO_ASSERT_TRUE(::write(master, "typed\n", 6) == 6);  // the keyboard
    const int fd = transport.fileno();
    co_await until([&] { return readable(fd); });
    co_await sleep(0.01);  // a few iterations with the terminal readable
    EXPECT_EQ(shown->calls, strings("made"));
    EXPECT_FALSE(transport.is_closing());

    ::close(master);  // the hang-up
    co_await wait_for(shown->lost, kBound);
    EXPECT_EQ(shown->calls, strings("made", "lost"));
    EXPECT_FALSE(shown->lost_exc) << what_of(shown->lost_exc);
  };
  aio::run(main_());
}

// What a pipe transport does not take: a regular file (ValueError, and the
// descriptor stays the caller's), or, to read, a protocol that cannot take data
// (TypeError; the descriptor was taken and is closed).
TEST(Protocols, PipeTransportsRejectFilesAndProtocolsThatCannotRead) {
  auto main_ = []() -> Coro<> {
    EventLoop& loop = get_running_loop();
    char path[] = "/tmp/aio-pipe-file-XXXXXX";
    const int file = ::mkstemp(path);
    CO_ASSERT_TRUE(file >= 0);
    ::unlink(path);
    try {
      (void)co_await connect_read_pipe(loop, [] { return std::make_shared<Recorder>(); }, file);
      ADD_FAILURE() << "no ValueError";
    } catch (const ValueError& e) {
      EXPECT_NE(std::string(e.what()).find("only for pipes"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(is_open(file));
    ::close(file);

    Pipe pipe;
    const int r = pipe.take_read();
    bool raised = false;
    try {
      (void)co_await connect_read_pipe(loop, [] { return std::make_shared<Bare>(); }, r);
    } catch (const TypeError&) {
      raised = true;
    }
    EXPECT_TRUE(raised);
    EXPECT_FALSE(is_open(r));
    // A write pipe takes any BaseProtocol; its reader is gone, so the first write
    // ends it with BrokenPipeError.
    auto [transport, feeder] =
        co_await connect_write_pipe(loop, [] { return std::make_shared<PipeFeeder>(); }, pipe.take_write());
    transport.write("taken");
    EXPECT_TRUE(transport.is_closing());
    co_await wait_for(feeder->lost, kBound);
    EXPECT_EQ(feeder->calls, strings("made", "lost(error)"));
    EXPECT_TRUE(holds<BrokenPipeError>(feeder->lost_exc)) << what_of(feeder->lost_exc);
  };
  aio::run(main_());
}

// asyncio's connect_write_pipe takes any character device, /dev/null too, which
// epoll cannot watch (EPERM): the writes go straight through and nothing is ever
// buffered; close() gives connection_lost(null) and closes the descriptor. A write
// such a device refuses (/dev/full: ENOSPC) ends the transport with that OSError,
// which the loop's exception handler does not hear of. Reading one stays refused.
TEST(Protocols, WritePipeOnDevNullTakesEverythingAtOnce) {
  auto main_ = []() -> Coro<> {
    EventLoop& loop = get_running_loop();
    std::vector<std::string> reported;
    loop.set_exception_handler([&](EventLoop&, const ExceptionContext& ctx) { reported.push_back(ctx.message); });
    const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    CO_ASSERT_TRUE(null >= 0);
    auto [transport, sink] = co_await connect_write_pipe(loop, [] { return std::make_shared<PipeFeeder>(); }, null);
    EXPECT_EQ(transport.fileno(), null);
    EXPECT_FALSE(transport.is_reading());
    const std::string block(1 << 20, 'n');
    for (int i = 0; i < 64; ++i) {  // 64 MiB: far more than any buffer, were there one
      transport.write(block);
      EXPECT_EQ(transport.get_write_buffer_size(), 0u);
    }
    for (int i = 0; i < 10; ++i) co_await sleep(0);  // iterations: nothing happens
    EXPECT_EQ(sink->calls, strings("made"));  // no pause_writing
    EXPECT_FALSE(transport.is_closing());
    transport.write("and the rest");
    EXPECT_EQ(transport.get_write_buffer_size(), 0u);
    transport.close();
    EXPECT_TRUE(transport.is_closing());
    co_await wait_for(sink->lost, kBound);
    EXPECT_EQ(sink->calls, strings("made", "lost"));
    EXPECT_FALSE(sink->lost_exc) << what_of(sink->lost_exc);
    EXPECT_EQ(transport.fileno(), -1);

    const int full = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
    CO_ASSERT_TRUE(full >= 0);
    auto [t2, refused] = co_await connect_write_pipe(loop, [] { return std::make_shared<PipeFeeder>(); }, full);
    t2.write("no space");
    EXPECT_TRUE(t2.is_closing());
    EXPECT_EQ(t2.get_write_buffer_size(), 0u);
    co_await wait_for(refused->lost, kBound);
    EXPECT_EQ(refused->calls, strings("made", "lost(error)"));
    try {
      std::rethrow_exception(refused->lost_exc);
    } catch (const OSError& e) {
      EXPECT_EQ(e.code().value(), ENOSPC);
      EXPECT_NE(std::string(e.what()).find("pipe " + std::to_string(full)), std::string::npos) << e.what();
    } catch (...) {
      ADD_FAILURE() << what_of(refused->lost_exc);
    }

    const int read_null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    CO_ASSERT_TRUE(read_null >= 0);
    bool raised = false;
    try {
      (void)co_await connect_read_pipe(loop, [] { return std::make_shared<Recorder>(); }, read_null);
    } catch (const std::system_error& e) {
      raised = e.code().value() == EPERM;
    }
    EXPECT_TRUE(raised);
    EXPECT_TRUE(is_open(read_null));  // still the caller's
    ::close(read_null);
    EXPECT_EQ(reported, std::vector<std::string>());
  };
  aio::run(main_());

  // The loop closing with one still open frees it, as a watched one.
  std::weak_ptr<PipeFeeder> seen;
  {
    EventLoop loop;
    auto open_it = [](std::weak_ptr<PipeFeeder>& out) -> Coro<> {
      const int fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
      CO_ASSERT_TRUE(fd >= 0);
      auto [transport, sink] =
          co_await connect_write_pipe(get_running_loop(), [] { return std::make_shared<PipeFeeder>(); }, fd);
      transport.write("left open");
      out = sink;
    };
    loop.run_until_complete(open_it(seen));
    EXPECT_FALSE(seen.expired());  // its transport holds it while the loop is open
    loop.close();
  }
  EXPECT_TRUE(seen.expired());
}

// --- subprocesses with protocols (subprocess_exec, subprocess_shell)

// Records a child's life as asyncio's SubprocessProtocol sees it.
struct ChildRecorder : SubprocessProtocol {
  SubprocessTransport transport;
  std::vector<std::string> calls;
  std::string out, err;
  std::vector<std::string> flow;
  Future<void> lost = get_running_loop().create_future();
  void connection_made(SubprocessTransport t) override {
    transport = t;
    calls.push_back("made");
  }
  void pipe_data_received(int fd, std::string_view data) override { (fd == 1 ? out : err) += data; }
  void pipe_connection_lost(int fd, std::exception_ptr exc) override {
    calls.push_back("pipe_lost(" + std::to_string(fd) + (exc ? ", error)" : ")"));
  }
  void process_exited() override { calls.push_back("exited(" + std::to_string(transport.get_returncode().value()) + ")"); }
  void pause_writing() override { flow.push_back("pause_writing"); }
  void resume_writing() override { flow.push_back("resume_writing"); }
  void connection_lost(std::exception_ptr exc) override {
    calls.push_back(exc ? "lost(error)" : "lost");
    transport = SubprocessTransport();  // as asyncio protocols drop theirs
    lost.set_result();
  }
};

// Every pipe and the exit reach the protocol: what the child writes to stdout and
// stderr, each pipe's close, the exit status, and connection_lost last, once the
// child has exited and every pipe has closed.
TEST(Protocols, SubprocessShellGivesThePipesAndTheExitToTheProtocol) {
  auto main_ = []() -> Coro<> {
    EventLoop& loop = get_running_loop();
    auto [transport, child] =
        co_await subprocess_shell(loop, [] { return std::make_shared<ChildRecorder>(); }, "cat; echo err >&2; exit 3");
    EXPECT_EQ(child->calls, strings("made"));  // before subprocess_shell returned
    EXPECT_GT(transport.get_pid(), 0);
    EXPECT_EQ(transport.get_returncode(), std::nullopt);
    EXPECT_FALSE(transport.is_closing());
    Transport in = transport.get_pipe_transport(0);
    CO_ASSERT_TRUE(static_cast<bool>(in));
    EXPECT_TRUE(static_cast<bool>(transport.get_pipe_transport(1)));
    EXPECT_TRUE(static_cast<bool>(transport.get_pipe_transport(2)));
    EXPECT_THROW((void)transport.get_pipe_transport(3), ValueError);
    in.write("hello\n");
    in.write_eof();  // cat's EOF
    co_await wait_for(child->lost, kBound);
    EXPECT_EQ(child->out, "hello\n");
    EXPECT_EQ(child->err, "err\n");
    // The three pipes close in an order of the kernel's; the exit comes after stdin's
    // close (the child waits for it), and connection_lost last.
    std::vector<std::string> calls = child->calls;
    CO_ASSERT_TRUE(calls.size() == 6u);
    EXPECT_EQ(calls.front(), "made");
    EXPECT_EQ(calls.back(), "lost");
    std::vector<std::string> middle(calls.begin() + 1, calls.end() - 1);
    std::sort(middle.begin(), middle.end());
    EXPECT_EQ(middle, strings("exited(3)", "pipe_lost(0)", "pipe_lost(1)", "pipe_lost(2)"));
    EXPECT_LT(std::find(calls.begin(), calls.end(), "pipe_lost(0)"), std::find(calls.begin(), calls.end(), "exited(3)"));
    EXPECT_EQ(transport.get_returncode(), 3);
    EXPECT_THROW(transport.send_signal(SIGTERM), ProcessLookupError);  // after connection_lost, as asyncio
  };
  aio::run(main_());
}

// The child's stdin has the write buffer's flow control, told to the
// SubprocessProtocol; the child counts every byte.
TEST(Protocols, SubprocessExecStdinFlowControlReachesTheProtocol) {
  auto main_ = []() -> Coro<> {
    EventLoop& loop = get_running_loop();
    auto [transport, child] =
        co_await subprocess_shell(loop, [] { return std::make_shared<ChildRecorder>(); }, kStoppedCounter);
    const int pid = transport.get_pid();
    co_await until([&] { return stopped(pid); });
    Transport in = transport.get_pipe_transport(0);
    ::fcntl(in.fileno(), F_SETPIPE_SZ, 65536);
    const std::string block(1 << 20, 'w');  // far more than the pipe holds
    in.write(block);
    EXPECT_EQ(child->flow, strings("pause_writing"));
    transport.send_signal(SIGCONT);  // the child reads now
    ChildRecorder* c = child.get();  // a structured binding: [&] cannot take it under clang 14
    co_await until([&] { return c->flow.size() == 2; });
    EXPECT_EQ(child->flow.back(), "resume_writing");
    in.write_eof();
    co_await wait_for(child->lost, kBound);
    EXPECT_EQ(std::stol(child->out), static_cast<long>(block.size()));
    EXPECT_EQ(transport.get_returncode(), 0);
  };
  aio::run(main_());
}

// close() closes the pipes and kills a child that still runs; the options choose the
// pipes, and what they point at is copied at the call; a missing program is
// FileNotFoundError naming it.
TEST(Protocols, SubprocessTransportCloseKillsAndTheOptionsChooseThePipes) {
  auto main_ = []() -> Coro<> {
    EventLoop& loop = get_running_loop();
    std::vector<std::string> args = strings("30");
    auto [transport, child] =
        co_await subprocess_exec(loop, [] { return std::make_shared<ChildRecorder>(); }, "sleep", std::move(args));
    transport.close();
    EXPECT_TRUE(transport.is_closing());
    co_await wait_for(child->lost, kBound);
    EXPECT_EQ(transport.get_returncode(), -SIGKILL);
    EXPECT_EQ(child->calls.back(), "lost");

    auto [t2, only_out] = co_await subprocess_shell(
        loop, [] { return std::make_shared<ChildRecorder>(); }, "echo out; echo err >&2",
        {.stdout = PIPE, .stderr = STDOUT});
    EXPECT_FALSE(static_cast<bool>(t2.get_pipe_transport(0)));  // inherited
    EXPECT_FALSE(static_cast<bool>(t2.get_pipe_transport(2)));  // merged into stdout
    co_await wait_for(only_out->lost, kBound);
    EXPECT_EQ(only_out->out, "out\nerr\n");
    EXPECT_EQ(only_out->calls.size(), 4u);  // made, pipe_lost(1) and exited(0) in either order, lost

    // The working directory is copied at the call, as create_subprocess_exec's.
    auto starting = [&loop] {
      const std::string dir = "/tmp";
      return subprocess_shell(loop, [] { return std::make_shared<ChildRecorder>(); }, "pwd",
                              {.stdout = PIPE, .cwd = dir});
    }();
    auto [t3, where] = co_await std::move(starting);
    co_await wait_for(where->lost, kBound);
    EXPECT_EQ(where->out, "/tmp\n");

    std::weak_ptr<ChildRecorder> unborn;
    const int fds_before = open_fds();
    try {
      (void)co_await subprocess_exec(
          loop, [&unborn] { auto p = std::make_shared<ChildRecorder>(); unborn = p; return p; }, "aio-no-such-program");
      ADD_FAILURE() << "no FileNotFoundError";
    } catch (const FileNotFoundError& e) {
      EXPECT_NE(std::string(e.what()).find("aio-no-such-program"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(unborn.expired());
    EXPECT_EQ(open_fds(), fds_before);  // its pipes closed
  };
  aio::run(main_());
}

// The loop closing first frees the protocol and the transport, though each holds
// the other: with the child still running; with the child gone but a grandchild
// holding its stdout open; and with connection_lost queued after close().
// (LeakSanitizer checks the rest.)
TEST(Protocols, TheLoopClosingFirstFreesTheSubprocessProtocol) {
  std::weak_ptr<ChildRecorder> running, orphaned, closing;
  int pid = -1, grandchild = -1;
  auto main_ = [&]() -> Coro<> {
    EventLoop& loop = get_running_loop();
    auto [transport, child] =
        co_await subprocess_exec(loop, [] { return std::make_shared<ChildRecorder>(); }, "sleep", "30");
    running = child;
    pid = transport.get_pid();

    auto [t2, exited] = co_await subprocess_shell(
        loop, [] { return std::make_shared<ChildRecorder>(); }, "sleep 30 & echo $! >&2; exit 0", {.stdout = PIPE, .stderr = PIPE});
    orphaned = exited;
    ChildRecorder* e = exited.get();  // a structured binding: [&] cannot take it under clang 14
    co_await until([&] { return !e->calls.empty() && e->calls.back() == "exited(0)" && !e->err.empty(); });
    grandchild = std::stoi(e->err);

    auto [t3, closed] = co_await subprocess_exec(loop, [] { return std::make_shared<ChildRecorder>(); }, "cat");
    closing = closed;
    t3.close();  // its pipes' connection_lost calls are queued when the loop closes
  };
  aio::run(main_());
  EXPECT_TRUE(running.expired());
  EXPECT_TRUE(orphaned.expired());
  EXPECT_TRUE(closing.expired());
  ASSERT_GT(pid, 0);
  ::kill(pid, SIGKILL);  // ours; a thread of the closed loop reaps it
  ASSERT_GT(grandchild, 0);
  ::kill(grandchild, SIGKILL);  // ours too, reparented: init reaps it
}

}  // namespace
}  // namespace aio
