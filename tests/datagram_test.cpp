// UDP endpoints, both shapes (DatagramSocket, create_datagram_endpoint with a
// DatagramProtocol), against python3 as the peer on 127.0.0.1 and ::1. These run on
// the real clock (a peer is real); timeouts only bound a hang. Nothing is ever sent to
// a non-loopback address.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "support/aio_test.hpp"
#include "support/peer_process.hpp"

namespace aio {
namespace {

constexpr double kBound = 20;  // seconds: only a hung test reaches it

// A UDP echo peer: binds host:0, prints its port, echoes every datagram to its sender.
// "big" is answered with 1000 bytes of 'x' and then "next".
const char* const kEchoPeer = R"(
import socket, sys
host = sys.argv[1]
s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET, socket.SOCK_DGRAM)
s.bind((host, 0))
print(s.getsockname()[1], flush=True)
while True:
    data, addr = s.recvfrom(65536)
    if data == b'big':
        s.sendto(b'x' * 1000, addr)
        s.sendto(b'next', addr)
    else:
        s.sendto(data, addr)
)";

struct EchoPeer {
  test::PeerProcess process;
  int port;
  explicit EchoPeer(const std::string& host)
      : process({"python3", "-c", kEchoPeer, host}), port(std::stoi(process.read_line())) {}
};

// A UDP port on `host` with nobody behind it.
int closed_port(const char* host) {
  Socket s(std::string(host).find(':') != std::string::npos ? AF_INET6 : AF_INET, SOCK_DGRAM);
  s.bind(SockAddr(host, 0));
  return s.getsockname().port();
}

// --- DatagramSocket

Coro<void> connected_echo(std::string host) {
  EchoPeer peer(host);
  DatagramSocket s = co_await open_datagram_endpoint(std::nullopt, HostPort{host, peer.port});
  CO_ASSERT_TRUE(s.peername().has_value());
  EXPECT_EQ(*s.peername(), SockAddr(host, peer.port));
  EXPECT_EQ(s.sockname().family(), host.find(':') != std::string::npos ? AF_INET6 : AF_INET);
  EXPECT_EQ(co_await s.send("ping"), 4u);
  auto [data, from] = co_await wait_for(s.recvfrom(), kBound);
  EXPECT_EQ(data, "ping");
  EXPECT_EQ(from, SockAddr(host, peer.port));
  co_await s.send("pong");
  EXPECT_EQ(co_await wait_for(s.recv(), kBound), "pong");
  s.close();
  EXPECT_TRUE(s.is_closed());
}

TEST(DatagramSocket, ConnectedEchoOverIPv4) { aio::run(connected_echo("127.0.0.1")); }
TEST(DatagramSocket, ConnectedEchoOverIPv6) { aio::run(connected_echo("::1")); }

TEST(DatagramSocket, UnconnectedSendtoAndRecvfromNameTheSender) {
  auto main_ = []() -> Coro<> {
    EchoPeer peer("::1");
    DatagramSocket s = co_await open_datagram_endpoint(HostPort{"::1", 0}, std::nullopt);
    EXPECT_FALSE(s.peername().has_value());
    CO_ASSERT_TRUE(s.sockname().port() != 0);
    const SockAddr to("::1", peer.port);
    co_await s.sendto("one", to);
    co_await s.sendto("two", to);
    auto [d1, from1] = co_await wait_for(s.recvfrom(), kBound);
    auto [d2, from2] = co_await wait_for(s.recvfrom(), kBound);
    EXPECT_EQ(d1, "one");
    EXPECT_EQ(d2, "two");
    EXPECT_EQ(from1, to);
    EXPECT_EQ(from2, to);
  };
  aio::run(main_());
}

