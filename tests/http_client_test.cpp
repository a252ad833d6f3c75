// ClientSession against local servers written with aio's streams in the test: each
// framing, faults (a close mid-body, before the head, a trickle), timeouts at each
// phase on the virtual clock, keep-alive reuse, pool limits, cancellation, redirects,
// cookies, compression, errors. Everything on 127.0.0.1.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aio/http.hpp"
#include "aio/http/compression.hpp"
#include "support/aio_test.hpp"

namespace aio {
namespace {

using namespace aio::http;
constexpr double kBound = 20;  // seconds: only a hung test reaches it

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// --- a scripted server

struct Req {
  std::string method, target, head, body;
  std::string header(const std::string& name) const {
    std::string h = head;
    std::string lname = name;
    for (auto& c : h) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (auto& c : lname) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto at = h.find("\r\n" + lname + ":");
    if (at == std::string::npos) return "";
    auto start = at + 3 + lname.size();
    auto end = h.find("\r\n", start);
    std::string v = head.substr(start, end - start);
    while (!v.empty() && v.front() == ' ') v.erase(v.begin());
    return v;
  }
};

// Reads one request (head and body: Content-Length or chunked); nullopt at EOF.
// With `w`, an `Expect: 100-continue` gets its 100 Continue.
Coro<std::optional<Req>> read_request(StreamReader& r, StreamWriter* w = nullptr) {
  Req q;
  try {
    q.head = co_await r.readuntil("\r\n\r\n");
  } catch (const IncompleteReadError&) {
    co_return std::nullopt;
  }
  if (w && q.header("Expect") == "100-continue") {
    w->write("HTTP/1.1 100 Continue\r\n\r\n");
    co_await w->drain();
  }
  auto sp1 = q.head.find(' ');
  auto sp2 = q.head.find(' ', sp1 + 1);
  q.method = q.head.substr(0, sp1);
  q.target = q.head.substr(sp1 + 1, sp2 - sp1 - 1);
  if (std::string cl = q.header("Content-Length"); !cl.empty()) {
    q.body = co_await r.readexactly(std::stoul(cl));
  } else if (q.header("Transfer-Encoding") == "chunked") {
    for (;;) {
      std::string line = co_await r.readuntil("\r\n");
      std::size_t n = std::stoul(line, nullptr, 16);
      if (n == 0) {
        (void)co_await r.readuntil("\r\n");
        break;
      }
      q.body += co_await r.readexactly(n);
      (void)co_await r.readexactly(2);
    }
  }
  co_return q;
}

std::string response(int status, const std::string& body, const std::string& extra = "",
                     const std::string& reason = "") {
  static const std::map<int, std::string> reasons = {
      {200, "OK"}, {301, "Moved Permanently"}, {302, "Found"}, {303, "See Other"}, {307, "Temporary Redirect"},
      {308, "Permanent Redirect"}, {404, "Not Found"}, {500, "Internal Server Error"}};
  std::string r = "HTTP/1.1 " + std::to_string(status) + " " + (reason.empty() ? reasons.at(status) : reason) + "\r\n";
  r += "Content-Length: " + std::to_string(body.size()) + "\r\n" + extra + "\r\n" + body;
  return r;
}

struct Stats {
  int accepts = 0;
  int in_flight = 0, max_in_flight = 0;
  int requests = 0;
};

// A keep-alive server: `route` answers each request with raw bytes (or closes the
// connection when it returns "").
struct TestServer {
  std::shared_ptr<Stats> stats = std::make_shared<Stats>();
  Server server{nullptr};
  int port = 0;
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port) + path; }
};

using Route = std::function<Coro<std::string>(const Req&)>;

Coro<TestServer> serve(Route route) {
  TestServer ts;
  auto stats = ts.stats;
  Server::Handler handler = [stats, route](StreamReader r, StreamWriter w) -> Coro<void> {
    ++stats->accepts;
    for (;;) {
      std::optional<Req> q = co_await read_request(r, &w);
      if (!q) break;
      ++stats->requests;
      stats->max_in_flight = std::max(stats->max_in_flight, ++stats->in_flight);
      std::string out = co_await route(*q);
      --stats->in_flight;
      if (out.empty()) break;
      if (q->method == "HEAD") out.resize(out.find("\r\n\r\n") + 4);  // the head alone
      w.write(out);
      co_await w.drain();
    }
    w.close();
  };
  ts.server = co_await start_server(handler, "127.0.0.1", 0);
  ts.port = ts.server.port();
  co_return ts;
}

// A server whose connection handler is given whole (for faults).
Coro<TestServer> serve_raw(std::function<Coro<void>(StreamReader, StreamWriter)> h) {
  TestServer ts;
  auto stats = ts.stats;
  Server::Handler handler = [stats, h](StreamReader r, StreamWriter w) -> Coro<void> {
    ++stats->accepts;
    co_await h(r, w);
  };
  ts.server = co_await start_server(handler, "127.0.0.1", 0);
  ts.port = ts.server.port();
  co_return ts;
}

