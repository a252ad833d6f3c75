// Sockets, name resolution and streams over real sockets on 127.0.0.1, with aio on
// both ends and with python3 as the peer. These run on the real clock (the virtual
// one would jump past a peer that is still sending); timeouts only bound a hang.
#include <fcntl.h>
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "aio/detail/byte_buffer.hpp"
#include "support/aio_test.hpp"
#include "support/peer_process.hpp"
#include "support/python_peer.hpp"

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

TEST(Streams, BufferedConsumeAndFillGiveParsersTheBufferInPlace) {
  auto main_ = []() -> Coro<> {
    Server server = co_await start_server(echo_lines, "127.0.0.1", 0);
    auto [reader, writer] = co_await open_connection("127.0.0.1", server.port());
    EXPECT_EQ(reader.buffered(), "");
    writer.write("GET / HTTP/1.1\r\n");
    co_await writer.drain();
    // Fill until the whole line is there, looking at the buffer in place.
    while (reader.buffered().find("\r\n") == std::string_view::npos) {
      CO_ASSERT_TRUE(co_await wait_for(reader.fill(), kBound));
    }
    EXPECT_EQ(reader.buffered(), "GET / HTTP/1.1\r\n");
    reader.consume(4);
    EXPECT_EQ(reader.buffered(), "/ HTTP/1.1\r\n");
    EXPECT_EQ(co_await wait_for(reader.readline(), kBound), "/ HTTP/1.1\r\n");
    reader.consume(100);  // more than is buffered: drops what there is
    EXPECT_EQ(reader.buffered(), "");
    writer.write_eof();
    EXPECT_FALSE(co_await wait_for(reader.fill(), kBound));  // EOF: the server closed
    EXPECT_TRUE(reader.at_eof());
    writer.close();
    co_await writer.wait_closed();
    server.close();
    co_await wait_for(server.wait_closed(), kBound);

    StreamReader fed;  // hand-fed, as asyncio.StreamReader()
    auto feeder = [](StreamReader r) -> Coro<> {
      r.feed_data("ab");
      co_await sleep(0);
      r.feed_eof();
    };
    auto task = create_task(feeder(fed));
    EXPECT_TRUE(co_await fed.fill());
    EXPECT_EQ(fed.buffered(), "ab");
    EXPECT_FALSE(co_await fed.fill());
    EXPECT_EQ(fed.buffered(), "ab");
    co_await task;
  };
  aio::run(main_());
}