TEST(DatagramSocket, HostNamesAreResolved) {
  auto main_ = []() -> Coro<> {
    EchoPeer peer("127.0.0.1");
    DatagramOptions options;
    options.family = AF_INET;
    DatagramSocket s = co_await open_datagram_endpoint(HostPort{"localhost", 0}, HostPort{"localhost", peer.port}, options);
    EXPECT_EQ(*s.peername(), SockAddr("127.0.0.1", peer.port));
    co_await s.send("by name");
    EXPECT_EQ(co_await wait_for(s.recv(), kBound), "by name");
    try {
      (void)co_await open_datagram_endpoint(std::nullopt, HostPort{"no-such-host.invalid", 9});
      ADD_FAILURE() << "resolved";
    } catch (const gaierror& e) {
      EXPECT_NE(std::string(e.what()).find("no-such-host.invalid"), std::string::npos) << e.what();
    }
  };
  aio::run(main_());
}

Coro<void> refused(std::string host) {
  const int port = closed_port(host.c_str());
  DatagramSocket s = co_await open_datagram_endpoint(std::nullopt, HostPort{host, port});
  co_await s.send("anyone?");  // the kernel answers with ICMP port unreachable
  // Let the loop's epoll report the error before we take it: the case where a later
  // wait could spin.
  pollfd p{s.fileno(), 0, 0};
  CO_ASSERT_TRUE(::poll(&p, 1, 20000) == 1 && (p.revents & POLLERR) != 0);
  co_await sleep(0);
  try {
    (void)co_await wait_for(s.recv(), kBound);
    ADD_FAILURE() << "received";
  } catch (const ConnectionRefusedError& e) {
    EXPECT_EQ(e.code().value(), ECONNREFUSED);
    EXPECT_NE(std::string(e.what()).find(SockAddr(host, port).str()), std::string::npos) << e.what();
  }
  // The error was taken: the socket waits again (it must not spin on the error that
  // epoll reported once).
  EXPECT_THROW((void)co_await wait_for(s.recv(), 0.2), TimeoutError);
}

TEST(DatagramSocket, ConnectedToAClosedPortRaisesConnectionRefusedErrorOverIPv4) { aio::run(refused("127.0.0.1")); }
TEST(DatagramSocket, ConnectedToAClosedPortRaisesConnectionRefusedErrorOverIPv6) { aio::run(refused("::1")); }

TEST(DatagramSocket, AllowBroadcastSetsSoBroadcastAndKeepsTheRemoteAsTheDefault) {
  auto main_ = []() -> Coro<> {
    EchoPeer peer("127.0.0.1");
    DatagramSocket plain = co_await open_datagram_endpoint(HostPort{"127.0.0.1", 0}, std::nullopt);
    EXPECT_EQ(plain.socket().getsockopt(SOL_SOCKET, SO_BROADCAST), 0);
    DatagramOptions options;
    options.allow_broadcast = true;
    // Loopback only: the option is checked, never used on a broadcast address.
    DatagramSocket s = co_await open_datagram_endpoint(std::nullopt, HostPort{"127.0.0.1", peer.port}, options);
    EXPECT_EQ(s.socket().getsockopt(SOL_SOCKET, SO_BROADCAST), 1);
    EXPECT_FALSE(s.peername().has_value());  // as asyncio: not connected
    co_await s.send("to the default");
    auto [data, from] = co_await wait_for(s.recvfrom(), kBound);
    EXPECT_EQ(data, "to the default");
    EXPECT_EQ(from, SockAddr("127.0.0.1", peer.port));
  };
  aio::run(main_());
}

TEST(DatagramSocket, ReusePortLetsTwoSocketsBindOnePort) {
  auto main_ = []() -> Coro<> {
    DatagramOptions options;
    options.reuse_port = true;
    DatagramSocket a = co_await open_datagram_endpoint(HostPort{"127.0.0.1", 0}, std::nullopt, options);
    EXPECT_EQ(a.socket().getsockopt(SOL_SOCKET, SO_REUSEPORT), 1);
    const int port = a.sockname().port();
    DatagramSocket b = co_await open_datagram_endpoint(HostPort{"127.0.0.1", port}, std::nullopt, options);
    EXPECT_EQ(b.sockname().port(), port);
    try {
      (void)co_await open_datagram_endpoint(HostPort{"127.0.0.1", port}, std::nullopt);
      ADD_FAILURE() << "bound without SO_REUSEPORT";
    } catch (const OSError& e) {
      EXPECT_EQ(e.code().value(), EADDRINUSE);
      EXPECT_NE(std::string(e.what()).find("('127.0.0.1', " + std::to_string(port) + ")"), std::string::npos);
    }
  };
  aio::run(main_());
}