int free_port() {
  Socket s(AF_INET, SOCK_STREAM);
  s.bind(SockAddr("127.0.0.1", 0));
  return s.getsockname().port();
}

// --- framing

TEST(HttpClient, BasicAuthEncodesLoginAndPasswordInBase64WithItsPadding) {
  EXPECT_EQ((BasicAuth{"", ""}.encode()), "Basic Og==");
  EXPECT_EQ((BasicAuth{"a", ""}.encode()), "Basic YTo=");
  EXPECT_EQ((BasicAuth{"a", "b"}.encode()), "Basic YTpi");
  EXPECT_EQ((BasicAuth{"ab", "c"}.encode()), "Basic YWI6Yw==");
  EXPECT_EQ((BasicAuth{"Aladdin", "open sesame"}.encode()), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");  // RFC 7617
}

TEST(HttpClient, GetWithContentLength) {
  auto main_ = []() -> Coro<> {
    Route route = [](const Req& q) -> Coro<std::string> {
      co_return response(200, "hello " + q.target + " " + q.header("Accept-Encoding"),
                         "Content-Type: text/plain; charset=utf-8\r\nX-Multi: 1\r\nX-Multi: 2\r\n");
    };
    TestServer ts = co_await serve(route);
    ClientSession session;
    // Lists of pairs are named first: g++ 12 cannot build a braced list inside co_await.
    const MultiDict params{{"c", "x y"}};
    ClientResponse resp = co_await wait_for(session.get(ts.url("/a?b=1"), {.params = params}), kBound);
    EXPECT_EQ(resp.status(), 200);
    EXPECT_EQ(resp.reason(), "OK");
    EXPECT_TRUE(resp.ok());
    EXPECT_EQ(resp.version(), std::make_pair(1, 1));
    EXPECT_EQ(resp.content_type(), "text/plain");
    EXPECT_EQ(resp.charset(), "utf-8");
    EXPECT_EQ(resp.headers().getall("x-multi").size(), 2u);
    EXPECT_EQ(resp.url().str(), ts.url("/a?b=1&c=x+y"));
    EXPECT_EQ(resp.method(), "GET");
    EXPECT_EQ(co_await resp.text(), "hello /a?b=1&c=x+y gzip, deflate");
    EXPECT_EQ(co_await resp.read(), "hello /a?b=1&c=x+y gzip, deflate");  // kept
    co_await session.close();
  };
  aio::run(main_());
}

TEST(HttpClient, ChunkedAndCloseDelimitedBodies) {
  auto main_ = []() -> Coro<> {
    auto h = [](StreamReader r, StreamWriter w) -> Coro<void> {
      std::optional<Req> q = co_await read_request(r);
      if (q->target == "/chunked") {
        w.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
        co_await w.drain();
        w.write("6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n");
      } else {
        w.write("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close");
      }
      co_await w.drain();
      w.close();
    };
    TestServer ts = co_await serve_raw(h);
    ClientSession session;
    {
      ClientResponse resp = co_await wait_for(session.get(ts.url("/chunked")), kBound);
      EXPECT_EQ(co_await resp.read(), "hello world");
    }
    {
      ClientResponse resp = co_await wait_for(session.get(ts.url("/close")), kBound);
      EXPECT_EQ(resp.version(), std::make_pair(1, 0));
      EXPECT_EQ(co_await resp.read(), "until close");
    }
    EXPECT_EQ(session.connector().statistics().idle, 0u);  // neither was kept
  };
  aio::run(main_());
}

TEST(HttpClient, ContentStream) {
  auto main_ = []() -> Coro<> {
    Route route = [](const Req&) -> Coro<std::string> {
      co_return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nab\nc\r\n6\r\ndef\ngh\r\n0\r\n\r\n";
    };
    TestServer ts = co_await serve(route);
    ClientSession session;
    {
      ClientResponse resp = co_await wait_for(session.get(ts.url("/")), kBound);
      ResponseContent c = resp.content();
      EXPECT_EQ(co_await c.readline(), "ab\n");
      EXPECT_EQ(co_await c.readexactly(3), "cde");
      EXPECT_EQ(co_await c.readline(), "f\n");
      EXPECT_EQ(co_await c.read(), "gh");
      EXPECT_TRUE(c.at_eof());
      EXPECT_EQ(co_await c.read(), "");
    }
    {
      ClientResponse resp = co_await wait_for(session.get(ts.url("/")), kBound);
      std::vector<std::string> pieces;
      auto gen = resp.content().iter_chunked(3);
      while (auto piece = co_await gen.next()) pieces.push_back(*piece);
      std::string all;
      for (auto& p : pieces) {
        EXPECT_LE(p.size(), 3u);
        all += p;
      }
      EXPECT_EQ(all, "ab\ncdef\ngh");
    }
    {
      ClientResponse resp = co_await wait_for(session.get(ts.url("/")), kBound);
      ResponseContent c = resp.content();
      try {
        (void)co_await c.readexactly(100);
        ADD_FAILURE() << "no IncompleteReadError";
      } catch (const IncompleteReadError& e) {
        EXPECT_EQ(e.partial, "ab\ncdef\ngh");
      }
    }
    EXPECT_EQ(ts.stats->accepts, 1);  // every body read to its end: one connection
  };
  aio::run(main_());
}

// --- faults

TEST(HttpClient, CloseMidBodyIsClientPayloadError) {
  auto main_ = []() -> Coro<> {
    auto h = [](StreamReader r, StreamWriter w) -> Coro<void> {
      (void)co_await read_request(r);
      w.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part");
      co_await w.drain();
      w.close();
    };
    TestServer ts = co_await serve_raw(h);
    ClientSession session;
    ClientResponse resp = co_await wait_for(session.get(ts.url("/")), kBound);
    try {
      (void)co_await wait_for(resp.read(), kBound);
      ADD_FAILURE() << "no error";
    } catch (const ClientPayloadError& e) {
      EXPECT_TRUE(contains(e.what(), "Response payload is not completed")) << e.what();
      EXPECT_TRUE(contains(e.what(), "ContentLengthError")) << e.what();
    }
    auto h2 = [](StreamReader r, StreamWriter w) -> Coro<void> {
      (void)co_await read_request(r);
      w.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel");
      co_await w.drain();
      w.close();
    };
    TestServer ts2 = co_await serve_raw(h2);
    ClientResponse resp2 = co_await wait_for(session.get(ts2.url("/")), kBound);
    try {
      (void)co_await wait_for(resp2.read(), kBound);
      ADD_FAILURE() << "no error";
    } catch (const ClientPayloadError& e) {
      EXPECT_TRUE(contains(e.what(), "TransferEncodingError")) << e.what();
    }
  };
  aio::run(main_());
}

TEST(HttpClient, CloseBeforeHeadIsServerDisconnected) {
  auto main_ = []() -> Coro<> {
    auto h = [](StreamReader r, StreamWriter w) -> Coro<void> {
      (void)co_await read_request(r);
      w.write("HTTP/1.1 200 O");  // half a status line, then gone
      co_await w.drain();
      w.close();
    };
    TestServer ts = co_await serve_raw(h);
    ClientSession session;
    try {
      (void)co_await wait_for(session.get(ts.url("/")), kBound);
      ADD_FAILURE() << "no error";
    } catch (const ServerDisconnectedError& e) {
      EXPECT_STREQ(e.what(), "Server disconnected");
    }
  };
  aio::run(main_());
}

TEST(HttpClient, InvalidResponseIsClientResponseError) {
  auto main_ = []() -> Coro<> {
    Route route = [](const Req&) -> Coro<std::string> {
      co_return "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n";
    };
    TestServer ts = co_await serve(route);
    ClientSession session;
    try {
      (void)co_await wait_for(session.get(ts.url("/")), kBound);
      ADD_FAILURE() << "no error";
    } catch (const ClientResponseError& e) {
      EXPECT_EQ(e.status(), 400);
    }
  };
  aio::run(main_());
}

// --- timeouts, on the virtual clock

TEST(HttpClient, SockReadTimeoutOnATrickle) {
  auto main_ = []() -> Coro<> {
    auto h = [](StreamReader r, StreamWriter w) -> Coro<void> {
      (void)co_await read_request(r);
      w.write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
      for (int i = 0; i < 10; ++i) {
        co_await sleep(i < 3 ? 0.5 : 5);  // fast at first, then too slow
        w.write("x");
        co_await w.drain();
      }
    };
    TestServer ts = co_await serve_raw(h);
    ClientSession session;
    const double t0 = get_running_loop().time();
    ClientResponse resp = co_await session.get(ts.url("/"), {.timeout = ClientTimeout{.total = 100, .sock_read = 1}});
    try {
      (void)co_await resp.read();
      ADD_FAILURE() << "no timeout";
    } catch (const SocketTimeoutError& e) {
      EXPECT_STREQ(e.what(), "Timeout on reading data from socket");
    }
    EXPECT_NEAR(get_running_loop().time() - t0, 2.5, 0.01);  // 3 bytes at 0.5 s, then 1 s of nothing
  };
  test::run_virtual(main_());
}

TEST(HttpClient, TotalTimeoutAtEachPhase) {
  auto main_ = []() -> Coro<> {
    auto h = [](StreamReader r, StreamWriter w) -> Coro<void> {
      std::optional<Req> q = co_await read_request(r);
      if (!q) co_return;
      if (q->target == "/head") {
        co_await sleep(100);  // no answer
      } else {
        w.write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf");
        co_await w.drain();
        co_await sleep(100);
      }
    };
    TestServer ts = co_await serve_raw(h);
    ClientSession session(ClientSession::Options{.timeout = ClientTimeout{.total = 3},
                                                 .connector = std::make_shared<TCPConnector>(TCPConnectorOptions{.limit = 1})});
    EventLoop& loop = get_running_loop();
    // Head: the server never answers.
    double t0 = loop.time();
    try {
      (void)co_await session.get(ts.url("/head"));
      ADD_FAILURE() << "no timeout";
    } catch (const TimeoutError&) {
    }
    EXPECT_NEAR(loop.time() - t0, 3, 0.01);
    // Body: the head comes, the body stalls; total counts from the request.
    t0 = loop.time();
    ClientResponse held = co_await session.get(ts.url("/body"));
    co_await sleep(1);
    try {
      (void)co_await held.read();
      ADD_FAILURE() << "no timeout";
    } catch (const TimeoutError&) {
    }
    EXPECT_NEAR(loop.time() - t0, 3, 0.01);
    EXPECT_TRUE(held.closed());  // the failed read closed its connection, freeing the slot
    // Connect: the only connection (limit 1) is held by a response nobody reads.
    ClientResponse holder = co_await session.get(ts.url("/body"));
    t0 = loop.time();
    try {
      (void)co_await session.get(ts.url("/body"));
      ADD_FAILURE() << "no timeout";
    } catch (const TimeoutError&) {
    }
    EXPECT_NEAR(loop.time() - t0, 3, 0.01);
    t0 = loop.time();
    try {
      (void)co_await session.get(ts.url("/body"), {.timeout = ClientTimeout{.total = 10, .connect = 2}});
      ADD_FAILURE() << "no timeout";
    } catch (const ConnectionTimeoutError& e) {
      EXPECT_TRUE(contains(e.what(), "Connection timeout to host " + ts.url("/body"))) << e.what();
    }
    EXPECT_NEAR(loop.time() - t0, 2, 0.01);
    holder.release();  // not read: closed, and the slot is free again
    EXPECT_EQ(session.connector().statistics().acquired, 0u);
  };
  test::run_virtual(main_());
}

// --- keep-alive and the pool

TEST(HttpClient, HundredRequestsReuseOneConnection) {
  auto main_ = []() -> Coro<> {
    Route route = [](const Req& q) -> Coro<std::string> { co_return response(200, q.target); };
    TestServer ts = co_await serve(route);
    ClientSession session;
    for (int i = 0; i < 100; ++i) {
      ClientResponse resp = co_await wait_for(session.get(ts.url("/" + std::to_string(i))), kBound);
      EXPECT_EQ(co_await resp.read(), "/" + std::to_string(i));
    }
    EXPECT_EQ(ts.stats->accepts, 1);
    EXPECT_EQ(ts.stats->requests, 100);
    EXPECT_EQ(session.connector().statistics().connections_made, 1u);
  };
  aio::run(main_());
}

TEST(HttpClient, IdleConnectionsExpireAfterKeepaliveTimeout) {
  auto main_ = []() -> Coro<> {
    auto closed = std::make_shared<int>(0);
    auto h = [closed](StreamReader r, StreamWriter w) -> Coro<void> {
      while (std::optional<Req> q = co_await read_request(r, &w)) {
        w.write(response(200, "ok"));
        co_await w.drain();
      }
      ++*closed;  // the client closed the connection
      w.close();
    };
    TestServer ts = co_await serve_raw(h);
    ClientSession session;  // keepalive_timeout 15 s
    EventLoop& loop = get_running_loop();
    {
      ClientResponse r = co_await session.get(ts.url("/"));
      (void)co_await r.read();
    }
    co_await sleep(10);
    {
      ClientResponse r = co_await session.get(ts.url("/"));  // still alive: reused
      (void)co_await r.read();
    }
    EXPECT_EQ(ts.stats->accepts, 1);
    const double idle_from = loop.time();
    co_await sleep(16);
    EXPECT_GE(loop.time() - idle_from, 15.0);
    EXPECT_EQ(session.connector().statistics().idle, 0u);  // expired and closed
    EXPECT_EQ(*closed, 1);
    ClientResponse r = co_await session.get(ts.url("/"));
    (void)co_await r.read();
    EXPECT_EQ(ts.stats->accepts, 2);
    co_await session.close();  // closes the pooled connection
    co_await sleep(0.1);
    EXPECT_EQ(*closed, 2);
  };
  test::run_virtual(main_());
}

TEST(HttpClient, ForceCloseUsesAConnectionPerRequest) {
  auto main_ = []() -> Coro<> {
    Route route = [](const Req& q) -> Coro<std::string> { co_return response(200, q.header("Connection")); };
    TestServer ts = co_await serve(route);
    ClientSession session(ClientSession::Options{
        .connector = std::make_shared<TCPConnector>(TCPConnectorOptions{.force_close = true})});
    for (int i = 0; i < 3; ++i) {
      ClientResponse r = co_await wait_for(session.get(ts.url("/")), kBound);
      EXPECT_EQ(co_await r.text(), "close");
    }
    EXPECT_EQ(session.connector().statistics().connections_made, 3u);
    EXPECT_EQ(session.connector().statistics().idle, 0u);
  };
  aio::run(main_());
}

TEST(HttpClient, UnreadBodyClosesTheConnection) {
  auto main_ = []() -> Coro<> {
    Route route = [](const Req& q) -> Coro<std::string> { co_return response(200, std::string(100000, 'x') + q.target); };
    TestServer ts = co_await serve(route);
    ClientSession session;
    {
      ClientResponse resp = co_await wait_for(session.get(ts.url("/1")), kBound);
      EXPECT_EQ(resp.status(), 200);
    }  // released unread: closed
    ClientResponse resp = co_await wait_for(session.get(ts.url("/2")), kBound);
    std::string body = co_await wait_for(resp.read(), kBound);
    EXPECT_EQ(body.substr(body.size() - 2), "/2");
    EXPECT_EQ(ts.stats->accepts, 2);
  };
  aio::run(main_());
}

TEST(HttpClient, LimitAndLimitPerHost) {
  auto main_ = []() -> Coro<> {
    // Requests in flight over both servers at once.
    auto now = std::make_shared<int>(0), most = std::make_shared<int>(0);
    Route route = [now, most](const Req&) -> Coro<std::string> {
      *most = std::max(*most, ++*now);
      co_await sleep(0.02);
      --*now;
      co_return response(200, "ok");
    };
    TestServer a = co_await serve(route);
    TestServer b = co_await serve(route);
    {
      ClientSession session(ClientSession::Options{.connector = std::make_shared<TCPConnector>(TCPConnectorOptions{.limit = 3})});
      std::vector<Task<std::string>> tasks;
      auto one = [&](std::string url) -> Coro<std::string> {
        ClientResponse r = co_await session.get(url);
        co_return co_await r.read();
      };
      for (int i = 0; i < 12; ++i) tasks.push_back(create_task(one(i % 2 ? a.url("/") : b.url("/"))));
      for (auto& t : tasks) EXPECT_EQ(co_await wait_for(t, kBound), "ok");
      EXPECT_EQ(*most, 3);
    }
    a.stats->max_in_flight = b.stats->max_in_flight = 0;
    {
      ClientSession session(ClientSession::Options{
          .connector = std::make_shared<TCPConnector>(TCPConnectorOptions{.limit = 100, .limit_per_host = 2})});
      std::vector<Task<std::string>> tasks;
      auto one = [&](std::string url) -> Coro<std::string> {
        ClientResponse r = co_await session.get(url);
        co_return co_await r.read();
      };
      for (int i = 0; i < 20; ++i) tasks.push_back(create_task(one(i % 2 ? a.url("/") : b.url("/"))));
      for (auto& t : tasks) EXPECT_EQ(co_await wait_for(t, kBound), "ok");
      EXPECT_EQ(a.stats->max_in_flight, 2);
      EXPECT_EQ(b.stats->max_in_flight, 2);
    }
  };
  aio::run(main_());
}

TEST(HttpClient, CancelledRequestDoesNotLeaveAStaleResponse) {
  auto main_ = []() -> Coro<> {
    Route route = [](const Req& q) -> Coro<std::string> {
      if (q.target == "/slow") {
        co_await sleep(0.2);
        co_return response(200, "stale");
      }
      co_return response(200, "fresh");
    };
    TestServer ts = co_await serve(route);
    ClientSession session(ClientSession::Options{.connector = std::make_shared<TCPConnector>(TCPConnectorOptions{.limit = 1})});
    {  // warm the pool: one idle connection
      ClientResponse r = co_await session.get(ts.url("/"));
      EXPECT_EQ(co_await r.read(), "fresh");
    }
    auto slow = [&]() -> Coro<std::string> {
      ClientResponse r = co_await session.get(ts.url("/slow"));
      co_return co_await r.read();
    };
    Task<std::string> t = create_task(slow());
    co_await sleep(0.05);
    t.cancel();
    try {
      (void)co_await t;
      ADD_FAILURE() << "not cancelled";
    } catch (const CancelledError&) {
    }
    ClientResponse r = co_await wait_for(session.get(ts.url("/")), kBound);
    EXPECT_EQ(co_await r.read(), "fresh");
    EXPECT_EQ(ts.stats->accepts, 2);  // the cancelled one's connection was closed
  };
  aio::run(main_());
}

TEST(HttpClient, StaleKeepAliveConnectionIsRetried) {
  auto main_ = []() -> Coro<> {
    // Answers one request per connection, then closes without saying so.
    auto h = [](StreamReader r, StreamWriter w) -> Coro<void> {
      (void)co_await read_request(r);
      w.write(response(200, "one"));
      co_await w.drain();
      w.close();
    };
    TestServer ts = co_await serve_raw(h);
    ClientSession session;
    for (int i = 0; i < 3; ++i) {
      ClientResponse r = co_await wait_for(session.get(ts.url("/")), kBound);
      EXPECT_EQ(co_await r.read(), "one");
      co_await sleep(0.01);
    }
    EXPECT_EQ(ts.stats->accepts, 3);
  };
  aio::run(main_());
}

// --- redirects

Coro<TestServer> redirect_server() {
  Route route = [](const Req& q) -> Coro<std::string> {
    const std::string& t = q.target;
    if (t.size() == 4 && t[0] == '/' && t[1] == '3') co_return response(std::stoi(t.substr(1)), "moved", "Location: /target\r\n");
    if (t == "/target") co_return response(200, q.method + " " + q.body + " " + q.header("Content-Type"));
    if (t == "/loop") co_return response(302, "", "Location: /loop\r\n");
    if (t == "/rel/a") co_return response(302, "", "Location: b?x=1\r\n");
    if (t == "/rel/b?x=1") co_return response(200, "relative");
    if (t.rfind("/cross", 0) == 0) {
      std::string port = t.substr(7);
      co_return response(302, "", "Location: http://localhost:" + port + "/auth\r\n");
    }
    if (t == "/same") co_return response(302, "", "Location: /auth\r\n");
    if (t == "/auth") co_return response(200, "auth=" + q.header("Authorization"));
    co_return response(404, "");
  };
  co_return co_await serve(route);
}

TEST(HttpClient, RedirectsOfEachCode) {
  auto main_ = []() -> Coro<> {
    TestServer ts = co_await redirect_server();
    ClientSession session;
    struct Case {
      int code;
      std::string expect;
    };
    const std::vector<Case> cases = {Case{301, "GET  "}, Case{302, "GET  "}, Case{303, "GET  "},
                                     Case{307, "POST data application/octet-stream"},
                                     Case{308, "POST data application/octet-stream"}};
    for (const Case& c : cases) {
      ClientResponse r = co_await wait_for(session.post(ts.url("/" + std::to_string(c.code)), {.data = "data"}), kBound);
      EXPECT_EQ(r.status(), 200);
      EXPECT_EQ(co_await r.text(), c.expect) << c.code;
      EXPECT_EQ(r.url().str(), ts.url("/target"));
      CO_ASSERT_TRUE(r.history().size() == 1);
      EXPECT_EQ(r.history()[0].status(), c.code);
      EXPECT_EQ(r.history()[0].url().str(), ts.url("/" + std::to_string(c.code)));
    }
    {
      ClientResponse r = co_await session.get(ts.url("/301"), {.allow_redirects = false});
      EXPECT_EQ(r.status(), 301);
      EXPECT_EQ(r.header("Location"), "/target");
    }
    {  // head() does not follow by default, as aiohttp's
      ClientResponse r = co_await session.head(ts.url("/302"));
      EXPECT_EQ(r.status(), 302);
      EXPECT_EQ(co_await r.read(), "");
      ClientResponse f = co_await session.head(ts.url("/302"), {.allow_redirects = true});
      EXPECT_EQ(f.status(), 200);
    }
    {
      ClientResponse r = co_await session.get(ts.url("/rel/a"));
      EXPECT_EQ(co_await r.text(), "relative");
    }
    try {
      (void)co_await wait_for(session.get(ts.url("/loop")), kBound);
      ADD_FAILURE() << "no TooManyRedirects";
    } catch (const TooManyRedirects& e) {
      EXPECT_EQ(e.status(), 302);
      EXPECT_EQ(e.url(), ts.url("/loop"));
    }
    EXPECT_EQ(ts.stats->accepts, 1);  // redirect bodies are read: the connection is reused
  };
  aio::run(main_());
}

TEST(HttpClient, AuthorizationDroppedOnCrossOriginRedirect) {
  auto main_ = []() -> Coro<> {
    TestServer ts = co_await redirect_server();
    ClientSession session;
    BasicAuth auth{"user", "pass"};
    {
      ClientResponse r = co_await session.get(ts.url("/same"), {.auth = auth});
      EXPECT_EQ(co_await r.text(), "auth=Basic dXNlcjpwYXNz");
    }
    {
      ClientResponse r = co_await wait_for(session.get(ts.url("/cross/" + std::to_string(ts.port)), {.auth = auth}), kBound);
      EXPECT_EQ(r.url().host(), "localhost");
      EXPECT_EQ(co_await r.text(), "auth=");
    }
    const CIMultiDict bearer{{"Authorization", "Bearer x"}};
    {
      ClientResponse r = co_await wait_for(
          session.get(ts.url("/cross/" + std::to_string(ts.port)), {.headers = bearer}), kBound);
      EXPECT_EQ(co_await r.text(), "auth=");
    }
  };
  aio::run(main_());
}

// --- cookies, compression, bodies

TEST(HttpClient, CookiesAcrossRequests) {
  auto main_ = []() -> Coro<> {
    Route route = [](const Req& q) -> Coro<std::string> {
      if (q.target == "/set") co_return response(200, "", "Set-Cookie: a=1; Path=/\r\nSet-Cookie: b=2; Path=/only\r\n");
      co_return response(200, "cookie=" + q.header("Cookie"));
    };
    TestServer ts = co_await serve(route);
    ClientSession session(ClientSession::Options{.cookie_jar = std::make_shared<CookieJar>(CookieJar::Options{.unsafe = true, .clock = {}})});
    {
      ClientResponse r = co_await session.get(ts.url("/set"));
      EXPECT_EQ(r.cookies().get("a"), "1");
    }
    EXPECT_EQ(session.cookie_jar().size(), 2u);
    {
      ClientResponse r = co_await session.get(ts.url("/echo"));
      EXPECT_EQ(co_await r.text(), "cookie=a=1");
    }
    {
      const MultiDict extra{{"c", "3"}};
      ClientResponse r = co_await session.get(ts.url("/only"), {.cookies = extra});
      EXPECT_EQ(co_await r.text(), "cookie=b=2; a=1; c=3");
    }
  };
  aio::run(main_());
}

TEST(HttpClient, GzipAndDeflateAreDecoded) {
  auto main_ = []() -> Coro<> {
    const std::string text(5000, 'z');
    Route route = [text](const Req& q) -> Coro<std::string> {
      std::string enc = q.target.substr(1);
      ZLibCompressor c(enc);
      std::string body = c.compress(text);
      body += c.flush();
      if (q.target == "/gzip") {  // chunked, for good measure
        std::string out = "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n";
        std::size_t half = body.size() / 2;
        char hex[32];
        std::snprintf(hex, sizeof hex, "%zx\r\n", half);
        out += hex + body.substr(0, half) + "\r\n";
        std::snprintf(hex, sizeof hex, "%zx\r\n", body.size() - half);
        out += hex + body.substr(half) + "\r\n0\r\n\r\n";
        co_return out;
      }
      co_return response(200, body, "Content-Encoding: " + enc + "\r\n");
    };
    TestServer ts = co_await serve(route);
    ClientSession session;
    const std::vector<std::string> encodings = {"gzip", "deflate"};
    for (const std::string& enc : encodings) {
      ClientResponse r = co_await wait_for(session.get(ts.url("/" + enc)), kBound);
      EXPECT_EQ(co_await r.read(), text) << enc;
    }
    ClientSession raw(ClientSession::Options{.auto_decompress = false});
    ClientResponse r = co_await wait_for(raw.get(ts.url("/gzip")), kBound);
    std::string body = co_await r.read();
    EXPECT_EQ(body.substr(0, 2), "\x1f\x8b");
  };
  aio::run(main_());
}

TEST(HttpClient, FormJsonAndStreamedBodies) {
  auto main_ = []() -> Coro<> {
    Route route = [](const Req& q) -> Coro<std::string> {
      if (q.target == "/json")
        co_return response(200, R"({"got":)" + nlohmann::json(q.body).dump() + "}", "Content-Type: application/json\r\n");
      co_return response(200, q.header("Content-Type") + "|" + q.header("Transfer-Encoding") + "|" + q.body,
                         "Content-Type: text/html\r\n");
    };
    TestServer ts = co_await serve(route);
    ClientSession session;
    {
      const MultiDict form{{"a", "1"}, {"b", "x y&"}};
      ClientResponse r = co_await session.post(ts.url("/form"), {.form = form});
      EXPECT_EQ(co_await r.text(), "application/x-www-form-urlencoded||a=1&b=x+y%26");
    }
    {
      nlohmann::json payload = {{"k", 1}};
      ClientResponse r = co_await session.post(ts.url("/json"), {.json = payload});
      nlohmann::json j = co_await r.json();
      EXPECT_EQ(j["got"], R"({"k":1})");
    }
    {
      ClientResponse r = co_await session.get(ts.url("/html"));
      try {
        (void)co_await r.json();
        ADD_FAILURE() << "no ContentTypeError";
      } catch (const ContentTypeError& e) {
        EXPECT_TRUE(contains(e.what(), "Attempt to decode JSON with unexpected mimetype: text/html")) << e.what();
      }
    }
    {
      auto gen = []() -> BodyStream {
        co_yield "one,";
        co_await sleep(0.01);
        co_yield "two";
      };
      BodyStream s = gen();
      ClientResponse r = co_await session.put(ts.url("/stream"), {.stream = &s});
      EXPECT_EQ(co_await r.text(), "|chunked|one,two");
    }
    {
      ClientResponse r = co_await session.post(ts.url("/expect"), {.data = "payload", .expect100 = true});
      EXPECT_EQ(co_await r.text(), "application/octet-stream||payload");
    }
  };
  aio::run(main_());
}

TEST(HttpClient, Expect100ToAServerThatDoesNotAnswerSendsTheBodyAfterASecond) {
  auto main_ = []() -> Coro<> {
    auto h = [](StreamReader r, StreamWriter w) -> Coro<void> {
      std::optional<Req> q = co_await read_request(r);  // no 100 Continue
      w.write(response(200, q->header("Expect") + "|" + q->body));
      co_await w.drain();
    };
    TestServer ts = co_await serve_raw(h);
    ClientSession session;
    const double t0 = get_running_loop().time();
    ClientResponse r = co_await session.post(ts.url("/"), {.data = "late", .expect100 = true});
    EXPECT_EQ(co_await r.text(), "100-continue|late");
    EXPECT_NEAR(get_running_loop().time() - t0, 1.0, 0.01);
  };
  test::run_virtual(main_());
}

// --- errors

TEST(HttpClient, RaiseForStatus) {
  auto main_ = []() -> Coro<> {
    Route route = [](const Req&) -> Coro<std::string> { co_return response(404, "nope"); };
    TestServer ts = co_await serve(route);
    ClientSession session;
    ClientResponse r = co_await session.get(ts.url("/missing"));
    EXPECT_FALSE(r.ok());
    try {
      r.raise_for_status();
      ADD_FAILURE() << "no error";
    } catch (const ClientResponseError& e) {
      EXPECT_EQ(std::string(e.what()), "404, message='Not Found', url='" + ts.url("/missing") + "'");
      EXPECT_EQ(e.status(), 404);
    }
    try {
      (void)co_await session.get(ts.url("/missing"), {.raise_for_status = true});
      ADD_FAILURE() << "no error";
    } catch (const ClientResponseError& e) {
      EXPECT_EQ(e.status(), 404);
    }
  };
  aio::run(main_());
}

TEST(HttpClient, InvalidUrlAndRefusedConnection) {
  auto main_ = []() -> Coro<> {
    ClientSession session;
    const std::vector<std::string> bads = {"/relative", "ftp://127.0.0.1/x", "http://127.0.0.1:99999/"};
    for (const std::string& bad : bads) {
      try {
        (void)co_await session.get(bad);
        ADD_FAILURE() << bad;
      } catch (const InvalidURL& e) {
        EXPECT_TRUE(contains(e.what(), bad)) << e.what();
      }
    }
    const int port = free_port();
    try {
      (void)co_await wait_for(session.get("http://127.0.0.1:" + std::to_string(port) + "/"), kBound);
      ADD_FAILURE() << "connected";
    } catch (const ClientConnectorError& e) {
      EXPECT_EQ(e.host(), "127.0.0.1");
      EXPECT_EQ(e.port(), port);
      EXPECT_EQ(e.error_code().value(), ECONNREFUSED);
      EXPECT_EQ(std::string(e.what()),
                "Cannot connect to host 127.0.0.1:" + std::to_string(port) + " ssl:default [Connection refused]");
    }
    const CIMultiDict split{{"X-A", "1\r\nX-Injected: yes"}};
    try {
      (void)co_await session.get("http://127.0.0.1:" + std::to_string(port) + "/", {.headers = split});
      ADD_FAILURE() << "a header with CRLF was sent";
    } catch (const ValueError& e) {
      EXPECT_TRUE(contains(e.what(), "Newline or carriage return")) << e.what();
    }
    try {
      (void)co_await session.request("GE T", "http://127.0.0.1:" + std::to_string(port) + "/");
      ADD_FAILURE() << "a bad method was sent";
    } catch (const ValueError&) {
    }
    co_await session.close();
    try {
      (void)co_await session.get("http://127.0.0.1/");
      ADD_FAILURE() << "closed session sent";
    } catch (const RuntimeError& e) {
      EXPECT_STREQ(e.what(), "Session is closed");
    }
  };
  aio::run(main_());
}

TEST(HttpClient, BaseUrlAndSessionHeaders) {
  auto main_ = []() -> Coro<> {
    Route route = [](const Req& q) -> Coro<std::string> {
      co_return response(200, q.target + "|" + q.header("X-Session") + "|" + q.header("User-Agent"));
    };
    TestServer ts = co_await serve(route);
    ClientSession session(ClientSession::Options{.base_url = ts.url("/api/"), .headers = {{"X-Session", "s"}}});
    ClientResponse r = co_await session.get("items");
    EXPECT_EQ(co_await r.text(), "/api/items|s|aio-http/1.0");
    const CIMultiDict mine{{"X-Session", "mine"}, {"User-Agent", "me"}};
    ClientResponse r2 = co_await session.get("items", {.headers = mine});
    EXPECT_EQ(co_await r2.text(), "/api/items|mine|me");
  };
  aio::run(main_());
}

}  // namespace
}  // namespace aio

namespace aio {
namespace {

// A braced list as PairsRef (clang takes it inside co_await too; g++ 12 only outside).
std::string joined(http::PairsRef p) {
  std::string out;
  p.for_each([&](std::string_view k, std::string_view v) {
    out.append(k);
    out += '=';
    out.append(v);
    out += ';';
  });
  return out;
}

TEST(HttpClient, PairsRefTakesBracedListsAndDicts) {
  EXPECT_EQ(joined({{"a", "1"}, {"b", "2"}}), "a=1;b=2;");
  const http::MultiDict md{{"x", "y"}};
  EXPECT_EQ(joined(md), "x=y;");
  const http::CIMultiDict cd{{"K", "v"}, {"k", "w"}};
  EXPECT_EQ(joined(cd), "K=v;k=w;");
  EXPECT_TRUE(http::PairsRef().empty());
}

}  // namespace
}  // namespace aio