// A connection that has read everything it was sent holds no read buffer: its 64 KiB
// block goes back to the thread's cache (a few blocks) and the allocator. 200 idle
// connections once held 200 blocks (12.5 MiB); now the growth is their sockets'
// bookkeeping. (Under the sanitizers mallinfo2 does not see their allocator; the
// ByteBuffer tests cover that build.)
TEST(Streams, IdleConnectionsHoldNoReadBuffer) {
  auto main_ = []() -> Coro<> {
    constexpr int kConns = 200;
    int served = 0;
    Event all_read;
    Event stop;
    auto handler = [&](StreamReader r, StreamWriter w) -> Coro<> {
      EXPECT_EQ(co_await r.read(100), "ping");
      if (++served == kConns) all_read.set();
      co_await stop.wait();
      w.close();
    };
    Server server = co_await start_server(handler, "127.0.0.1", 0);
    std::vector<StreamWriter> clients;
    const std::size_t before = mallinfo2().uordblks;
    for (int i = 0; i < kConns; ++i) {
      auto [r, w] = co_await open_connection("127.0.0.1", server.port());
      w.write("ping");
      clients.push_back(w);
    }
    co_await wait_for(all_read.wait(), kBound);
    const std::size_t after = mallinfo2().uordblks;
    const std::size_t grown = after > before ? after - before : 0;
    EXPECT_LT(grown, kConns * 16 * 1024u) << "bytes held by " << kConns << " idle connections";
    EXPECT_LE(detail::cached_read_blocks(), detail::ReadBlockCache::kKeep);
    stop.set();
    for (StreamWriter& w : clients) w.close();
    server.close();
    co_await wait_for(server.wait_closed(), kBound);
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

TEST(Streams, OpenConnectionBindsLocalAddr) {
  auto main_ = []() -> Coro<> {
    Server server = co_await start_server(echo_lines, "127.0.0.1", 0);
    // Options made in the co_await expression (they own nothing: safe under g++ 12).
    auto [reader, writer] = co_await open_connection("127.0.0.1", server.port(), {.local_addr = {{"127.0.0.2", 0}}});
    EXPECT_EQ(writer.sockname().host(), "127.0.0.2");
    writer.write("from 127.0.0.2\n");
    EXPECT_EQ(co_await wait_for(reader.readline(), kBound), "from 127.0.0.2\n");
    writer.close();
    server.close();
    co_await wait_for(server.wait_closed(), kBound);
  };
  aio::run(main_());
}

TEST(Streams, DrainIsReadyAtOnceWithLittleBufferedAndRunsAsATask) {
  auto main_ = []() -> Coro<> {
    Server server = co_await start_server(echo_lines, "127.0.0.1", 0);
    auto [reader, writer] = co_await open_connection("127.0.0.1", server.port());
    writer.write("one\n");
    StreamWriter::Drain d = writer.drain();
    EXPECT_TRUE(d.await_ready());  // under the high-water mark: no waiting, no frame
    co_await std::move(d);  // (g++ 12 would copy an lvalue awaiter)
    writer.write("two\n");
    Task<void> t = create_task(writer.drain());  // an awaitable, as sleep() is
    co_await wait_for(t, kBound);
    EXPECT_EQ(co_await wait_for(reader.readline(), kBound), "one\n");
    EXPECT_EQ(co_await wait_for(reader.readline(), kBound), "two\n");
    writer.close();
    server.close();
    co_await wait_for(server.wait_closed(), kBound);
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

// readline() at and over the limit, and at EOF, line for line as asyncio's
// StreamReader(limit=8) fed the same bytes (python3 runs the same story).
TEST(Streams, ReadlineAtTheLimitAndAtEofAsAsyncio) {
  const std::vector<std::string> feeds{"0123456789abcdef\nnext\n01234567\n", "0123456789", "tail\nab", "cdefghij\nk"};
  const std::vector<int> reads{3, 1, 1, 1};  // readline() calls after each feed; then EOF and two more
  std::vector<std::string> ours, theirs;
  auto main_ = [&]() -> Coro<> {
    StreamReader r(8);
    auto line = [&]() -> Coro<> {
      try {
        const std::string got = co_await r.readline();
        ours.push_back("'" + got + "'");
      } catch (const ValueError& e) {
        ours.push_back(std::string("ValueError ") + e.what());
      }
    };
    for (std::size_t i = 0; i < feeds.size(); ++i) {
      r.feed_data(feeds[i]);
      for (int k = 0; k < reads[i]; ++k) co_await line();
    }
    r.feed_eof();
    co_await line();
    co_await line();
    test::PeerRun run = co_await test::run_python(R"(
import asyncio
async def main():
    r = asyncio.StreamReader(limit=8)
    async def line():
        try:
            print("'" + (await r.readline()).decode() + "'", end="\0")
        except ValueError as e:
            print("ValueError", e, end="\0")
    for data, n in [(b"0123456789abcdef\nnext\n01234567\n", 3), (b"0123456789", 1), (b"tail\nab", 1), (b"cdefghij\nk", 1)]:
        r.feed_data(data)
        for _ in range(n):
            await line()
    r.feed_eof()
    await line()
    await line()
asyncio.run(main())
)");
    EXPECT_EQ(run.status, 0) << run.err;
    for (std::size_t at = 0; at < run.out.size();) {
      const std::size_t end = run.out.find('\0', at);
      theirs.push_back(run.out.substr(at, end - at));
      at = end + 1;
    }
  };
  aio::run(main_());
  EXPECT_EQ(ours, theirs);
  EXPECT_EQ(ours, (std::vector<std::string>{"ValueError Separator is found, but chunk is longer than limit", "'next\n'",
                                            "'01234567\n'", "ValueError Separator is not found, and chunk exceed the limit",
                                            "'tail\n'", "ValueError Separator is found, but chunk is longer than limit",
                                            "'k'", "''"}));
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

// `async with server:` (asyncio's Server.__aenter__/__aexit__): the body gets the
// server; leaving it, normally or by an exception, closes the server and waits for
// wait_closed(), which waits for the connections still open.
TEST(Streams, AsyncWithServerClosesItAndWaitsForItsConnections) {
  auto main_ = []() -> Coro<> {
    Server server = co_await start_server(echo_lines, "127.0.0.1", 0);
    EXPECT_EQ(&server.get_loop(), &get_running_loop());
    const int port = server.port();
    std::vector<std::string> log;
    Task<void> client;  // its connection stays open after the body
    co_await async_with(server, [&](Server& s) -> Coro<> {
      EXPECT_TRUE(s.is_serving());
      auto [reader, writer] = co_await open_connection("127.0.0.1", s.port());
      writer.write("inside\n");
      log.push_back(co_await wait_for(reader.readline(), kBound));
      client = create_task([](StreamReader r, StreamWriter w, std::vector<std::string>& out) -> Coro<> {
        for (int i = 0; i < 3; ++i) co_await sleep(0);  // the exit is waiting for this connection by now
        out.push_back("client closes");
        w.close();
        co_await w.wait_closed();
        (void)r;
      }(reader, writer, log));
    });
    log.push_back("exited");
    EXPECT_TRUE(client.done());  // the exit waited for the connection to go
    EXPECT_EQ(log, (std::vector<std::string>{"inside\n", "client closes", "exited"}));
    EXPECT_FALSE(server.is_serving());
    EXPECT_THROW(co_await open_connection("127.0.0.1", port), ConnectionRefusedError);

    // An exception leaving the body closes the server too, and goes on.
    Server second = co_await start_server(echo_lines, "127.0.0.1", 0);
    try {
      co_await async_with(second, [](Server&) -> Coro<> {
        throw ValueError("from the body");
        co_return;
      });
      ADD_FAILURE() << "the body's exception was lost";
    } catch (const ValueError& e) {
      EXPECT_STREQ(e.what(), "from the body");
    }
    EXPECT_FALSE(second.is_serving());
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

TEST(Streams, ClosingWithUnreadInputStillDeliversWhatWeWrote) {
  // The handler answers without reading what the client sent (as an HTTP server
  // refusing a body does). A close with unread bytes in the kernel would send a reset,
  // and the reset would throw away the answer the client has not read yet.
  auto main_ = []() -> Coro<> {
    Event sent;
    const std::string answer(4 << 20, 'a');  // more than the socket buffers hold
    auto handler = [&sent, &answer](StreamReader, StreamWriter writer) -> Coro<void> {
      co_await sent.wait();
      writer.write(answer);
      writer.close();
      co_await writer.wait_closed();
    };
    Server server = co_await start_server(handler, "127.0.0.1", 0);
    auto [reader, writer] = co_await open_connection("127.0.0.1", server.port());
    writer.write(std::string(32 * 1024, 'q'));  // never read by the server
    co_await writer.drain();
    sent.set();
    std::string got;
    try {
      got = co_await wait_for(reader.read(), kBound);
    } catch (const ConnectionResetError& e) {
      ADD_FAILURE() << "reset after " << got.size() << " bytes: " << e.what();
    }
    EXPECT_EQ(got.size(), answer.size());
    EXPECT_TRUE(reader.at_eof());
    writer.close();
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

TEST(Streams, AMissingUnixSocketPathIsFileNotFoundError) {
  auto main_ = []() -> Coro<> {
    try {
      (void)co_await open_unix_connection("/tmp/aio-no-such-dir/no.sock");
      ADD_FAILURE() << "connected";
    } catch (const FileNotFoundError& e) {  // as Python: the OSError subclass for ENOENT
      EXPECT_EQ(e.code().value(), ENOENT);
      EXPECT_NE(std::string(e.what()).find("/tmp/aio-no-such-dir/no.sock"), std::string::npos) << e.what();
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

// asyncio's start_server(sock=): a bound socket of ours, TCP or Unix, made to listen
// by the server; anything but a stream socket is a ValueError.
TEST(Streams, StartServerOnBoundSocketsOfOurOwn) {
  auto main_ = []() -> Coro<> {
    Socket tcp(AF_INET, SOCK_STREAM);
    tcp.bind(SockAddr("127.0.0.1", 0));
    const int port = tcp.getsockname().port();
    Server server = co_await start_server(echo_lines, std::move(tcp), {.backlog = 5});
    EXPECT_EQ(server.port(), port);
    EXPECT_TRUE(server.is_serving());
    auto [reader, writer] = co_await open_connection("127.0.0.1", port);
    writer.write("over our socket\n");
    EXPECT_EQ(co_await wait_for(reader.readline(), kBound), "over our socket\n");
    writer.close();
    server.close();
    co_await wait_for(server.wait_closed(), kBound);

    char dir[] = "/tmp/aio_unix_XXXXXX";
    CO_ASSERT_TRUE(::mkdtemp(dir) != nullptr);
    const std::string path = std::string(dir) + "/s.sock";
    Socket unix_sock(AF_UNIX, SOCK_STREAM);
    unix_sock.bind(SockAddr::unix_path(path));
    Server unix_server = co_await start_server(echo_lines, std::move(unix_sock));
    auto [r2, w2] = co_await open_unix_connection(path);
    w2.write("over a Unix socket of ours\n");
    EXPECT_EQ(co_await wait_for(r2.readline(), kBound), "over a Unix socket of ours\n");
    w2.close();
    unix_server.close();
    co_await wait_for(unix_server.wait_closed(), kBound);
    ::unlink(path.c_str());  // the caller's socket file, as asyncio leaves it for sock=
    ::rmdir(dir);

    try {
      (void)start_server(echo_lines, Socket(AF_INET, SOCK_DGRAM));
      ADD_FAILURE() << "no ValueError";
    } catch (const ValueError& e) {
      EXPECT_NE(std::string(e.what()).find("A Stream Socket was expected"), std::string::npos) << e.what();
    }
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

// --- streams against real peers: socat as the echo peer, python3 for the rest

// socat echoing one connection on 127.0.0.1: it picks a free port (TCP-LISTEN:0) and
// says which on stderr ("listening on AF=2 127.0.0.1:PORT", with -d -d). `-t 30`: after
// our EOF it still passes on what cat echoes, up to 30 s.
struct SocatEcho {
  test::PeerProcess process{{"socat", "-d", "-d", "-t", "30", "TCP-LISTEN:0,bind=127.0.0.1,reuseaddr", "EXEC:cat"},
                            true};
  int port = 0;
  SocatEcho() {
    for (int i = 0; i < 20 && port == 0; ++i) {
      const std::string line = process.read_line();
      if (const auto at = line.find("listening on AF=2 127.0.0.1:"); at != std::string::npos) {
        port = std::stoi(line.substr(at + 28));
      }
    }
    if (port == 0) throw std::runtime_error("socat did not say where it listens");
  }
};

// python3 listening on 127.0.0.1 (its port on the first line of stdout), then running
// `body` with the accepted connection `c`.
std::unique_ptr<test::PeerProcess> python_peer(const std::string& body, int* port) {
  const std::string script =
      "import socket, sys, time\n"
      "l = socket.socket()\n"
      "l.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)\n"
      "l.bind(('127.0.0.1', 0))\n"
      "l.listen(1)\n"
      "print(l.getsockname()[1], flush=True)\n"
      "c, _ = l.accept()\n" +
      body;
  auto p = std::make_unique<test::PeerProcess>(std::vector<std::string>{"python3", "-c", script});
  *port = std::stoi(p->read_line());
  return p;
}

// A slow reader: 4 KiB at a time with a pause, until EOF; then prints the byte count
// and the sum of the bytes mod 2**32.
const char* const kSlowSink =
    "n = 0\n"
    "total = 0\n"
    "while True:\n"
    "    d = c.recv(4096)\n"
    "    if not d:\n"
    "        break\n"
    "    n += len(d)\n"
    "    total = (total + sum(d)) % 2**32\n"
    "    time.sleep(0.0005)\n"
    "print(n, total, flush=True)\n";

// Loopback's kernel buffers grow to megabytes: keep ours small, so that what the peer
// has not read yet stays in the writer's buffer, where drain sees it.
void small_send_buffer(const StreamWriter& writer) {
  const int size = 4096;
  ::setsockopt(writer.fileno(), SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
}

std::string pattern(std::size_t n, std::size_t seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 7 + seed) % 251);
  return s;
}

std::uint32_t byte_sum(const std::string& s, std::uint32_t acc = 0) {
  for (unsigned char c : s) acc += c;
  return acc;
}

TEST(StreamsWithSocat, EchoesAFewMiBWithDrain) {
  auto main_ = []() -> Coro<> {
    SocatEcho socat;
    auto [reader, writer] = co_await open_connection("127.0.0.1", socat.port);
    const std::size_t total = 4u << 20;
    const std::string data = pattern(total, 3);
    auto receive = [](StreamReader r, std::size_t n) -> Coro<std::string> { co_return co_await r.readexactly(n); };
    Task<std::string> echoed = create_task(receive(reader, total));
    for (std::size_t off = 0; off < total; off += 65536) {
      writer.write(std::string_view(data).substr(off, 65536));
      co_await wait_for(writer.drain(), kBound);
      EXPECT_LE(writer.get_write_buffer_size(), 64u * 1024);
    }
    std::string got = co_await wait_for(echoed, kBound);
    EXPECT_EQ(got.size(), total);
    EXPECT_TRUE(got == data) << "the echo differs";
    writer.write_eof();
    EXPECT_EQ(co_await wait_for(reader.read(), kBound), "");  // socat closes after cat's EOF
    EXPECT_TRUE(reader.at_eof());
    writer.close();
    co_await wait_for(writer.wait_closed(), kBound);
  };
  aio::run(main_());
}

TEST(StreamsWithSocat, HalfCloseThenEverythingEchoedUntilEof) {
  auto main_ = []() -> Coro<> {
    SocatEcho socat;
    auto [reader, writer] = co_await open_connection("127.0.0.1", socat.port);
    // More than the kernel buffers hold while nobody reads: write() keeps the rest, and
    // write_eof() waits for it to go out.
    const std::string data = pattern(3u << 20, 11);
    writer.write(data);
    writer.write_eof();
    EXPECT_TRUE(writer.can_write_eof());
    std::string got = co_await wait_for(reader.read(), kBound);
    EXPECT_EQ(got.size(), data.size());
    EXPECT_TRUE(got == data) << "the echo differs";
    EXPECT_TRUE(reader.at_eof());
    EXPECT_EQ(writer.get_write_buffer_size(), 0u);
  };
  aio::run(main_());
}

TEST(StreamsWithPython, ResetByPeerMidReadRaisesConnectionResetError) {
  auto main_ = []() -> Coro<> {
    int port = 0;
    // Once we are connected (our "go" came), sends a little, then closes with
    // SO_LINGER 0: the kernel sends RST. (A reset before sock_connect saw the
    // connection would fail the connect, as in asyncio.)
    auto peer = python_peer(
        "import struct\n"
        "c.recv(2)\n"
        "c.sendall(b'partial')\n"
        "c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))\n"
        "c.close()\n"
        "time.sleep(30)\n",
        &port);
    auto [reader, writer] = co_await open_connection("127.0.0.1", port);
    writer.write("go");
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

TEST(StreamsWithPython, ASlowReaderKeepsTheWriterBufferBounded) {
  auto main_ = []() -> Coro<> {
    int port = 0;
    auto peer = python_peer(kSlowSink, &port);
    auto [reader, writer] = co_await open_connection("127.0.0.1", port);
    small_send_buffer(writer);
    const std::size_t chunk = 16384;
    const std::size_t high = 64 * 1024;
    std::uint32_t sum = 0;
    std::size_t written = 0;
    std::size_t waited = 0;  // drains that had to wait
    std::size_t most = 0;
    for (std::size_t i = 0; i < 96; ++i) {  // 1.5 MiB
      const std::string data = pattern(chunk, i);
      writer.write(data);
      written += data.size();
      sum = byte_sum(data, sum);
      most = std::max(most, writer.get_write_buffer_size());
      if (writer.get_write_buffer_size() > high) ++waited;
      co_await wait_for(writer.drain(), kBound);
      EXPECT_LE(writer.get_write_buffer_size(), high);  // drain returned at or below the mark
    }
    EXPECT_GT(waited, 0u) << "drain never had to wait: the reader was not slow";
    EXPECT_LE(most, high + chunk);  // the high-water mark plus one write
    writer.write_eof();
    auto report = [&peer] { return peer->read_line(); };
    const std::string line = co_await to_thread(report);
    EXPECT_EQ(line, std::to_string(written) + " " + std::to_string(sum));
    writer.close();
  };
  aio::run(main_());
}

TEST(StreamsWithPython, APeerThatClosesWhileWeWriteGivesAConnectionErrorFromDrain) {
  auto main_ = []() -> Coro<> {
    int port = 0;
    // Reads a few bytes and closes with data unread: the kernel answers with RST.
    auto peer = python_peer("c.recv(10)\nc.close()\ntime.sleep(30)\n", &port);
    auto [reader, writer] = co_await open_connection("127.0.0.1", port);
    const std::string chunk(65536, 'w');
    int err = 0;
    bool connection_error = false;
    std::string what;
    for (std::size_t written = 0; written < (std::size_t{256} << 20) && err == 0; written += chunk.size()) {
      writer.write(chunk);
      try {
        co_await wait_for(writer.drain(), kBound);
      } catch (const OSError& e) {
        err = e.code().value();
        what = e.what();
        connection_error = dynamic_cast<const BrokenPipeError*>(&e) != nullptr ||
                           dynamic_cast<const ConnectionResetError*>(&e) != nullptr;
      }
    }
    EXPECT_TRUE(err == EPIPE || err == ECONNRESET) << what;
    EXPECT_TRUE(connection_error) << "not BrokenPipeError/ConnectionResetError: " << what;
    // Writing on is harmless (asyncio drops it), and drain keeps reporting the error.
    writer.write("more");
    EXPECT_THROW(co_await writer.drain(), ConnectionError);
    writer.close();
    co_await wait_for(writer.wait_closed(), kBound);
  };
  aio::run(main_());
}

TEST(StreamsWithPython, ACancelledDrainLosesNoByteWritten) {
  auto main_ = []() -> Coro<> {
    int port = 0;
    auto peer = python_peer(kSlowSink, &port);
    auto [reader, writer] = co_await open_connection("127.0.0.1", port);
    small_send_buffer(writer);
    std::uint32_t sum = 0;
    std::size_t written = 0;
    int cancelled = 0;
    for (std::size_t i = 0; i < 48; ++i) {
      const std::string data = pattern(32768, i + 100);
      writer.write(data);
      written += data.size();
      sum = byte_sum(data, sum);
      try {
        co_await wait_for(writer.drain(), 0.001);  // cancelled while it waits
      } catch (const TimeoutError&) {
        ++cancelled;
      }
    }
    EXPECT_GT(cancelled, 0);
    writer.write_eof();  // after everything buffered
    auto report = [&peer] { return peer->read_line(); };
    const std::string line = co_await to_thread(report);
    EXPECT_EQ(line, std::to_string(written) + " " + std::to_string(sum));
    writer.close();
  };
  aio::run(main_());
}

TEST(StreamsErrors, ConnectionRefusedNamesTheAddress) {
  auto main_ = []() -> Coro<> {
    int port;
    {
      Socket s(AF_INET, SOCK_STREAM);
      s.bind(SockAddr("127.0.0.1", 0));
      port = s.getsockname().port();
    }
    try {
      (void)co_await open_connection("127.0.0.1", port);
      ADD_FAILURE() << "connected";
    } catch (const ConnectionRefusedError& e) {
      EXPECT_EQ(e.code().value(), ECONNREFUSED);
      EXPECT_NE(std::string(e.what()).find("('127.0.0.1', " + std::to_string(port) + ")"), std::string::npos)
          << e.what();
    }
  };
  aio::run(main_());
}

TEST(StreamsErrors, ANameThatDoesNotResolveRaisesGaierrorNamingHostAndPort) {
  auto main_ = []() -> Coro<> {
    try {
      (void)co_await open_connection("no-such-host.invalid", 4321);
      ADD_FAILURE() << "connected";
    } catch (const gaierror& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("no-such-host.invalid"), std::string::npos) << what;
      EXPECT_NE(what.find("4321"), std::string::npos) << what;
      EXPECT_NE(e.eai(), 0);
    }
  };
  aio::run(main_());
}

}  // namespace
}  // namespace aio