TEST(DatagramSocket, ACancelledRecvfromLosesNoDatagram) {
  auto main_ = []() -> Coro<> {
    DatagramSocket s = co_await open_datagram_endpoint(HostPort{"127.0.0.1", 0}, std::nullopt);
    Socket sender(AF_INET, SOCK_DGRAM);
    sender.bind(SockAddr("127.0.0.1", 0));
    // Cancelled while waiting, with the datagram arriving in the kernel meanwhile, at
    // every point of the loop's turn: it comes from the task or from the next call,
    // exactly once.
    for (int yields = 0; yields < 4; ++yields) {
      Task<std::pair<std::string, SockAddr>> t = create_task(s.recvfrom());
      co_await sleep(0);  // t waits for the socket
      const std::string msg = "datagram " + std::to_string(yields);
      CO_ASSERT_TRUE(::sendto(sender.fileno(), msg.data(), msg.size(), 0, s.sockname().data(), s.sockname().size()) ==
                     static_cast<ssize_t>(msg.size()));
      for (int i = 0; i < yields; ++i) co_await sleep(0);
      t.cancel();
      std::vector<std::string> got;
      try {
        got.push_back((co_await t).first);
      } catch (const CancelledError&) {
      }
      if (got.empty()) got.push_back(co_await wait_for(s.recv(), kBound));
      EXPECT_EQ(got, std::vector<std::string>{msg});
    }
    // And nothing more is pending.
    EXPECT_THROW((void)co_await wait_for(s.recv(), 0.1), TimeoutError);
  };
  aio::run(main_());
}

TEST(DatagramSocket, ALongerDatagramIsTruncatedAsPythonsRecvfrom) {
  auto main_ = []() -> Coro<> {
    EchoPeer peer("127.0.0.1");
    DatagramSocket s = co_await open_datagram_endpoint(std::nullopt, HostPort{"127.0.0.1", peer.port});
    co_await s.send("big");
    EXPECT_EQ(co_await wait_for(s.recv(10), kBound), std::string(10, 'x'));  // the other 990 bytes are dropped
    EXPECT_EQ(co_await wait_for(s.recv(10), kBound), "next");
  };
  aio::run(main_());
}

TEST(DatagramSocket, AnOperationOnAClosedSocketRaisesOSError) {
  auto main_ = []() -> Coro<> {
    DatagramSocket s = co_await open_datagram_endpoint(HostPort{"127.0.0.1", 0}, std::nullopt);
    Task<std::string> t = create_task(s.recv());
    co_await sleep(0);
    s.close();
    try {
      (void)co_await wait_for(t, kBound);
      ADD_FAILURE() << "received";
    } catch (const OSError& e) {
      EXPECT_EQ(e.code().value(), EBADF);
    }
    EXPECT_THROW((void)co_await s.send("x"), OSError);
  };
  aio::run(main_());
}

TEST(DatagramSocket, TwoReceiversAtOnceIsARuntimeError) {
  auto main_ = []() -> Coro<> {
    DatagramSocket s = co_await open_datagram_endpoint(HostPort{"127.0.0.1", 0}, std::nullopt);
    Task<std::string> t = create_task(s.recv());
    co_await sleep(0);
    EXPECT_THROW((void)co_await s.recv(), RuntimeError);
    t.cancel();
    EXPECT_THROW((void)co_await t, CancelledError);
  };
  aio::run(main_());
}

