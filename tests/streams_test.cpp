// Sockets, name resolution and streams over real sockets on 127.0.0.1, with aio on
// both ends and with python3 as the peer. These run on the real clock (the virtual
// one would jump past a peer that is still sending); timeouts only bound a hang.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "support/aio_test.hpp"

namespace aio {
namespace {

constexpr double kBound = 20;  // seconds: only a hung test reaches it

// --- addresses

TEST(SockAddr, ParsesAndShowsAddressesAsPython) {
  EXPECT_EQ(SockAddr("127.0.0.1", 8080).str(), "('127.0.0.1', 8080)");
  EXPECT_EQ(SockAddr("::1", 443).str(), "('::1', 443, 0, 0)");
  EXPECT_EQ(SockAddr("[::1]", 443).family(), AF_INET6);
  EXPECT_EQ(SockAddr("", 80).host(), "0.0.0.0");
  EXPECT_EQ(SockAddr::unix_path("/tmp/x.sock").str(), "'/tmp/x.sock'");
  EXPECT_THROW(SockAddr("example.com", 80), ValueError);
  EXPECT_THROW(SockAddr("127.0.0.1", 70000), ValueError);
}

// --- loop.sock_*

TEST(Sockets, ConnectAcceptSendRecvAndEof) {
  auto main_ = []() -> Coro<> {
    EventLoop& loop = get_running_loop();
    Socket listener(AF_INET, SOCK_STREAM);
    listener.bind(SockAddr("127.0.0.1", 0));
    listener.listen();
    const SockAddr where = listener.getsockname();
    auto serve = [&]() -> Coro<std::string> {
      auto [conn, peer] = co_await loop.sock_accept(listener);
      EXPECT_EQ(peer.host(), "127.0.0.1");
      std::string got;
      for (;;) {
        std::string chunk = co_await loop.sock_recv(conn, 3);
        if (chunk.empty()) break;  // EOF
        got += chunk;
      }
      co_await loop.sock_sendall(conn, "bye");
      co_return got;
    };
    Task<std::string> server = create_task(serve());
    Socket client(AF_INET, SOCK_STREAM);
    co_await loop.sock_connect(client, where);
    co_await loop.sock_sendall(client, std::string(100000, 'x'));
    client.shutdown(SHUT_WR);
    std::string reply = co_await wait_for(loop.sock_recv(client, 10), kBound);
    EXPECT_EQ(reply, "bye");
    std::string got = co_await wait_for(server, kBound);
    EXPECT_EQ(got.size(), 100000u);
    EXPECT_EQ(got.find_first_not_of('x'), std::string::npos);
  };
  aio::run(main_());
}

TEST(Sockets, ConnectionRefusedNamesTheAddress) {
  auto main_ = []() -> Coro<> {
    // A port nobody listens on: bind one and close it.
    int port;
    {
      Socket s(AF_INET, SOCK_STREAM);
      s.bind(SockAddr("127.0.0.1", 0));
      port = s.getsockname().port();
    }
    Socket client(AF_INET, SOCK_STREAM);
    try {
      co_await get_running_loop().sock_connect(client, SockAddr("127.0.0.1", port));
      ADD_FAILURE() << "connected";
    } catch (const ConnectionRefusedError& e) {
      EXPECT_EQ(e.code().value(), ECONNREFUSED);
      EXPECT_NE(std::string(e.what()).find("('127.0.0.1', " + std::to_string(port) + ")"), std::string::npos)
          << e.what();
    }
  };
  aio::run(main_());
}

TEST(Sockets, DatagramsBothWays) {
  auto main_ = []() -> Coro<> {
    EventLoop& loop = get_running_loop();
    Socket a(AF_INET6, SOCK_DGRAM);
    a.bind(SockAddr("::1", 0));
    Socket b(AF_INET6, SOCK_DGRAM);
    b.bind(SockAddr("::1", 0));
    co_await loop.sock_sendto(a, "ping", b.getsockname());
    auto [data, from] = co_await wait_for(loop.sock_recvfrom(b, 100), kBound);
    EXPECT_EQ(data, "ping");
    EXPECT_EQ(from, a.getsockname());
    co_await loop.sock_sendto(b, "pong", from);
    auto [reply, from2] = co_await wait_for(loop.sock_recvfrom(a, 100), kBound);
    EXPECT_EQ(reply, "pong");
  };
  aio::run(main_());
}

TEST(Sockets, SendfileSendsTheFile) {
  auto main_ = []() -> Coro<> {
    EventLoop& loop = get_running_loop();
    char path[] = "/tmp/aio_sendfile_XXXXXX";
    const int fd = ::mkstemp(path);
    CO_ASSERT_TRUE(fd >= 0);
    ::unlink(path);
    std::string content;
    for (int i = 0; i < 300000; ++i) content += static_cast<char>('a' + i % 26);
    CO_ASSERT_TRUE(::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
    Socket listener(AF_INET, SOCK_STREAM);
    listener.bind(SockAddr("127.0.0.1", 0));
    listener.listen();
    Socket client(AF_INET, SOCK_STREAM);
    co_await loop.sock_connect(client, listener.getsockname());
    auto [conn, peer] = co_await loop.sock_accept(listener);
    auto receive = [&]() -> Coro<std::string> {
      std::string got;
      for (;;) {
        std::string chunk = co_await loop.sock_recv(client, 65536);
        if (chunk.empty()) co_return got;
        got += chunk;
      }
    };
    Task<std::string> receiver = create_task(receive());
    const std::size_t sent = co_await loop.sock_sendfile(conn, fd, 10);
    conn.close();
    EXPECT_EQ(sent, content.size() - 10);
    std::string got = co_await wait_for(receiver, kBound);
    EXPECT_EQ(got, content.substr(10));
    ::close(fd);
  };
  aio::run(main_());
}

// --- name resolution

TEST(Netdb, ResolvesLocalhostAndNamesTheHostOnFailure) {
  auto main_ = []() -> Coro<> {
    std::vector<AddrInfo> infos = co_await getaddrinfo("localhost", 80, AF_INET, SOCK_STREAM);
    CO_ASSERT_TRUE(!infos.empty());
    EXPECT_EQ(infos.front().address.str(), "('127.0.0.1', 80)");
    try {
      (void)co_await getaddrinfo("no-such-host.invalid", 80);
      ADD_FAILURE() << "resolved";
    } catch (const gaierror& e) {
      EXPECT_NE(std::string(e.what()).find("no-such-host.invalid"), std::string::npos) << e.what();
    }
    auto [host, port] = co_await getnameinfo(SockAddr("127.0.0.1", 22), NI_NUMERICHOST | NI_NUMERICSERV);
    EXPECT_EQ(host, "127.0.0.1");
    EXPECT_EQ(port, "22");
  };
  aio::run(main_());
}

// --- streams, aio on both ends

Coro<void> echo_lines(StreamReader reader, StreamWriter writer) {
  for (;;) {
    std::string line = co_await reader.readline();
    if (line.empty()) break;
    writer.write(line);
    co_await writer.drain();
  }
  writer.close();
  co_await writer.wait_closed();
}

TEST(Streams, EchoServerAndClient) {
  auto main_ = []() -> Coro<> {
    Server server = co_await start_server(echo_lines, "127.0.0.1", 0);
    EXPECT_TRUE(server.is_serving());
    CO_ASSERT_TRUE(server.port() > 0);
    auto [reader, writer] = co_await open_connection("127.0.0.1", server.port());
    EXPECT_EQ(writer.peername().port(), server.port());
    writer.write("hello\n");
    std::vector<std::string> lines = {"a\n", "bb\n", "ccc\n"};
    writer.writelines(lines);
    co_await writer.drain();
    EXPECT_EQ(co_await wait_for(reader.readline(), kBound), "hello\n");
    EXPECT_EQ(co_await wait_for(reader.readexactly(2), kBound), "a\n");
    EXPECT_EQ(co_await wait_for(reader.readuntil("\nccc"), kBound), "bb\nccc");
    writer.write("tail without newline");
    writer.write_eof();
    EXPECT_EQ(co_await wait_for(reader.read(), kBound), "\ntail without newline");
    EXPECT_TRUE(reader.at_eof());
    writer.close();
    co_await writer.wait_closed();
    server.close();
    co_await wait_for(server.wait_closed(), kBound);
    EXPECT_FALSE(server.is_serving());
  };
  aio::run(main_());
}

TEST(Streams, OverAPipeWriteEofClosesAndTheReaderSeesEof) {
  auto main_ = []() -> Coro<> {
    int fds[2];
    CO_ASSERT_TRUE(::pipe2(fds, O_CLOEXEC) == 0);
    auto [reader, unused_writer] = open_stream(Socket::from_fd(fds[0]));
    auto [unused_reader, writer] = open_stream(Socket::from_fd(fds[1]));
    EXPECT_TRUE(writer.can_write_eof());
    const std::string big(300000, 'p');  // more than the pipe holds: buffered, then sent
    writer.write(big);
    writer.write("\nlast line\n");
    writer.write_eof();
    EXPECT_TRUE(writer.is_closing());
    EXPECT_EQ(co_await wait_for(reader.readexactly(big.size()), kBound), big);
    EXPECT_EQ(co_await wait_for(reader.readline(), kBound), "\n");
    EXPECT_EQ(co_await wait_for(reader.readline(), kBound), "last line\n");
    EXPECT_EQ(co_await wait_for(reader.read(), kBound), "");
    EXPECT_TRUE(reader.at_eof());
    co_await wait_for(writer.wait_closed(), kBound);
  };
  aio::run(main_());
}

TEST(Streams, WritingToAPipeWithoutAReaderRaisesBrokenPipeError) {
  auto main_ = []() -> Coro<> {
    int fds[2];
    CO_ASSERT_TRUE(::pipe2(fds, O_CLOEXEC) == 0);
    ::close(fds[0]);  // nobody reads: SIGPIPE is ignored, the write fails with EPIPE
    auto [unused_reader, writer] = open_stream(Socket::from_fd(fds[1]));
    writer.write("into the void");
    EXPECT_THROW(co_await writer.drain(), BrokenPipeError);
  };
  aio::run(main_());
}

TEST(Streams, ReadexactlyAndReaduntilAtEofCarryThePartialBytes) {
  auto main_ = []() -> Coro<> {
    StreamReader r;
    r.feed_data("abc");
    r.feed_eof();
    try {
      (void)co_await r.readexactly(5);
      ADD_FAILURE() << "no error";
    } catch (const IncompleteReadError& e) {
      EXPECT_EQ(e.partial, "abc");
      EXPECT_EQ(e.expected, 5);
      EXPECT_STREQ(e.what(), "3 bytes read on a total of 5 expected bytes");
    }
    StreamReader r2;
    r2.feed_data("no separator");
    r2.feed_eof();
    try {
      (void)co_await r2.readuntil("\r\n");
      ADD_FAILURE() << "no error";
    } catch (const IncompleteReadError& e) {
      EXPECT_EQ(e.partial, "no separator");
    }
    EXPECT_TRUE(r2.at_eof());
  };
  aio::run(main_());
}

TEST(Streams, TheLimitStopsAnOverlongLine) {
  auto main_ = []() -> Coro<> {
    StreamReader r(8);
    r.feed_data("0123456789abcdef\nnext\n");
    try {
      (void)co_await r.readuntil("\n");
      ADD_FAILURE() << "no error";
    } catch (const LimitOverrunError& e) {
      EXPECT_EQ(e.consumed, 16u);
    }
    // readline drops the overlong line and raises ValueError, as asyncio.
    EXPECT_THROW((void)co_await r.readline(), ValueError);
    EXPECT_EQ(co_await r.readline(), "next\n");
  };
  aio::run(main_());
}

TEST(Streams, ACancelledReadexactlyLosesNothing) {
  auto main_ = []() -> Coro<> {
    StreamReader r;
    r.feed_data("12");
    Task<std::string> t = create_task(r.readexactly(4));
    co_await sleep(0);
    co_await sleep(0);
    t.cancel();
    try {
      (void)co_await t;
      ADD_FAILURE() << "not cancelled";
    } catch (const CancelledError&) {
    }
    r.feed_data("34");
    EXPECT_EQ(co_await r.readexactly(4), "1234");
  };
  aio::run(main_());
}

TEST(Streams, ACancelledSocketReadLosesNothing) {
  auto main_ = []() -> Coro<> {
    Future<StreamWriter> server_writer = get_running_loop().create_future<StreamWriter>();
    auto handler = [server_writer](StreamReader, StreamWriter w) -> Coro<void> {
      server_writer.set_result(w);
      co_await sleep(kBound);
    };
    Server server = co_await start_server(handler, "127.0.0.1", 0);
    auto [reader, writer] = co_await open_connection("127.0.0.1", server.port());
    StreamWriter w = co_await server_writer;
    w.write("ab");
    co_await w.drain();
    try {
      (void)co_await wait_for(reader.readexactly(4), 0.2);
      ADD_FAILURE() << "no timeout";
    } catch (const TimeoutError&) {
    }
    w.write("cdef");
    EXPECT_EQ(co_await wait_for(reader.readexactly(6), kBound), "abcdef");
    server.close();
    server.abort_clients();
  };
  aio::run(main_());
}

// Every awaiting stream call can be cancelled and loses nothing: what arrived stays in
// the buffer for the next call, and the stream keeps working.
Coro<void> cancel_after_two_steps(Task<std::string> t) {
  co_await sleep(0);
  co_await sleep(0);
  EXPECT_FALSE(t.done());
  t.cancel();
  try {
    (void)co_await t;
    ADD_FAILURE() << "not cancelled";
  } catch (const CancelledError&) {
  }
}

TEST(Streams, CancelledReadlineReaduntilAndReadLoseNothing) {
  auto main_ = []() -> Coro<> {
    StreamReader r;
    r.feed_data("par");
    co_await cancel_after_two_steps(create_task(r.readline()));
    r.feed_data("tial\nab");
    co_await cancel_after_two_steps(create_task(r.readuntil("--")));
    r.feed_data("c--");
    EXPECT_EQ(co_await r.readline(), "partial\n");
    EXPECT_EQ(co_await r.readuntil("--"), "abc--");
    co_await cancel_after_two_steps(create_task(r.read(10)));
    r.feed_data("after");
    EXPECT_EQ(co_await r.read(10), "after");
    co_await cancel_after_two_steps(create_task(r.read()));
    r.feed_data("rest");
    r.feed_eof();
    EXPECT_EQ(co_await r.read(), "rest");
  };
  aio::run(main_());
}

TEST(Streams, CancelledSocketCallsLeaveTheSocketsUsable) {
  auto main_ = []() -> Coro<> {
    EventLoop& loop = get_running_loop();
    Socket listener(AF_INET, SOCK_STREAM);
    listener.bind(SockAddr("127.0.0.1", 0));
    listener.listen();
    // A cancelled accept: the next one takes the connection.
    Task<std::pair<Socket, SockAddr>> accept = create_task(loop.sock_accept(listener));
    co_await sleep(0);
    accept.cancel();
    EXPECT_THROW((void)co_await accept, CancelledError);
    Socket client(AF_INET, SOCK_STREAM);
    co_await loop.sock_connect(client, listener.getsockname());
    auto [conn, peer] = co_await wait_for(loop.sock_accept(listener), kBound);
    // A cancelled recv: the bytes sent afterwards reach the next one.
    Task<std::string> recv = create_task(loop.sock_recv(conn, 100));
    co_await sleep(0);
    recv.cancel();
    EXPECT_THROW((void)co_await recv, CancelledError);
    co_await loop.sock_sendall(client, "kept");
    EXPECT_EQ(co_await wait_for(loop.sock_recv(conn, 100), kBound), "kept");
  };
  aio::run(main_());
}

TEST(Streams, CancelledWaitClosedAndServerWaitClosed) {
  auto main_ = []() -> Coro<> {
    Server server = co_await start_server(echo_lines, "127.0.0.1", 0);
    auto [reader, writer] = co_await open_connection("127.0.0.1", server.port());
    // wait_closed before close: cancelled, then the real wait after close() ends.
    Task<void> w = create_task(writer.wait_closed());
    co_await sleep(0);
    w.cancel();
    EXPECT_THROW(co_await w, CancelledError);
    server.close();
    Task<void> sw = create_task(server.wait_closed());  // waits for the open connection
    co_await sleep(0);
    EXPECT_FALSE(sw.done());
    sw.cancel();
    EXPECT_THROW(co_await sw, CancelledError);
    writer.write("still echoed\n");
    EXPECT_EQ(co_await wait_for(reader.readline(), kBound), "still echoed\n");
    writer.close();
    co_await wait_for(writer.wait_closed(), kBound);
    co_await wait_for(server.wait_closed(), kBound);
  };
  aio::run(main_());
}

TEST(Streams, APeerThatNeverReadsBoundsTheWriter) {
  auto main_ = []() -> Coro<> {
    Event connected;
    auto handler = [&connected](StreamReader, StreamWriter) -> Coro<void> {
      connected.set();
      co_await sleep(kBound);  // never reads
    };
    Server server = co_await start_server(handler, "127.0.0.1", 0);
    auto [reader, writer] = co_await open_connection("127.0.0.1", server.port());
    co_await connected.wait();
    const std::string chunk(16384, 'z');
    std::size_t written = 0;
    bool blocked = false;
    while (written < (std::size_t{64} << 20)) {  // bounded: 64 MiB at most
      writer.write(chunk);
      written += chunk.size();
      try {
        co_await wait_for(writer.drain(), 0.3);
      } catch (const TimeoutError&) {
        blocked = true;
        break;
      }
    }
    EXPECT_TRUE(blocked) << "drain never waited after " << written << " bytes";
    // What the writer holds stays near the high-water mark (64 KiB) plus one write.
    EXPECT_LE(writer.get_write_buffer_size(), 64u * 1024 + chunk.size());
    writer.close();
    server.close();
    server.abort_clients();
  };
  aio::run(main_());
}

TEST(Streams, AHandlerThatThrowsIsReportedAndTheServerGoesOn) {
  auto main_ = []() -> Coro<> {
    std::vector<std::string> reported;
    get_running_loop().set_exception_handler([&](EventLoop&, const ExceptionContext& ctx) {
      reported.push_back(ctx.message);
    });
    int calls = 0;
    auto handler = [&calls](StreamReader reader, StreamWriter writer) -> Coro<void> {
      if (++calls == 1) throw std::runtime_error("handler failed");
      writer.write(co_await reader.readline());
      co_await writer.drain();
    };
    Server server = co_await start_server(handler, "127.0.0.1", 0);
    {
      auto [r1, w1] = co_await open_connection("127.0.0.1", server.port());
      EXPECT_EQ(co_await wait_for(r1.read(), kBound), "");  // the server closed it
    }
    auto [r2, w2] = co_await open_connection("127.0.0.1", server.port());
    w2.write("still serving\n");
    EXPECT_EQ(co_await wait_for(r2.readline(), kBound), "still serving\n");
    EXPECT_EQ(reported, std::vector<std::string>{"Unhandled exception in client_connected_cb"});
    server.close();
    co_await wait_for(server.wait_closed(), kBound);
  };
  aio::run(main_());
}

TEST(Streams, ResetByPeerMidReadRaisesConnectionResetError) {
  auto main_ = []() -> Coro<> {
    EventLoop& loop = get_running_loop();
    Socket listener(AF_INET, SOCK_STREAM);
    listener.bind(SockAddr("127.0.0.1", 0));
    listener.listen();
    auto [reader, writer] = co_await open_connection("127.0.0.1", listener.getsockname().port());
    auto [conn, peer] = co_await loop.sock_accept(listener);
    co_await loop.sock_sendall(conn, "partial");
    // Close with SO_LINGER 0: the kernel sends RST.
    linger lg{1, 0};
    ::setsockopt(conn.fileno(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    conn.close();
    try {
      (void)co_await wait_for(reader.readexactly(100), kBound);
      ADD_FAILURE() << "no error";
    } catch (const ConnectionResetError& e) {
      EXPECT_EQ(e.code().value(), ECONNRESET);
    } catch (const IncompleteReadError& e) {
      ADD_FAILURE() << "EOF instead of a reset, partial " << e.partial;
    }
  };
  aio::run(main_());
}

TEST(Streams, UnixSocketsWithAPythonPeer) {
  auto main_ = []() -> Coro<> {
    char dir[] = "/tmp/aio_unix_XXXXXX";
    CO_ASSERT_TRUE(::mkdtemp(dir) != nullptr);
    const std::string path = std::string(dir) + "/s.sock";
    Server server = co_await start_unix_server(echo_lines, path);
    // python3 connects, sends two lines, prints what comes back.
    const std::string cmd = "/usr/bin/python3 -c \"import socket; s = socket.socket(socket.AF_UNIX); s.connect('" +
                            path + "'); s.sendall(b'one\\ntwo\\n'); s.shutdown(socket.SHUT_WR); " +
                            "print(b''.join(iter(lambda: s.recv(100), b'')).decode(), end='')\"";
    auto run_peer = [cmd] {  // named: g++ 12 mishandles a capturing temporary in co_await
      std::string text;
      if (FILE* p = ::popen(cmd.c_str(), "r")) {
        char buf[256];
        while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) text.append(buf, n);
        ::pclose(p);
      }
      return text;
    };
    std::string out = co_await to_thread(std::move(run_peer));
    EXPECT_EQ(out, "one\ntwo\n");
    auto [reader, writer] = co_await open_unix_connection(path);
    writer.write("three\n");
    EXPECT_EQ(co_await wait_for(reader.readline(), kBound), "three\n");
    writer.close();
    server.close();
    co_await wait_for(server.wait_closed(), kBound);
    EXPECT_NE(::access(path.c_str(), F_OK), 0);  // the socket file is gone
    ::rmdir(dir);
  };
  aio::run(main_());
}

TEST(Streams, OpenConnectionToANameTriesItsAddresses) {
  auto main_ = []() -> Coro<> {
    // Listening on IPv4 only: "localhost" may resolve to ::1 first, which is refused.
    Server server = co_await start_server(echo_lines, "127.0.0.1", 0);
    auto [reader, writer] = co_await open_connection("localhost", server.port());
    writer.write("via a name\n");
    EXPECT_EQ(co_await wait_for(reader.readline(), kBound), "via a name\n");
    writer.close();
    server.close();
    co_await wait_for(server.wait_closed(), kBound);
  };
  aio::run(main_());
}

TEST(Streams, OutOfDescriptorsOnAcceptTheServerWaitsAndGoesOn) {
  auto main_ = []() -> Coro<> {
    std::vector<std::string> reported;
    get_running_loop().set_exception_handler([&](EventLoop&, const ExceptionContext& ctx) {
      reported.push_back(ctx.message);
    });
    Server server = co_await start_server(echo_lines, "127.0.0.1", 0);
    co_await sleep(0.01);  // every step below once, before descriptors run out
    // Make the client socket first, then use up every descriptor, then connect.
    Socket client(AF_INET, SOCK_STREAM);
    std::vector<int> hogs;
    for (;;) {
      const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd < 0) break;
      hogs.push_back(fd);
      if (hogs.size() > 100000) break;  // bounded
    }
    co_await get_running_loop().sock_connect(client, SockAddr("127.0.0.1", server.port()));
    co_await sleep(0.2);  // the acceptor hits EMFILE and backs off (it does not spin)
    for (int fd : hogs) ::close(fd);
    auto [reader, writer] = open_stream(std::move(client));
    writer.write("after EMFILE\n");
    EXPECT_EQ(co_await wait_for(reader.readline(), kBound), "after EMFILE\n");
    CO_ASSERT_TRUE(!reported.empty());
    EXPECT_EQ(reported.front(), "socket.accept() out of system resource");
    EXPECT_LE(reported.size(), 2u);  // one report per second of backing off
    writer.close();
    server.close();
    co_await wait_for(server.wait_closed(), kBound);
  };
  // Few descriptors, so that using them up is quick (the soft limit, put back after).
  rlimit old{};
  ::getrlimit(RLIMIT_NOFILE, &old);
  rlimit lim{256, old.rlim_max};
  ::setrlimit(RLIMIT_NOFILE, &lim);
  aio::run(main_());
  ::setrlimit(RLIMIT_NOFILE, &old);
}

}  // namespace
}  // namespace aio