TEST(DatagramSocket, WithoutAddressesTheFamilyIsRequired) {
  auto main_ = []() -> Coro<> {
    EXPECT_THROW((void)co_await open_datagram_endpoint(std::nullopt, std::nullopt), ValueError);
    DatagramOptions options;
    options.family = AF_INET6;
    DatagramSocket s = co_await open_datagram_endpoint(std::nullopt, std::nullopt, options);
    EXPECT_EQ(s.socket().family(), AF_INET6);
  };
  aio::run(main_());
}

// --- create_datagram_endpoint and DatagramProtocol

// Records every callback, as the asyncio docs' EchoClientProtocol prints them.
struct Recorder : DatagramProtocol {
  DatagramTransport transport;
  std::vector<std::string> events;
  std::vector<std::pair<std::string, SockAddr>> received;
  std::vector<int> errors;
  Event got;   // a datagram or an error came
  Event lost;  // connection_lost was called
  std::string send_on_connect;

  void connection_made(DatagramTransport t) override {
    transport = t;
    events.push_back("connection_made");
    if (!send_on_connect.empty()) transport.sendto(send_on_connect);
  }
  void datagram_received(std::string_view data, const SockAddr& addr) override {
    events.push_back("datagram_received");
    received.emplace_back(std::string(data), addr);
    got.set();
  }
  void error_received(const OSError& exc) override {
    events.push_back("error_received");
    errors.push_back(exc.code().value());
    got.set();
  }
  void connection_lost(std::exception_ptr exc) override {
    events.push_back(exc ? "connection_lost(error)" : "connection_lost(None)");
    transport = DatagramTransport();  // as a Python protocol drops its reference
    lost.set();
  }
  void pause_writing() override { events.push_back("pause_writing"); }
  void resume_writing() override { events.push_back("resume_writing"); }
};

Coro<void> protocol_echo(std::string host) {
  EchoPeer peer(host);
  EventLoop& loop = get_running_loop();
  auto factory = [] {
    auto p = std::make_shared<Recorder>();
    p->send_on_connect = "Hello World!";
    return p;
  };
  auto [transport, protocol] = co_await create_datagram_endpoint(loop, factory, std::nullopt, HostPort{host, peer.port});
  // connection_made ran before the endpoint was returned.
  EXPECT_EQ(protocol->events, std::vector<std::string>{"connection_made"});
  EXPECT_EQ(*transport.peername(), SockAddr(host, peer.port));
  EXPECT_EQ(transport.get_protocol(), protocol);
  co_await wait_for(protocol->got.wait(), kBound);
  CO_ASSERT_TRUE(protocol->received.size() == 1);
  EXPECT_EQ(protocol->received[0].first, "Hello World!");
  EXPECT_EQ(protocol->received[0].second, SockAddr(host, peer.port));
  EXPECT_THROW(transport.sendto("x", SockAddr(host, peer.port + 1 == 65536 ? 1 : peer.port + 1)), ValueError);
  transport.sendto("");  // 3.12: an empty datagram is not sent
  EXPECT_EQ(transport.get_write_buffer_size(), 0u);
  transport.close();
  EXPECT_TRUE(transport.is_closing());
  EXPECT_FALSE(protocol->lost.is_set());  // called soon, not now
  co_await wait_for(protocol->lost.wait(), kBound);
  EXPECT_EQ(protocol->events,
            (std::vector<std::string>{"connection_made", "datagram_received", "connection_lost(None)"}));
  EXPECT_EQ(transport.fileno(), -1);
}

TEST(DatagramProtocol, EchoClientOverIPv4) { aio::run(protocol_echo("127.0.0.1")); }
TEST(DatagramProtocol, EchoClientOverIPv6) { aio::run(protocol_echo("::1")); }

// The asyncio docs' UDP echo server, with python3 as the client.
struct EchoServer : DatagramProtocol {
  DatagramTransport transport;
  void connection_made(DatagramTransport t) override { transport = t; }
  void datagram_received(std::string_view data, const SockAddr& addr) override { transport.sendto(data, addr); }
};

TEST(DatagramProtocol, EchoServerWithAPythonClient) {
  auto main_ = []() -> Coro<> {
    EventLoop& loop = get_running_loop();
    auto factory = [] { return std::make_shared<EchoServer>(); };
    auto [transport, protocol] = co_await create_datagram_endpoint(loop, factory, HostPort{"127.0.0.1", 0}, std::nullopt);
    EXPECT_FALSE(transport.peername().has_value());
    const int port = transport.sockname().port();
    const std::string client =
        "import socket\n"
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "s.settimeout(20)\n"
        "for m in (b'first', b'second'):\n"
        "    s.sendto(m, ('127.0.0.1', " + std::to_string(port) + "))\n"
        "    print(s.recvfrom(100)[0].decode(), flush=True)\n";
    test::PeerProcess python({"python3", "-c", client});
    auto read_two = [&python] {
      std::string first = python.read_line();
      return first + "," + python.read_line();
    };
    EXPECT_EQ(co_await to_thread(read_two), "first,second");
    transport.close();
  };
  aio::run(main_());
}

Coro<void> protocol_refused(std::string host) {
  EventLoop& loop = get_running_loop();
  const int port = closed_port(host.c_str());
  auto factory = [] { return std::make_shared<Recorder>(); };
  auto [transport, protocol] = co_await create_datagram_endpoint(loop, factory, std::nullopt, HostPort{host, port});
  transport.sendto("anyone?");
  co_await wait_for(protocol->got.wait(), kBound);
  EXPECT_EQ(protocol->errors, std::vector<int>{ECONNREFUSED});
  EXPECT_FALSE(transport.is_closing());  // an error does not close the endpoint
  // The endpoint goes on reading (and does not spin): nothing more comes.
  protocol->got.clear();
  EXPECT_THROW(co_await wait_for(protocol->got.wait(), 0.2), TimeoutError);
  transport.close();
  co_await wait_for(protocol->lost.wait(), kBound);
  EXPECT_EQ(protocol->events,
            (std::vector<std::string>{"connection_made", "error_received", "connection_lost(None)"}));
}

TEST(DatagramProtocol, ConnectedToAClosedPortGetsErrorReceivedOverIPv4) { aio::run(protocol_refused("127.0.0.1")); }
TEST(DatagramProtocol, ConnectedToAClosedPortGetsErrorReceivedOverIPv6) { aio::run(protocol_refused("::1")); }

TEST(DatagramProtocol, AllowBroadcastSetsSoBroadcastAndTheRemoteIsTheDefaultDestination) {
  auto main_ = []() -> Coro<> {
    EchoPeer peer("127.0.0.1");
    auto factory = [] { return std::make_shared<Recorder>(); };
    DatagramOptions options;
    options.allow_broadcast = true;
    // Loopback only: the option is checked, never used on a broadcast address.
    auto [transport, protocol] = co_await create_datagram_endpoint(get_running_loop(), factory, std::nullopt,
                                                                   HostPort{"127.0.0.1", peer.port}, options);
    int on = 0;
    socklen_t len = sizeof on;
    CO_ASSERT_TRUE(::getsockopt(transport.fileno(), SOL_SOCKET, SO_BROADCAST, &on, &len) == 0);
    EXPECT_EQ(on, 1);
    EXPECT_FALSE(transport.peername().has_value());  // not connected, as asyncio
    EXPECT_THROW(transport.sendto("x", SockAddr("127.0.0.1", peer.port == 1 ? 2 : 1)), ValueError);
    transport.sendto("to the default");
    co_await wait_for(protocol->got.wait(), kBound);
    CO_ASSERT_TRUE(protocol->received.size() == 1);
    EXPECT_EQ(protocol->received[0].first, "to the default");
    EXPECT_EQ(protocol->received[0].second, SockAddr("127.0.0.1", peer.port));
    transport.close();
    co_await wait_for(protocol->lost.wait(), kBound);
  };
  aio::run(main_());
}

// A Unix datagram socketpair whose other end reads only when told: its queue fills,
// so sends would block and the transport buffers.
TEST(DatagramProtocol, SendtoBuffersWhenTheSocketWouldBlockAndFlowControlFollows) {
  auto main_ = []() -> Coro<> {
    EventLoop& loop = get_running_loop();
    int fds[2];
    CO_ASSERT_TRUE(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) == 0);
    Socket other = Socket::from_fd(fds[1]);
    other.setsockopt(SOL_SOCKET, SO_RCVBUF, 4096);
    auto factory = [] { return std::make_shared<Recorder>(); };
    auto [transport, protocol] = co_await create_datagram_endpoint(loop, factory, Socket::from_fd(fds[0]));
    transport.set_write_buffer_limits(8192);  // low: 2048
    const std::string chunk(1000, 'd');
    int sent = 0;
    while (transport.get_write_buffer_size() == 0 && sent < 100000) {  // bounded
      transport.sendto(chunk + std::to_string(sent));
      ++sent;
    }
    CO_ASSERT_TRUE(transport.get_write_buffer_size() > 0);  // the kernel refused one: buffered
    // More goes to the buffer (in order), past the high-water mark: pause_writing.
    for (int i = 0; i < 10; ++i) transport.sendto(chunk + std::to_string(sent++));
    EXPECT_GT(transport.get_write_buffer_size(), 8192u);
    EXPECT_EQ(protocol->events, (std::vector<std::string>{"connection_made", "pause_writing"}));
    transport.close();  // connection_lost waits for the buffer
    // The other end reads everything: the buffer drains in order, then the endpoint closes.
    std::vector<std::string> got;
    while (static_cast<int>(got.size()) < sent) {
      std::string buf(2000, '\0');
      const ssize_t n = ::recv(other.fileno(), buf.data(), buf.size(), 0);
      if (n >= 0) {
        buf.resize(static_cast<std::size_t>(n));
        got.push_back(buf);
        continue;
      }
      CO_ASSERT_TRUE(errno == EAGAIN);
      co_await wait_for(sleep(0.001), kBound);  // let the transport send more
    }
    for (int i = 0; i < sent; ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)], chunk + std::to_string(i));
    co_await wait_for(protocol->lost.wait(), kBound);
    EXPECT_EQ(protocol->events, (std::vector<std::string>{"connection_made", "pause_writing", "resume_writing",
                                                          "connection_lost(None)"}));
    EXPECT_EQ(transport.get_write_buffer_size(), 0u);
  };
  aio::run(main_());
}

TEST(DatagramProtocol, AbortDropsTheBufferAndCallsConnectionLostSoon) {
  auto main_ = []() -> Coro<> {
    EventLoop& loop = get_running_loop();
    int fds[2];
    CO_ASSERT_TRUE(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) == 0);
    Socket other = Socket::from_fd(fds[1]);
    auto factory = [] { return std::make_shared<Recorder>(); };
    auto [transport, protocol] = co_await create_datagram_endpoint(loop, factory, Socket::from_fd(fds[0]));
    const std::string chunk(1000, 'a');
    for (int i = 0; i < 100000 && transport.get_write_buffer_size() == 0; ++i) transport.sendto(chunk);
    CO_ASSERT_TRUE(transport.get_write_buffer_size() > 0);
    transport.abort();
    EXPECT_EQ(transport.get_write_buffer_size(), 0u);
    EXPECT_TRUE(transport.is_closing());
    co_await sleep(0);
    EXPECT_TRUE(protocol->lost.is_set());
    EXPECT_EQ(protocol->events.back(), "connection_lost(None)");
  };
  aio::run(main_());
}

TEST(DatagramProtocol, OneDatagramPerIterationAsAsyncio) {
  auto main_ = []() -> Coro<> {
    EventLoop& loop = get_running_loop();
    auto factory = [] { return std::make_shared<Recorder>(); };
    auto [transport, protocol] = co_await create_datagram_endpoint(loop, factory, HostPort{"127.0.0.1", 0}, std::nullopt);
    Socket sender(AF_INET, SOCK_DGRAM);
    const SockAddr to = transport.sockname();
    for (const char* m : {"a", "b", "c"}) {
      CO_ASSERT_TRUE(::sendto(sender.fileno(), m, 1, 0, to.data(), to.size()) == 1);
    }
    co_await wait_for(protocol->got.wait(), kBound);
    EXPECT_EQ(protocol->received.size(), 1u);  // the first only, in this iteration
    co_await sleep(0);
    co_await sleep(0);
    EXPECT_EQ(protocol->received.size(), 3u);
    std::vector<std::string> data;
    for (auto& [d, from] : protocol->received) data.push_back(d);
    EXPECT_EQ(data, (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(protocol->received[0].second.port(), sender.getsockname().port());
    transport.close();
    co_await wait_for(protocol->lost.wait(), kBound);
  };
  aio::run(main_());
}

TEST(DatagramProtocol, AnExceptionFromDatagramReceivedGoesToTheHandlerAndReadingGoesOn) {
  struct Throws : Recorder {
    void datagram_received(std::string_view data, const SockAddr& addr) override {
      Recorder::datagram_received(data, addr);
      if (data == "boom") throw std::runtime_error("boom");
    }
  };
  auto main_ = []() -> Coro<> {
    EventLoop& loop = get_running_loop();
    std::vector<std::string> reported;
    loop.set_exception_handler([&](EventLoop&, const ExceptionContext& ctx) { reported.push_back(ctx.message); });
    auto factory = [] { return std::make_shared<Throws>(); };
    auto [transport, protocol] = co_await create_datagram_endpoint(loop, factory, HostPort{"::1", 0}, std::nullopt);
    DatagramSocket sender = co_await open_datagram_endpoint(std::nullopt, HostPort{"::1", transport.sockname().port()});
    co_await sender.send("boom");
    co_await sender.send("after");
    while (protocol->received.size() < 2) {
      protocol->got.clear();
      co_await wait_for(protocol->got.wait(), kBound);
    }
    EXPECT_EQ(protocol->received[1].first, "after");
    CO_ASSERT_TRUE(reported.size() == 1);
    EXPECT_EQ(reported[0].rfind("Exception in callback", 0), 0u) << reported[0];
    transport.close();
    co_await wait_for(protocol->lost.wait(), kBound);
  };
  aio::run(main_());
}

TEST(DatagramProtocol, AnEndpointLeftOpenIsClosedWithTheLoop) {
  std::weak_ptr<Recorder> kept;
  auto main_ = [&kept]() -> Coro<> {
    auto factory = [] { return std::make_shared<Recorder>(); };
    auto [transport, protocol] =
        co_await create_datagram_endpoint(get_running_loop(), factory, HostPort{"127.0.0.1", 0}, std::nullopt);
    kept = protocol;  // the protocol holds the transport, the transport the protocol
  };
  aio::run(main_());
  // The loop's close let go of both (LeakSanitizer checks the rest).
  EXPECT_TRUE(kept.expired());
}

TEST(DatagramProtocol, SendtoAfterCloseIsDropped) {
  auto main_ = []() -> Coro<> {
    auto factory = [] { return std::make_shared<Recorder>(); };
    auto [transport, protocol] =
        co_await create_datagram_endpoint(get_running_loop(), factory, HostPort{"127.0.0.1", 0}, std::nullopt);
    const SockAddr self = transport.sockname();
    transport.close();
    co_await wait_for(protocol->lost.wait(), kBound);
    transport.sendto("late", self);
    EXPECT_EQ(protocol->events, (std::vector<std::string>{"connection_made", "connection_lost(None)"}));
  };
  aio::run(main_());
}

TEST(DatagramProtocol, WithoutAddressesTheFamilyIsRequired) {
  auto main_ = []() -> Coro<> {
    auto factory = [] { return std::make_shared<Recorder>(); };
    try {
      (void)co_await create_datagram_endpoint(get_running_loop(), factory, std::nullopt, std::nullopt);
      ADD_FAILURE() << "no error";
    } catch (const ValueError& e) {
      EXPECT_STREQ(e.what(), "unexpected address family");
    }
  };
  aio::run(main_());
}

}  // namespace
}  // namespace aio
