// The HTTP server (aio/http/web.hpp) on 127.0.0.1 with aio's streams as the client:
// requests are written by hand, responses read with the response parser. Time logic
// (header and keep-alive timeouts, graceful shutdown) runs on the virtual clock; the
// rest on the real clock, bounded by wait_for timeouts only a hang reaches.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "aio/http.hpp"
#include "support/aio_test.hpp"
#include "../examples/http/local_services.hpp"

namespace aio::http {
namespace {

constexpr double kBound = 20;  // seconds: only a hung test reaches it

struct RawResponse {
  int status = 0;
  std::string reason;
  CIMultiDict headers;
  std::string body;
  int version_minor = 1;
  bool keep_alive = true;
};

// Reads one response from `reader` (to a request of `method`); nullopt at EOF first.
Coro<std::optional<RawResponse>> read_response(StreamReader& reader, std::string method = "GET") {
  MessageHead head;
  std::size_t n = 0;
  for (;;) {
    std::string_view buf = reader.buffered();
    if (!buf.empty()) {
      n = parse_response_head(buf, head, method);
      if (n != 0) break;
    }
    if (!co_await reader.fill()) co_return std::nullopt;
  }
  RawResponse r;
  r.status = head.status;
  r.reason = std::string(head.reason);
  r.version_minor = head.version_minor;
  r.keep_alive = head.keep_alive;
  for (const HeaderField& f : head.headers) r.headers.add(f.name, f.value);
  BodyDecoder dec(head);
  reader.consume(n);
  while (!dec.done()) {
    auto step = dec.feed(reader.buffered());
    r.body.append(step.data);
    reader.consume(step.consumed);
    if (step.consumed == 0 && !step.done) {
      if (!co_await reader.fill()) {
        dec.feed_eof();
        break;
      }
    }
  }
  co_return r;
}

// The server side of a test: an application served on 127.0.0.1:port().
struct TestServer {
  explicit TestServer(Application& app, RunnerOptions options = {.access_log = nullptr})
      : runner(app, std::move(options)) {}
  Coro<void> start() {
    co_await runner.setup();
    site.emplace(runner, "127.0.0.1", 0);
    co_await site->start();
  }
  int port() const { return site->port(); }
  Coro<std::pair<StreamReader, StreamWriter>> connect() { co_return co_await open_connection("127.0.0.1", port()); }
  // One request on a new connection; the response.
  Coro<RawResponse> request(std::string raw, std::string method = "GET") {
    auto [r, w] = co_await connect();
    w.write(raw);
    auto resp = co_await wait_for(read_response(r, method), kBound);
    w.close();
    if (!resp) throw RuntimeError("no response");
    co_return *resp;
  }
  AppRunner runner;
  std::optional<TCPSite> site;
};

std::string get(std::string_view path, std::string_view extra = "") {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: t\r\n" + std::string(extra) + "\r\n";
}

Coro<StreamResponse> hello(Request&) { co_return Response({.text = "Hello, World!"}); }

// Runs `body(server)` against `app` on a fresh loop, then cleans the runner up.
template <class F>
void serve(Application& app, F body, RunnerOptions options = {.access_log = nullptr}, bool virtual_time = false) {
  auto main_ = [&]() -> Coro<> {
    TestServer server(app, std::move(options));
    co_await server.start();
    co_await body(server);
    co_await server.runner.cleanup();
  };
  if (virtual_time) {
    aio::run(main_(), {.clock = aio::virtual_clock});
  } else {
    aio::run(main_());
  }
}

// --- routing

TEST(HttpServer, RoutesPlainDynamicAndRegexPaths) {
  Application app;
  app.add_get("/", hello);
  app.add_get("/city/{name}", [](Request& r) -> Coro<StreamResponse> {
    co_return Response({.text = "city " + r.match_info()["name"]});
  });
  app.add_get("/n/{id:\\d+}", [](Request& r) -> Coro<StreamResponse> {
    co_return Response({.text = "n " + r.match_info()["id"]});
  });
  app.add_get("/files/{tail:.*}", [](Request& r) -> Coro<StreamResponse> {
    co_return Response({.text = "tail " + r.match_info()["tail"]});
  });
  app.add_routes({web::post("/form", [](Request& r) -> Coro<StreamResponse> {
                    co_return Response({.text = "posted " + std::string(r.method())});
                  }),
                  web::view("/any", [](Request& r) -> Coro<StreamResponse> {
                    co_return Response({.text = std::string(r.method())});
                  })});
  serve(app, [](TestServer& s) -> Coro<> {
    RawResponse r = co_await s.request(get("/"));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "Hello, World!");
    EXPECT_EQ(r.headers.get("Content-Type", ""), "text/plain; charset=utf-8");
    EXPECT_EQ(r.headers.get("Content-Length", ""), "13");
    EXPECT_TRUE(r.headers.contains("Date"));
    EXPECT_EQ((co_await s.request(get("/city/Moscow"))).body, "city Moscow");
    EXPECT_EQ((co_await s.request(get("/city/New%20York"))).body, "city New York");
    EXPECT_EQ((co_await s.request(get("/n/42"))).body, "n 42");
    EXPECT_EQ((co_await s.request(get("/n/x42"))).status, 404);
    EXPECT_EQ((co_await s.request(get("/files/a/b/c.txt"))).body, "tail a/b/c.txt");
    EXPECT_EQ((co_await s.request("POST /form HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n")).body, "posted POST");
    EXPECT_EQ((co_await s.request("DELETE /any HTTP/1.1\r\nHost: t\r\n\r\n")).body, "DELETE");
    EXPECT_EQ((co_await s.request(get("/city/a/b"))).status, 404);
    EXPECT_EQ((co_await s.request(get("/?q=1"))).body, "Hello, World!");
  });
}

TEST(HttpServer, NotFoundAndMethodNotAllowedWithAllow) {
  Application app;
  app.add_get("/x", hello);
  app.add_put("/x", hello);
  serve(app, [](TestServer& s) -> Coro<> {
    RawResponse nf = co_await s.request(get("/nope"));
    EXPECT_EQ(nf.status, 404);
    EXPECT_EQ(nf.reason, "Not Found");
    EXPECT_EQ(nf.body, "404: Not Found");
    RawResponse na = co_await s.request("POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(na.status, 405);
    EXPECT_EQ(na.headers.get("Allow", ""), "GET,HEAD,PUT");
    EXPECT_EQ(na.body, "405: Method Not Allowed");
  });
}

TEST(HttpServer, HeadIsAnsweredByGetWithoutBody) {
  Application app;
  app.router().add_get("/", hello, /*allow_head=*/false);
  serve(app, [](TestServer& s) -> Coro<> {
    auto [r, w] = co_await s.connect();
    w.write("HEAD / HTTP/1.1\r\nHost: t\r\n\r\n" + get("/"));
    auto head = co_await wait_for(read_response(r, "HEAD"), kBound);
    CO_ASSERT_TRUE(head.has_value());
    EXPECT_EQ(head->status, 200);
    EXPECT_EQ(head->headers.get("Content-Length", ""), "13");
    EXPECT_EQ(head->body, "");
    auto next = co_await wait_for(read_response(r), kBound);  // the body was not sent
    CO_ASSERT_TRUE(next.has_value());
    EXPECT_EQ(next->body, "Hello, World!");
    w.close();
  });
}

TEST(HttpServer, RouterRejectsBadPatternsAndDuplicates) {
  Application app;
  EXPECT_THROW(app.add_get("no-slash", hello), ValueError);
  EXPECT_THROW(app.add_get("/a/{x", hello), ValueError);
  app.add_post("/p", hello);
  EXPECT_THROW(app.add_post("/p", hello), RuntimeError);
}

// --- requests

TEST(HttpServer, RequestAttributes) {
  Application app;
  app.add_get("/info/{x}", [](Request& r) -> Coro<StreamResponse> {
    nlohmann::json j;
    j["method"] = r.method();
    j["path"] = r.path();
    j["raw_path"] = r.raw_path();
    j["query_string"] = r.query_string();
    j["q"] = r.query().getall("q");
    j["host"] = r.host();
    j["remote"] = r.remote();
    j["ua"] = r.headers().get("user-agent", "");
    j["version"] = std::to_string(r.version().first) + "." + std::to_string(r.version().second);
    j["keep_alive"] = r.keep_alive();
    j["cookie_a"] = r.cookies().get("a", "");
    j["x"] = r.match_info()["x"];
    j["body_exists"] = r.body_exists();
    co_return json_response(j);
  });
  serve(app, [](TestServer& s) -> Coro<> {
    RawResponse r = co_await s.request(get("/info/%C3%A9t%C3%A9?q=1&q=two%20x&e=", "User-Agent: tester\r\nCookie: a=1; b=2\r\n"));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.headers.get("Content-Type", ""), "application/json");
    auto j = nlohmann::json::parse(r.body);
    EXPECT_EQ(j["method"], "GET");
    EXPECT_EQ(j["path"], "/info/\xC3\xA9t\xC3\xA9");
    EXPECT_EQ(j["raw_path"], "/info/%C3%A9t%C3%A9?q=1&q=two%20x&e=");
    EXPECT_EQ(j["query_string"], "q=1&q=two%20x&e=");
    EXPECT_EQ(j["q"], nlohmann::json({"1", "two x"}));
    EXPECT_EQ(j["host"], "t");
    EXPECT_EQ(j["remote"], "127.0.0.1");
    EXPECT_EQ(j["ua"], "tester");
    EXPECT_EQ(j["version"], "1.1");
    EXPECT_EQ(j["keep_alive"], true);
    EXPECT_EQ(j["cookie_a"], "1");
    EXPECT_EQ(j["x"], "\xC3\xA9t\xC3\xA9");
    EXPECT_EQ(j["body_exists"], false);
  });
}

TEST(HttpServer, BodiesLengthChunkedJsonFormAndStream) {
  Application app;
  app.add_post("/echo", [](Request& r) -> Coro<StreamResponse> {
    std::string body = co_await r.read();
    std::string again = co_await r.read();  // cached
    co_return Response({.text = body + "|" + std::to_string(again.size()) + "|" + r.content_type()});
  });
  app.add_post("/json", [](Request& r) -> Coro<StreamResponse> {
    nlohmann::json j = co_await r.json();
    co_return json_response({{"got", j["a"]}});
  });
  app.add_post("/form", [](Request& r) -> Coro<StreamResponse> {
    MultiDict form = co_await r.post();
    co_return Response({.text = form.getone("name") + "," + form.getone("city")});
  });
  app.add_post("/lines", [](Request& r) -> Coro<StreamResponse> {
    std::string out;
    for (;;) {
      std::string line = co_await r.content.readline();
      if (line.empty()) break;
      out += "[" + line + "]";
    }
    EXPECT_TRUE(r.content.at_eof());
    co_return Response({.text = out});
  });
  app.add_post("/chunks", [](Request& r) -> Coro<StreamResponse> {
    std::string out;
    for (;;) {
      std::string c = co_await r.content.iter_chunked(3);
      if (c.empty()) break;
      out += "<" + c + ">";
    }
    co_return Response({.text = out});
  });
  serve(app, [](TestServer& s) -> Coro<> {
    RawResponse a = co_await s.request(
        "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: Text/Plain; charset=UTF-8\r\nContent-Length: 5\r\n\r\nhello");
    EXPECT_EQ(a.body, "hello|5|text/plain");
    RawResponse b = co_await s.request(
        "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\nX-T: 1\r\n\r\n");
    EXPECT_EQ(b.body, "abcdefg|7|application/octet-stream");
    RawResponse c = co_await s.request(
        "POST /json HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 8\r\n\r\n{\"a\": 1}");
    EXPECT_EQ(c.body, "{\"got\":1}");
    RawResponse bad = co_await s.request("POST /json HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\n{x}");
    EXPECT_EQ(bad.status, 400);
    RawResponse d = co_await s.request(
        "POST /form HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 27\r\n\r\n"
        "name=Ann+Lee&city=St.%20Pet");
    EXPECT_EQ(d.body, "Ann Lee,St. Pet");
    RawResponse e = co_await s.request(
        "POST /lines HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n4\r\na\nbc\r\n3\r\n\nd\n\r\n1\r\ne\r\n0\r\n\r\n");
    EXPECT_EQ(e.body, "[a\n][bc\n][d\n][e]");
    RawResponse f = co_await s.request("POST /chunks HTTP/1.1\r\nHost: t\r\nContent-Length: 7\r\n\r\nabcdefg");
    EXPECT_EQ(f.body, "<abc><def><g>");
  });
}

TEST(HttpServer, BodyOverClientMaxSizeIs413) {
  Application app({.client_max_size = 10});
  app.add_post("/", [](Request& r) -> Coro<StreamResponse> {
    std::string body = co_await r.read();
    co_return Response({.text = body});
  });
  serve(app, [](TestServer& s) -> Coro<> {
    RawResponse a = co_await s.request("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nabcdefghijk");
    EXPECT_EQ(a.status, 413);
    EXPECT_EQ(a.body, "Maximum request body size 10 exceeded, actual body size 11");
    RawResponse b = co_await s.request(
        "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\nghijkl\r\n0\r\n\r\n");
    EXPECT_EQ(b.status, 413);
    // A huge announced body is not skipped: the answer says the connection closes.
    auto [hr, hw] = co_await s.connect();
    hw.write("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100000000\r\n\r\nabc");
    auto huge = co_await wait_for(read_response(hr), kBound);
    CO_ASSERT_TRUE(huge.has_value());
    EXPECT_EQ(huge->status, 413);
    EXPECT_EQ(huge->headers.get("Connection", ""), "close");
    hw.close();
    RawResponse c = co_await s.request("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabcdefghij");
    EXPECT_EQ(c.status, 200);
    EXPECT_EQ(c.body, "abcdefghij");
  });
}

// --- connections

TEST(HttpServer, KeepAliveAndHundredPipelinedRequestsAnsweredInOrder) {
  Application app;
  app.add_get("/{i}", [](Request& r) -> Coro<StreamResponse> { co_return Response({.text = r.match_info()["i"]}); });
  app.add_post("/{i}", [](Request& r) -> Coro<StreamResponse> {
    std::string b = co_await r.read();
    co_return Response({.text = r.match_info()["i"] + ":" + b});
  });
  serve(app, [](TestServer& s) -> Coro<> {
    auto [r, w] = co_await s.connect();
    std::string all;
    for (int i = 0; i < 100; ++i) {
      if (i % 10 == 5) {
        all += "POST /" + std::to_string(i) + " HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc";
      } else {
        all += get("/" + std::to_string(i));
      }
    }
    w.write(all);
    for (int i = 0; i < 100; ++i) {
      auto resp = co_await wait_for(read_response(r), kBound);
      CO_ASSERT_TRUE(resp.has_value());
      EXPECT_EQ(resp->body, std::to_string(i) + (i % 10 == 5 ? ":abc" : ""));
      EXPECT_TRUE(resp->keep_alive);
    }
    // Unread bodies are skipped: the next request on the same connection still works.
    w.write("POST /unread HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nzzzz" + get("/after"));
    auto a = co_await wait_for(read_response(r), kBound);
    auto b = co_await wait_for(read_response(r), kBound);
    CO_ASSERT_TRUE(a && b);
    EXPECT_EQ(a->body, "unread:zzzz");
    EXPECT_EQ(b->body, "after");
    w.close();
  });
}

TEST(HttpServer, PipelinedAnswerIsNotHeldBehindASlowHandler) {
  Application app;
  app.add_get("/fast", hello);
  app.add_get("/slow", [](Request&) -> Coro<StreamResponse> {
    co_await sleep(3);
    co_return Response({.text = "slow"});
  });
  serve(
      app,
      [](TestServer& s) -> Coro<> {
        EventLoop& loop = get_running_loop();
        auto [r, w] = co_await s.connect();
        const double t0 = loop.time();
        w.write(get("/fast") + get("/slow") + get("/fast"));
        auto a = co_await wait_for(read_response(r), kBound);
        CO_ASSERT_TRUE(a.has_value());
        EXPECT_EQ(a->body, "Hello, World!");
        EXPECT_LT(loop.time() - t0, 0.5);  // not after the slow one
        auto b = co_await wait_for(read_response(r), kBound);
        auto c = co_await wait_for(read_response(r), kBound);
        CO_ASSERT_TRUE(b && c);
        EXPECT_EQ(b->body, "slow");
        EXPECT_EQ(c->body, "Hello, World!");
        EXPECT_NEAR(loop.time() - t0, 3.0, 0.1);
        w.close();
      },
      {.access_log = nullptr}, true);
}

TEST(HttpServer, ExpectContinueIsSentWhenTheHandlerReadsTheBody) {
  Application app;
  app.add_post("/", [](Request& r) -> Coro<StreamResponse> {
    std::string body = co_await r.read();
    co_return Response({.text = "got " + body});
  });
  app.add_post("/reject", [](Request&) -> Coro<StreamResponse> {
    throw HTTPUnauthorized();
    co_return StreamResponse();
  });
  serve(app, [](TestServer& s) -> Coro<> {
    auto [r, w] = co_await s.connect();
    w.write("POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
    std::string line = co_await wait_for(r.readuntil("\r\n\r\n"), kBound);
    EXPECT_EQ(line, "HTTP/1.1 100 Continue\r\n\r\n");
    w.write("data");
    auto resp = co_await wait_for(read_response(r), kBound);
    CO_ASSERT_TRUE(resp.has_value());
    EXPECT_EQ(resp->body, "got data");
    w.close();
    // A handler that answers without reading: no 100, the answer, and the connection
    // closes (the client may never send the body).
    auto [r2, w2] = co_await s.connect();
    w2.write("POST /reject HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
    auto rej = co_await wait_for(read_response(r2), kBound);
    CO_ASSERT_TRUE(rej.has_value());
    EXPECT_EQ(rej->status, 401);
    EXPECT_EQ(rej->headers.get("Connection", ""), "close");
    EXPECT_EQ(co_await wait_for(r2.read(), kBound), "");
  });
}

TEST(HttpServer, Http10ClosesUnlessKeepAliveAsked) {
  Application app;
  app.add_get("/", hello);
  serve(app, [](TestServer& s) -> Coro<> {
    auto [r, w] = co_await s.connect();
    w.write("GET / HTTP/1.0\r\n\r\n");
    std::string all = co_await wait_for(r.read(), kBound);  // to EOF: the server closed
    EXPECT_EQ(all.substr(0, 17), "HTTP/1.0 200 OK\r\n");
    EXPECT_NE(all.find("\r\n\r\nHello, World!"), std::string::npos);
    auto [r2, w2] = co_await s.connect();
    w2.write("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\n\r\n");
    auto a = co_await wait_for(read_response(r2), kBound);
    CO_ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->headers.get("Connection", ""), "keep-alive");
    auto b = co_await wait_for(read_response(r2), kBound);
    CO_ASSERT_TRUE(b.has_value());
    EXPECT_EQ(b->body, "Hello, World!");
    EXPECT_EQ(co_await wait_for(r2.read(), kBound), "");
  });
}

// A request the parser rejects is answered 400 and the connection closed; nothing
// after it on the connection is served.
Coro<void> check_rejected(TestServer& s, std::string raw, int status) {
  auto [r, w] = co_await s.connect();
  w.write(raw + get("/smuggled"));
  auto resp = co_await wait_for(read_response(r), kBound);
  CO_ASSERT_TRUE(resp.has_value());
  EXPECT_EQ(resp->status, status) << raw;
  EXPECT_EQ(resp->headers.get("Connection", ""), "close");
  auto next = co_await wait_for(read_response(r), kBound);
  EXPECT_FALSE(next.has_value()) << "served after a rejected request: " << raw;
}

TEST(HttpServer, MalformedAndSmugglingAttemptsAre400AndClose) {
  Application app;
  app.add_get("/", hello);
  app.add_post("/", hello);
  app.add_get("/smuggled", hello);
  app.add_post("/read", [](Request& r) -> Coro<StreamResponse> {
    std::string body = co_await r.read();
    co_return Response({.text = body});
  });
  serve(app, [](TestServer& s) -> Coro<> {
    co_await check_rejected(s, "GARBAGE\r\n\r\n", 400);
    co_await check_rejected(s, "GET / HTTP/1.1\r\n\r\n", 400);  // no Host
    co_await check_rejected(
        s, "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400);
    co_await check_rejected(s, "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde", 400);
    co_await check_rejected(s, "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked, identity\r\n\r\n", 400);
    co_await check_rejected(s, "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: xchunked\r\n\r\n", 400);
    co_await check_rejected(s, "GET / HTTP/1.1\r\nHost: t\r\nX-A: 1\r\n folded\r\n\r\n", 400);
    co_await check_rejected(s, "GET / HTTP/1.1\r\nHost: t\r\nContent-Length : 0\r\n\r\n", 400);
    co_await check_rejected(s, "GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505);
    // Bad chunk framing found while the handler reads the body.
    co_await check_rejected(s, "POST /read HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400);
  });
}

TEST(HttpServer, HandlerExceptionIs500AndTheServerGoesOn) {
  Application app;
  app.add_get("/boom", [](Request&) -> Coro<StreamResponse> {
    throw std::runtime_error("kaboom");
    co_return StreamResponse();
  });
  app.add_get("/", hello);
  std::vector<std::string> reported;
  serve(app, [&reported](TestServer& s) -> Coro<> {
    get_running_loop().set_exception_handler([&reported](EventLoop&, const ExceptionContext& ctx) {
      std::string what;
      try {
        std::rethrow_exception(ctx.exception);
      } catch (const std::exception& e) {
        what = e.what();
      }
      reported.push_back(ctx.message + ": " + what);
    });
    auto [r, w] = co_await s.connect();
    w.write(get("/boom") + get("/"));
    auto a = co_await wait_for(read_response(r), kBound);
    auto b = co_await wait_for(read_response(r), kBound);
    CO_ASSERT_TRUE(a && b);
    EXPECT_EQ(a->status, 500);
    EXPECT_EQ(a->body, "500 Internal Server Error\n\nServer got itself in trouble");
    EXPECT_EQ(b->status, 200);
    w.close();
  });
  ASSERT_EQ(reported.size(), 1u);
  EXPECT_EQ(reported[0], "Error handling request: kaboom");
}

TEST(HttpServer, HttpExceptionsAreResponses) {
  Application app;
  app.add_get("/found", [](Request&) -> Coro<StreamResponse> {
    throw HTTPFound("/elsewhere");
    co_return StreamResponse();
  });
  app.add_get("/teapot", [](Request&) -> Coro<StreamResponse> {
    throw HTTPBadRequest({.text = "no such thing"});
    co_return StreamResponse();
  });
  serve(app, [](TestServer& s) -> Coro<> {
    RawResponse f = co_await s.request(get("/found"));
    EXPECT_EQ(f.status, 302);
    EXPECT_EQ(f.headers.get("Location", ""), "/elsewhere");
    RawResponse t = co_await s.request(get("/teapot"));
    EXPECT_EQ(t.status, 400);
    EXPECT_EQ(t.body, "no such thing");
  });
  EXPECT_STREQ(HTTPNotFound().what(), "Not Found");
  EXPECT_EQ(HTTPNotFound().status(), 404);
  EXPECT_THROW(HTTPFound(""), ValueError);
}

TEST(HttpServer, SlowClientHitsTheHeaderTimeout) {
  Application app;
  app.add_get("/", hello);
  RunnerOptions o{.access_log = nullptr};
  o.read_timeout = 5;
  serve(
      app,
      [](TestServer& s) -> Coro<> {
        EventLoop& loop = get_running_loop();
        auto conn = co_await s.connect();
        StreamReader r = conn.first;
        StreamWriter w = conn.second;
        const double t0 = loop.time();
        double closed_at = -1;
        auto until_eof = [&]() -> Coro<std::string> {
          std::string got = co_await r.read();
          closed_at = loop.time();
          co_return got;
        };
        Task<std::string> eof = create_task(until_eof());
        // One byte a second: the head is never complete within 5 s.
        const std::string head = get("/");
        for (char c : head) {
          if (eof.done()) break;
          try {
            w.write(std::string(1, c));
          } catch (const std::exception&) {
            break;
          }
          co_await sleep(1);
        }
        EXPECT_EQ(co_await wait_for(eof, kBound), "");  // closed without an answer
        const double took = closed_at - t0;
        EXPECT_GE(took, 5.0);
        EXPECT_LE(took, 6.5);
      },
      o, true);
}

TEST(HttpServer, IdleKeepAliveConnectionClosesAfterKeepaliveTimeout) {
  Application app;
  app.add_get("/", hello);
  RunnerOptions o{.access_log = nullptr};
  o.keepalive_timeout = 75;
  serve(
      app,
      [](TestServer& s) -> Coro<> {
        EventLoop& loop = get_running_loop();
        auto [r, w] = co_await s.connect();
        w.write(get("/"));
        auto resp = co_await wait_for(read_response(r), 200);
        CO_ASSERT_TRUE(resp.has_value());
        const double t0 = loop.time();
        std::string rest = co_await wait_for(r.read(), 200);
        EXPECT_EQ(rest, "");
        EXPECT_NEAR(loop.time() - t0, 75.0, 0.5);
      },
      o, true);
}

TEST(HttpServer, GracefulShutdownLetsARequestInFlightFinish) {
  Application app;
  app.add_get("/slow", [](Request&) -> Coro<StreamResponse> {
    co_await sleep(3);
    co_return Response({.text = "done"});
  });
  app.add_get("/", hello);
  std::vector<std::string> order;
  app.on_shutdown.push_back([&order](Application&) -> Coro<void> {
    order.push_back("shutdown");
    co_return;
  });
  app.on_cleanup.push_back([&order](Application&) -> Coro<void> {
    order.push_back("cleanup");
    co_return;
  });
  auto main_ = [&]() -> Coro<> {
    EventLoop& loop = get_running_loop();
    TestServer s(app);
    co_await s.start();
    auto [r, w] = co_await s.connect();
    auto [ri, wi] = co_await s.connect();  // idle: closed at once
    wi.write(get("/"));
    auto first = co_await wait_for(read_response(ri), kBound);
    CO_ASSERT_TRUE(first.has_value());
    w.write(get("/slow"));
    co_await sleep(0.5);
    const double t0 = loop.time();
    Task<> cleanup = create_task(s.runner.cleanup());
    std::string idle_rest = co_await wait_for(ri.read(), kBound);
    EXPECT_EQ(idle_rest, "");
    EXPECT_LT(loop.time() - t0, 0.1);
    auto resp = co_await wait_for(read_response(r), kBound);
    CO_ASSERT_TRUE(resp.has_value());
    EXPECT_EQ(resp->body, "done");
    EXPECT_EQ(resp->headers.get("Connection", ""), "close");
    co_await cleanup;
    EXPECT_NEAR(loop.time() - t0, 2.5, 0.1);
    order.push_back("finished");
    // Not accepting any more.
    bool refused = false;
    try {
      co_await open_connection("127.0.0.1", s.port());
    } catch (const ConnectionRefusedError&) {
      refused = true;
    }
    EXPECT_TRUE(refused);
  };
  aio::run(main_(), {.clock = aio::virtual_clock});
  EXPECT_EQ(order, (std::vector<std::string>{"shutdown", "cleanup", "finished"}));
}

TEST(HttpServer, ShutdownTimeoutCancelsWhatIsLeft) {
  Application app;
  bool cancelled = false;
  app.add_get("/forever", [&cancelled](Request&) -> Coro<StreamResponse> {
    try {
      co_await sleep(1000);
    } catch (const CancelledError&) {
      cancelled = true;
      throw;
    }
    co_return Response();
  });
  auto main_ = [&]() -> Coro<> {
    EventLoop& loop = get_running_loop();
    RunnerOptions o{.access_log = nullptr};
    o.shutdown_timeout = 2;
    TestServer s(app, o);
    co_await s.start();
    auto [r, w] = co_await s.connect();
    w.write(get("/forever"));
    co_await sleep(0.5);
    const double t0 = loop.time();
    co_await s.runner.cleanup();
    EXPECT_NEAR(loop.time() - t0, 2.0, 0.1);
    EXPECT_EQ(co_await wait_for(r.read(), kBound), "");
  };
  aio::run(main_(), {.clock = aio::virtual_clock});
  EXPECT_TRUE(cancelled);
}

// --- middlewares, hooks, state

TEST(HttpServer, MiddlewaresRunInOrderAroundHandlersAnd404s) {
  Application app;
  std::vector<std::string> trace;
  auto mw = [&trace](std::string name) {
    return [&trace, name](Request& r, const Handler& handler) -> Coro<StreamResponse> {
      trace.push_back(name + ">");
      StreamResponse resp = co_await handler(r);
      trace.push_back("<" + name);
      resp.headers().add("X-MW", name);
      co_return resp;
    };
  };
  app.middlewares.push_back(mw("a"));
  app.middlewares.push_back(mw("b"));
  app.middlewares.push_back([](Request& r, const Handler& handler) -> Coro<StreamResponse> {
    try {
      co_return co_await handler(r);
    } catch (const HTTPNotFound&) {
      co_return Response({.status = 404, .text = "custom 404"});
    }
  });
  app.add_get("/", [&trace](Request&) -> Coro<StreamResponse> {
    trace.push_back("handler");
    co_return Response({.text = "ok"});
  });
  serve(app, [](TestServer& s) -> Coro<> {
    RawResponse r = co_await s.request(get("/"));
    EXPECT_EQ(r.body, "ok");
    EXPECT_EQ(r.headers.getall("X-MW"), (std::vector<std::string_view>{"b", "a"}));
    RawResponse nf = co_await s.request(get("/missing"));
    EXPECT_EQ(nf.status, 404);
    EXPECT_EQ(nf.body, "custom 404");
  });
  EXPECT_EQ(trace, (std::vector<std::string>{"a>", "b>", "handler", "<b", "<a", "a>", "b>", "<b", "<a"}));
}

TEST(HttpServer, HooksRunInOrderAndStateIsTyped) {
  static const AppKey<std::vector<std::string>> log_key("log");
  static const AppKey<int> count_key("count");
  Application app;
  app[log_key].push_back("made");
  app.on_startup.push_back([](Application& a) -> Coro<void> {
    a[log_key].push_back("startup");
    co_return;
  });
  app.on_shutdown.push_back([](Application& a) -> Coro<void> {
    a[log_key].push_back("shutdown");
    co_return;
  });
  app.on_cleanup.push_back([](Application& a) -> Coro<void> {
    a[log_key].push_back("cleanup");
    co_return;
  });
  app.add_get("/", [](Request& r) -> Coro<StreamResponse> {
    int& n = r.app()[count_key];
    ++n;
    co_return Response({.text = std::to_string(n)});
  });
  serve(app, [&app](TestServer& s) -> Coro<> {
    EXPECT_EQ(app[log_key].back(), "startup");
    EXPECT_EQ((co_await s.request(get("/"))).body, "1");
    EXPECT_EQ((co_await s.request(get("/"))).body, "2");
    EXPECT_THROW(app.add_get("/late", hello), RuntimeError);  // frozen
  });
  EXPECT_EQ(app[log_key], (std::vector<std::string>{"made", "startup", "shutdown", "cleanup"}));
  EXPECT_EQ(app.at(count_key), 2);
  EXPECT_THROW(app.at(AppKey<int>("missing")), std::out_of_range);
}

// --- static files

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/aio_http_static_XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::system(("rm -rf " + path).c_str()); }
  void write(const std::string& rel, const std::string& data) const {
    std::ofstream(path + "/" + rel) << data;
  }
  void mkdir(const std::string& rel) const { ::mkdir((path + "/" + rel).c_str(), 0755); }
  void symlink(const std::string& target, const std::string& rel) const {
    ::symlink((path + "/" + target).c_str(), (path + "/" + rel).c_str());
  }
};

TEST(HttpServer, StaticFilesWithTraversalRejected) {
  TempDir root;
  root.mkdir("www");
  root.mkdir("www/sub");
  root.write("www/index.html", "<html>hi</html>");
  root.write("www/sub/data.json", "{\"a\":1}");
  root.write("secret.txt", "secret");
  std::string big(300000, 'x');
  for (std::size_t i = 0; i < big.size(); i += 1000) big[i] = static_cast<char>('a' + (i / 1000) % 26);
  root.write("www/big.bin", big);
  root.symlink("secret.txt", "www/link.txt");
  Application app;
  app.add_static("/static", root.path + "/www");
  serve(app, [&](TestServer& s) -> Coro<> {
    RawResponse a = co_await s.request(get("/static/index.html"));
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(a.body, "<html>hi</html>");
    EXPECT_EQ(a.headers.get("Content-Type", ""), "text/html");
    EXPECT_TRUE(a.headers.contains("Last-Modified"));
    RawResponse b = co_await s.request(get("/static/sub/data.json"));
    EXPECT_EQ(b.body, "{\"a\":1}");
    EXPECT_EQ(b.headers.get("Content-Type", ""), "application/json");
    RawResponse c = co_await s.request(get("/static/big.bin"));
    EXPECT_EQ(c.body.size(), big.size());
    EXPECT_TRUE(c.body == big);
    RawResponse nm = co_await s.request(
        get("/static/index.html", "If-Modified-Since: " + std::string(a.headers.get("Last-Modified", "")) + "\r\n"));
    EXPECT_EQ(nm.status, 304);
    EXPECT_EQ(nm.body, "");
    RawResponse old = co_await s.request(get("/static/index.html", "If-Modified-Since: Mon, 01 Jan 2001 00:00:00 GMT\r\n"));
    EXPECT_EQ(old.status, 200);
    for (const char* bad : {"/static/../secret.txt", "/static/%2e%2e/secret.txt", "/static/sub/../../secret.txt",
                            "/static/link.txt", "/static/missing.txt", "/static/..%2fsecret.txt"}) {
      RawResponse t = co_await s.request(get(bad));
      EXPECT_EQ(t.status, 404) << bad;
      EXPECT_EQ(t.body.find("secret"), std::string::npos) << bad;
    }
    // sendfile on a keep-alive connection, then more requests on it.
    auto [kr, kw] = co_await s.connect();
    kw.write(get("/static/big.bin") + get("/static/index.html"));
    auto k1 = co_await wait_for(read_response(kr), kBound);
    auto k2 = co_await wait_for(read_response(kr), kBound);
    CO_ASSERT_TRUE(k1 && k2);
    EXPECT_TRUE(k1->body == big);
    EXPECT_EQ(k2->body, "<html>hi</html>");
    kw.write(get("/static/sub/data.json"));
    auto k3 = co_await wait_for(read_response(kr), kBound);
    CO_ASSERT_TRUE(k3.has_value());
    EXPECT_EQ(k3->body, "{\"a\":1}");
    kw.close();
    EXPECT_EQ((co_await s.request(get("/static/sub"))).status, 403);
    EXPECT_EQ((co_await s.request(get("/static/"))).status, 403) << "a directory without show_index";
    EXPECT_EQ((co_await s.request(get("/static//etc/passwd"))).status, 403);
    RawResponse h = co_await s.request("HEAD /static/index.html HTTP/1.1\r\nHost: t\r\n\r\n", "HEAD");
    EXPECT_EQ(h.status, 200);
    EXPECT_EQ(h.headers.get("Content-Length", ""), "15");
    EXPECT_EQ(h.body, "");
  });
}

// Named resources and url_for, against aiohttp's own url_for of the same routes
// (python3-aiohttp, so /usr/bin/python3).
TEST(HttpServer, NamedResourcesBuildTheirUrlsAsAiohttp) {
  TempDir dir;
  Application app;
  auto h = [](Request& request) -> Coro<StreamResponse> {
    co_return Response({.text = request.app().router()["about"].url_for().str()});
  };
  app.add_get("/about", h, "about");
  app.add_get("/users/{id:\\d+}/posts/{slug}", h, "user-post");
  app.add_route("*", "/files/{tail:.*}", h, "files");
  app.router().add_static("/static", dir.path, {.name = "static"});
  // append_version: ?v= the file's hash, for a file the resource would serve.
  dir.mkdir("assets");
  dir.mkdir("assets/sub");
  dir.write("assets/app.js", "console.log('v1');\n");
  dir.write("outside.txt", "not under /assets");
  app.router().add_static("/assets", dir.path + "/assets", {.name = "assets", .append_version = true});
  app.add_routes({web_routes::get("/via-routes", h, "a.b:c-d_e")});
  UrlDispatcher& router = app.router();

  EXPECT_EQ(router["about"].name(), "about");
  EXPECT_EQ(router["user-post"].canonical(), "/users/{id:\\d+}/posts/{slug}");
  EXPECT_EQ(router.named_resources().size(), 6u);
  std::vector<std::string> ours = {
      router["user-post"].url_for({{"id", "42"}, {"slug", "a b/c?d#e%f"}}).str(),
      router["files"].url_for({{"tail", "x/y z.txt"}}).str(),
      router["static"].url_for({{"filename", "css/site one.css"}}).str(),
      router["user-post"].url_for({{"id", "1"}, {"slug", "\xC3\xA9;,=@:+&$!*()'~"}}).with_query({{"page", "2"}}).str(),
      router["about"].url_for().str(),
      router["a.b:c-d_e"].url_for().str(),
      router["assets"].url_for({{"filename", "app.js"}}).str(),
      router["assets"].url_for({{"filename", "/app.js"}}).str(),
      router["assets"].url_for({{"filename", "missing.js"}}).str(),
      router["assets"].url_for({{"filename", "sub"}}).str(),
      router["assets"].url_for({{"filename", "../outside.txt"}}).str(),
      router["static"].url_for({{"filename", "assets/app.js"}}, true).str(),
      router["assets"].url_for({{"filename", "app.js"}}, false).str()};
  const char* script = R"(
import sys
from aiohttp import web
app = web.Application()
async def h(r): pass
app.router.add_get('/about', h, name='about')
app.router.add_get(r'/users/{id:\d+}/posts/{slug}', h, name='user-post')
app.router.add_route('*', '/files/{tail:.*}', h, name='files')
app.router.add_static('/static', sys.argv[1], name='static')
app.router.add_static('/assets', sys.argv[1] + '/assets', name='assets', append_version=True)
app.router.add_get('/via-routes', h, name='a.b:c-d_e')
r = app.router
print(r['user-post'].url_for(id='42', slug='a b/c?d#e%f'))
print(r['files'].url_for(tail='x/y z.txt'))
print(r['static'].url_for(filename='css/site one.css'))
print(r['user-post'].url_for(id='1', slug='\u00e9;,=@:+&$!*()\'~').with_query({'page': '2'}))
print(r['about'].url_for())
print(r['a.b:c-d_e'].url_for())
print(r['assets'].url_for(filename='app.js'))
print(r['assets'].url_for(filename='/app.js'))
print(r['assets'].url_for(filename='missing.js'))
print(r['assets'].url_for(filename='sub'))
print(r['assets'].url_for(filename='../outside.txt'))
print(r['static'].url_for(filename='assets/app.js', append_version=True))
print(r['assets'].url_for(filename='app.js', append_version=False))
)";
  std::ofstream(dir.path + "/urls.py") << script;
  ASSERT_EQ(std::system(("/usr/bin/python3 " + dir.path + "/urls.py " + dir.path + " > " + dir.path + "/out").c_str()), 0);
  std::ifstream in(dir.path + "/out");
  std::vector<std::string> theirs;
  for (std::string line; std::getline(in, line);) theirs.push_back(line);
  EXPECT_EQ(ours, theirs);
  EXPECT_TRUE(ours[6].starts_with("/assets/app.js?v=")) << ours[6];  // a version, not two empty answers
  EXPECT_EQ(ours[8], "/assets/missing.js");

  // A missing part is Python's KeyError; names follow aiohttp's rule and are unique.
  try {
    (void)router["user-post"].url_for({{"id", "1"}});
    ADD_FAILURE() << "url_for without slug";
  } catch (const std::out_of_range& e) {
    EXPECT_STREQ(e.what(), "'slug'");
  }
  EXPECT_THROW((void)router["nowhere"], std::out_of_range);
  try {
    app.add_get("/other", h, "about");
    ADD_FAILURE() << "a duplicate name was taken";
  } catch (const ValueError& e) {
    EXPECT_STREQ(e.what(), "Duplicate 'about', already handled by '/about'");
  }
  for (const char* bad : {"has space", "1st", "a..b", "-x", "x/y"}) EXPECT_THROW(app.add_get("/bad", h, bad), ValueError) << bad;

  // In a handler, through request.app().
  aio::run([&]() -> Coro<> {
    TestServer ts(app);
    co_await ts.start();
    RawResponse r = co_await ts.request("GET /via-routes HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(r.body, "/about");
  }());
}

TEST(HttpServer, StaticShowIndexListsADirectoryAsAiohttp) {
  TempDir root;
  root.mkdir("www");
  root.mkdir("www/sub dir");
  root.write("www/b.txt", "b");
  root.write("www/a<&>.html", "a");
  root.write("www/sub dir/x.txt", "x");
  root.write("secret.txt", "secret");
  root.symlink("secret.txt", "www/link.txt");
  Application app;
  app.add_static("/static", root.path + "/www", {.show_index = true});
  serve(app, [&](TestServer& s) -> Coro<> {
    RawResponse top = co_await s.request(get("/static/"));
    EXPECT_EQ(top.status, 200);
    EXPECT_EQ(top.headers.get("Content-Type", ""), "text/html; charset=utf-8");
    EXPECT_EQ(top.body,
              "<html>\n<head>\n<title>Index of /.</title>\n</head>\n<body>\n<h1>Index of /.</h1>\n<ul>\n"
              "<li><a href=\"/static/a%3C%26%3E.html\">a&lt;&amp;&gt;.html</a></li>\n"
              "<li><a href=\"/static/b.txt\">b.txt</a></li>\n"
              "<li><a href=\"/static/link.txt\">link.txt</a></li>\n"
              "<li><a href=\"/static/sub%20dir\">sub dir/</a></li>\n"
              "</ul>\n</body>\n</html>");
    RawResponse sub = co_await s.request(get("/static/sub%20dir"));
    EXPECT_EQ(sub.status, 200);
    EXPECT_EQ(sub.body,
              "<html>\n<head>\n<title>Index of /sub dir</title>\n</head>\n<body>\n<h1>Index of /sub dir</h1>\n<ul>\n"
              "<li><a href=\"/static/sub%20dir/x.txt\">x.txt</a></li>\n"
              "</ul>\n</body>\n</html>");
    EXPECT_EQ((co_await s.request(get("/static/sub%20dir/x.txt"))).body, "x");
    // The listing follows the same rules as the files: nothing outside the directory.
    EXPECT_EQ((co_await s.request(get("/static/link.txt"))).status, 404);
    EXPECT_EQ((co_await s.request(get("/static/sub%20dir/../.."))).status, 404);
    RawResponse h = co_await s.request("HEAD /static/ HTTP/1.1\r\nHost: t\r\n\r\n", "HEAD");
    EXPECT_EQ(h.status, 200);
    EXPECT_EQ(h.body, "");
  });
  // At the root prefix "/": every path is the directory's, and the links start at "/".
  Application root_app;
  root_app.add_static("/", root.path + "/www", {.show_index = true});
  serve(root_app, [&](TestServer& s) -> Coro<> {
    EXPECT_EQ((co_await s.request(get("/b.txt"))).body, "b");
    EXPECT_EQ((co_await s.request(get("/sub%20dir/x.txt"))).body, "x");
    RawResponse top = co_await s.request(get("/"));
    EXPECT_EQ(top.status, 200);
    EXPECT_NE(top.body.find("<li><a href=\"/b.txt\">b.txt</a></li>"), std::string::npos) << top.body;
    EXPECT_EQ((co_await s.request(get("/../secret.txt"))).status, 404);
  });
}

TEST(HttpServer, FileRangesAndPreconditions) {
  TempDir root;
  std::string data;
  for (int i = 0; i < 1000; ++i) data += static_cast<char>('a' + i % 26);
  root.write("f.txt", data);
  root.write("empty.txt", "");
  Application app;
  app.add_get("/f", [&](Request&) -> Coro<StreamResponse> { co_return FileResponse(root.path + "/f.txt"); });
  app.add_get("/empty", [&](Request&) -> Coro<StreamResponse> { co_return FileResponse(root.path + "/empty.txt"); });
  app.add_post("/f", [&](Request&) -> Coro<StreamResponse> { co_return FileResponse(root.path + "/f.txt"); });
  serve(app, [&](TestServer& s) -> Coro<> {
    RawResponse whole = co_await s.request(get("/f"));
    EXPECT_EQ(whole.status, 200);
    EXPECT_EQ(whole.body, data);
    EXPECT_EQ(whole.headers.get("Accept-Ranges", ""), "bytes");
    const std::string etag(whole.headers.get("ETag", ""));
    const std::string modified(whole.headers.get("Last-Modified", ""));
    struct stat st {};
    CO_ASSERT_TRUE(::stat((root.path + "/f.txt").c_str(), &st) == 0);
    char want[64];
    std::snprintf(want, sizeof want, "\"%llx-%llx\"",
                  static_cast<unsigned long long>(st.st_mtim.tv_sec) * 1000000000ull + static_cast<unsigned long long>(st.st_mtim.tv_nsec),
                  static_cast<unsigned long long>(st.st_size));
    EXPECT_EQ(etag, want);

    // One range, in each form; the end past the file is clamped.
    const auto range = [&](std::string spec, std::string extra = "") -> Coro<RawResponse> {
      co_return co_await s.request(get("/f", "Range: " + spec + "\r\n" + extra));
    };
    RawResponse a = co_await range("bytes=10-19");
    EXPECT_EQ(a.status, 206);
    EXPECT_EQ(a.reason, "Partial Content");
    EXPECT_EQ(a.body, data.substr(10, 10));
    EXPECT_EQ(a.headers.get("Content-Range", ""), "bytes 10-19/1000");
    EXPECT_EQ(a.headers.get("Content-Length", ""), "10");
    EXPECT_EQ(a.headers.get("ETag", ""), etag);
    RawResponse b = co_await range("bytes=990-");
    EXPECT_EQ(b.status, 206);
    EXPECT_EQ(b.body, data.substr(990));
    EXPECT_EQ(b.headers.get("Content-Range", ""), "bytes 990-999/1000");
    RawResponse c = co_await range("bytes=-5");
    EXPECT_EQ(c.body, data.substr(995));
    EXPECT_EQ(c.headers.get("Content-Range", ""), "bytes 995-999/1000");
    RawResponse d = co_await range("bytes=-5000");
    EXPECT_EQ(d.status, 206);
    EXPECT_EQ(d.body, data);
    RawResponse e = co_await range("bytes=900-5000");
    EXPECT_EQ(e.body, data.substr(900));
    EXPECT_EQ(e.headers.get("Content-Range", ""), "bytes 900-999/1000");
    RawResponse f = co_await range("bytes=999-999");
    EXPECT_EQ(f.body, "l");  // 999 % 26 == 11
    RawResponse g = co_await range("bytes=998-99999999999999999999999");  // past 64 bits
    EXPECT_EQ(g.status, 206);
    EXPECT_EQ(g.body, data.substr(998));
    EXPECT_EQ((co_await range("bytes=-99999999999999999999999")).body, data);
    RawResponse spaced = co_await range("Bytes = 1-2");
    EXPECT_EQ(spaced.status, 206);
    EXPECT_EQ(spaced.body, data.substr(1, 2));

    // Unsatisfiable or malformed: 416 with the size, and no body.
    for (const char* bad : {"bytes=1000-", "bytes=20-10", "bytes=-0", "bytes=abc", "bytes=-", "bytes=5", "bytes=99999999999999999999999-"}) {
      RawResponse t = co_await range(bad);
      EXPECT_EQ(t.status, 416) << bad;
      EXPECT_EQ(t.headers.get("Content-Range", ""), "bytes */1000") << bad;
      EXPECT_EQ(t.body, "") << bad;
    }
    EXPECT_EQ((co_await s.request(get("/empty", "Range: bytes=0-\r\n"))).status, 416);
    // Several ranges, or another unit: the whole file.
    for (const char* ignored : {"bytes=0-1,5-6", "items=0-1"}) {
      RawResponse t = co_await range(ignored);
      EXPECT_EQ(t.status, 200) << ignored;
      EXPECT_EQ(t.body, data) << ignored;
    }
    // If-Range: the range applies while the tag or the date still holds.
    EXPECT_EQ((co_await range("bytes=0-3", "If-Range: " + etag + "\r\n")).status, 206);
    EXPECT_EQ((co_await range("bytes=0-3", "If-Range: " + modified + "\r\n")).status, 206);
    RawResponse stale = co_await range("bytes=0-3", "If-Range: \"other\"\r\n");
    EXPECT_EQ(stale.status, 200);
    EXPECT_EQ(stale.body, data);
    EXPECT_EQ((co_await range("bytes=0-3", "If-Range: W/" + etag + "\r\n")).status, 200);
    EXPECT_EQ((co_await range("bytes=0-3", "If-Range: Mon, 01 Jan 2001 00:00:00 GMT\r\n")).status, 200);
    // HEAD: the range's head, no body.
    RawResponse h = co_await s.request("HEAD /f HTTP/1.1\r\nHost: t\r\nRange: bytes=0-9\r\n\r\n", "HEAD");
    EXPECT_EQ(h.status, 200);
    EXPECT_EQ(h.headers.get("Content-Length", ""), "1000");
    EXPECT_EQ(h.body, "");

    // If-None-Match (weak comparison) and If-Modified-Since: 304 with the tag.
    const std::vector<std::string> matching{etag, "W/" + etag, "\"x\", " + etag, "*"};
    for (const std::string& inm : matching) {
      RawResponse t = co_await s.request(get("/f", "If-None-Match: " + inm + "\r\n"));
      EXPECT_EQ(t.status, 304) << inm;
      EXPECT_EQ(t.headers.get("ETag", ""), etag);
      EXPECT_EQ(t.body, "");
    }
    RawResponse changed = co_await s.request(get("/f", "If-None-Match: \"x\"\r\nIf-Modified-Since: " + modified + "\r\n"));
    EXPECT_EQ(changed.status, 200) << "If-None-Match decides, not the date";
    RawResponse empty_inm = co_await s.request(get("/f", "If-None-Match: \r\nIf-Modified-Since: " + modified + "\r\n"));
    EXPECT_EQ(empty_inm.status, 304) << "an empty If-None-Match is no header: the date decides";
    EXPECT_EQ(changed.body, data);
    // If-Match (strong) and If-Unmodified-Since: 412 when they fail.
    EXPECT_EQ((co_await s.request(get("/f", "If-Match: " + etag + "\r\n"))).status, 200);
    EXPECT_EQ((co_await s.request(get("/f", "If-Match: *\r\n"))).status, 200);
    const std::vector<std::string> failing{"\"x\"", "W/" + etag};
    for (const std::string& im : failing) {
      RawResponse t = co_await s.request(get("/f", "If-Match: " + im + "\r\n"));
      EXPECT_EQ(t.status, 412) << im;
      EXPECT_EQ(t.body, "");
    }
    EXPECT_EQ((co_await s.request(get("/f", "If-Unmodified-Since: Mon, 01 Jan 2001 00:00:00 GMT\r\n"))).status, 412);
    EXPECT_EQ((co_await s.request(get("/f", "If-Unmodified-Since: " + modified + "\r\n"))).status, 200);
    EXPECT_EQ((co_await s.request(get("/f", "If-Unmodified-Since: not a date\r\n"))).status, 200);
    EXPECT_EQ((co_await s.request(get("/f", "If-Match: " + etag + "\r\nIf-Unmodified-Since: Mon, 01 Jan 2001 00:00:00 GMT\r\n"))).status,
              200)
        << "If-Match decides, not the date";
    // Another method: a matching If-None-Match fails with 412; Range is ignored.
    const std::string post = "POST /f HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n";
    EXPECT_EQ((co_await s.request(post + "If-None-Match: " + etag + "\r\n\r\n")).status, 412);
    RawResponse pr = co_await s.request(post + "Range: bytes=0-1\r\n\r\n");
    EXPECT_EQ(pr.status, 200);
    EXPECT_EQ(pr.body, data);

    // Ranges on one keep-alive connection, sent with sendfile from their offsets.
    auto [kr, kw] = co_await s.connect();
    kw.write(get("/f", "Range: bytes=500-509\r\n") + get("/f", "Range: bytes=-3\r\n") + get("/f"));
    auto k1 = co_await wait_for(read_response(kr), kBound);
    auto k2 = co_await wait_for(read_response(kr), kBound);
    auto k3 = co_await wait_for(read_response(kr), kBound);
    CO_ASSERT_TRUE(k1 && k2 && k3);
    EXPECT_EQ(k1->body, data.substr(500, 10));
    EXPECT_EQ(k2->body, data.substr(997));
    EXPECT_EQ(k3->body, data);
    kw.close();
  });
}

TEST(HttpServer, RequestConditionalHeadersAndRange) {
  Application app;
  app.add_get("/h", [](Request& r) -> Coro<StreamResponse> {
    const auto time = [](std::optional<double> t) { return t ? std::to_string(static_cast<long long>(*t)) : std::string("-"); };
    const auto tags = [](const std::optional<std::vector<ETag>>& v) {
      if (!v) return std::string("-");
      std::string out = "[";
      for (const ETag& t : *v) out += (t.is_weak ? "W:" : "") + t.value + ";";
      return out + "]";
    };
    std::string range;
    try {
      const HttpRange h = r.http_range();
      range = (h.start ? std::to_string(*h.start) : "None") + ":" + (h.stop ? std::to_string(*h.stop) : "None");
    } catch (const ValueError& e) {
      range = std::string("ValueError ") + e.what();
    }
    co_return Response({.text = time(r.if_modified_since()) + " " + time(r.if_unmodified_since()) + " " + time(r.if_range()) +
                                " " + tags(r.if_match()) + " " + tags(r.if_none_match()) + " " + range});
  });
  serve(app, [](TestServer& s) -> Coro<> {
    RawResponse none = co_await s.request(get("/h"));
    EXPECT_EQ(none.body, "- - - - - None:None");
    RawResponse all = co_await s.request(
        get("/h",
            "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\nIf-Unmodified-Since: Thu, 01 Jan 1970 00:00:10 GMT\r\n"
            "If-Range: not a date\r\nIf-Match: \"a\", W/\"b\"\r\nIf-None-Match: *\r\nRange: bytes=10-19\r\n"));
    EXPECT_EQ(all.body, "784111777 10 - [a;W:b;] [*;] 10:20");
    const std::vector<std::pair<std::string, std::string>> cases{
        {"If-Match: \"a\", bad, \"c\"", "[a;]"},  // a malformed tag ends the list
        {"If-Match: \"\"", "[;]"},
        {"If-Match: W/\"x\" , \"y\"", "[W:x;y;]"},
        {"If-Match: \"a\", , \"b\"", "[a;b;]"},
        {"If-Match: ", "-"},  // empty: no header, as aiohttp
    };
    for (const auto& [header, want] : cases) {
      RawResponse t = co_await s.request(get("/h", header + "\r\n"));
      EXPECT_EQ(t.body, "- - - " + want + " - None:None") << header;
    }
    const std::vector<std::pair<std::string, std::string>> ranges{
        {"bytes=0-0", "0:1"},
        {"bytes=500-", "500:None"},
        {"bytes=-500", "-500:None"},
        {"bytes=5-4", "ValueError start cannot be after end"},
        {"bytes=-", "ValueError No start or end of range specified"},
        {"bytes=1-2,4-5", "ValueError range not in acceptable format"},
        {"items=1-2", "ValueError range not in acceptable format"},
        {"bytes=a-b", "ValueError range not in acceptable format"},
        {"bytes=99999999999999999999-", "ValueError range not in acceptable format"},
    };
    for (const auto& [header, want] : ranges) {
      RawResponse t = co_await s.request(get("/h", "Range: " + header + "\r\n"));
      EXPECT_EQ(t.body, "- - - - - " + want) << header;
    }
  });
}

TEST(HttpServer, FilePrecompressedSiblings) {
  TempDir root;
  const std::string page(5000, 'p');
  ZLibCompressor gz("gzip");
  std::string page_gz = gz.compress(page);
  page_gz += gz.flush(ZLibCompressor::Flush::finish);
  root.write("page.html", page);
  root.write("page.html.gz", page_gz);
  root.write("page.html.br", "not really brotli");  // served as bytes: the server does not decode
  root.write("only.txt.gz", page_gz);               // no uncompressed original
  root.write("secret.gz", "outside");
  root.write("linked.txt", "plain");
  root.symlink("secret.gz", "linked.txt.gz");
  Application app;
  app.add_get("/{name}", [&](Request& r) -> Coro<StreamResponse> {
    co_return FileResponse(root.path + "/" + r.match_info()["name"]);
  });
  serve(app, [&](TestServer& s) -> Coro<> {
    RawResponse a = co_await s.request(get("/page.html", "Accept-Encoding: gzip, deflate\r\n"));
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(a.headers.get("Content-Encoding", ""), "gzip");
    EXPECT_EQ(a.headers.get("Vary", ""), "Accept-Encoding");
    EXPECT_EQ(a.headers.get("Content-Type", ""), "text/html");
    EXPECT_EQ(a.headers.get("Content-Length", ""), std::to_string(page_gz.size()));
    ZLibDecompressor d("gzip");
    EXPECT_EQ(d.decompress(a.body), page);
    RawResponse plain = co_await s.request(get("/page.html"));
    EXPECT_FALSE(plain.headers.contains("Content-Encoding"));
    EXPECT_EQ(plain.body, page);
    EXPECT_NE(plain.headers.get("ETag", ""), a.headers.get("ETag", "")) << "each variant has its own tag";
    RawResponse nm = co_await s.request(
        get("/page.html", "Accept-Encoding: gzip\r\nIf-None-Match: " + std::string(a.headers.get("ETag", "")) + "\r\n"));
    EXPECT_EQ(nm.status, 304);
    EXPECT_EQ(nm.headers.get("Vary", ""), "Accept-Encoding");
    EXPECT_EQ((co_await s.request(get("/page.html", "If-None-Match: " + std::string(a.headers.get("ETag", "")) + "\r\n"))).status, 200)
        << "the plain file's tag is not the compressed one's";
    RawResponse br = co_await s.request(get("/page.html", "Accept-Encoding: gzip, br\r\n"));
    EXPECT_EQ(br.headers.get("Content-Encoding", ""), "br");
    EXPECT_EQ(br.body, "not really brotli");
    RawResponse refused = co_await s.request(get("/page.html", "Accept-Encoding: br;q=0, GZIP;q=0.000, deflate\r\n"));
    EXPECT_FALSE(refused.headers.contains("Content-Encoding"));
    EXPECT_EQ(refused.body, page);
    RawResponse weighted = co_await s.request(get("/page.html", "Accept-Encoding: gzip;q=0.5\r\n"));
    EXPECT_EQ(weighted.headers.get("Content-Encoding", ""), "gzip");
    RawResponse part = co_await s.request(get("/page.html", "Accept-Encoding: gzip\r\nRange: bytes=0-9\r\n"));
    EXPECT_EQ(part.status, 206);
    EXPECT_EQ(part.body, page_gz.substr(0, 10)) << "a range of the compressed bytes";
    RawResponse only = co_await s.request(get("/only.txt", "Accept-Encoding: gzip\r\n"));
    EXPECT_EQ(only.status, 200);
    EXPECT_EQ(only.headers.get("Content-Type", ""), "text/plain");
    EXPECT_EQ(only.body, page_gz);
    EXPECT_EQ((co_await s.request(get("/only.txt"))).status, 404);
    RawResponse linked = co_await s.request(get("/linked.txt", "Accept-Encoding: gzip\r\n"));
    EXPECT_FALSE(linked.headers.contains("Content-Encoding")) << "a symlinked sibling is not followed";
    EXPECT_EQ(linked.body, "plain");
  });
}

// --- streamed responses

TEST(HttpServer, StreamResponseIsChunkedWithoutLength) {
  Application app;
  app.add_get("/stream", [](Request& r) -> Coro<StreamResponse> {
    StreamResponse resp;
    resp.set_content_type("text/plain");
    resp.set_cookie("k", "v", {.httponly = true});
    co_await resp.prepare(r);
    for (int i = 0; i < 3; ++i) co_await resp.write("part" + std::to_string(i) + ";");
    co_await resp.write_eof();
    co_return resp;
  });
  app.add_get("/length", [](Request& r) -> Coro<StreamResponse> {
    StreamResponse resp;
    resp.set_content_length(6);
    co_await resp.prepare(r);
    co_await resp.write("abc");
    co_await resp.write("def");
    co_return resp;  // write_eof by the server
  });
  app.add_get("/gzip", [](Request&) -> Coro<StreamResponse> {
    Response resp({.text = std::string(1000, 'z')});
    resp.enable_compression();
    co_return resp;
  });
  serve(app, [](TestServer& s) -> Coro<> {
    RawResponse a = co_await s.request(get("/stream"));
    EXPECT_EQ(a.headers.get("Transfer-Encoding", ""), "chunked");
    EXPECT_FALSE(a.headers.contains("Content-Length"));
    EXPECT_EQ(a.body, "part0;part1;part2;");
    EXPECT_EQ(a.headers.get("Set-Cookie", ""), "k=v; HttpOnly; Path=/");
    RawResponse b = co_await s.request(get("/length"));
    EXPECT_EQ(b.headers.get("Content-Length", ""), "6");
    EXPECT_EQ(b.body, "abcdef");
    RawResponse c = co_await s.request(get("/gzip", "Accept-Encoding: gzip, deflate\r\n"));
    EXPECT_EQ(c.headers.get("Content-Encoding", ""), "gzip");
    ZLibDecompressor d("gzip");
    EXPECT_EQ(d.decompress(c.body), std::string(1000, 'z'));
    RawResponse plain = co_await s.request(get("/gzip"));
    EXPECT_FALSE(plain.headers.contains("Content-Encoding"));
    // A coding with q=0 is refused (RFC 9110 section 12.5.3): the next one, or none.
    RawResponse deflated = co_await s.request(get("/gzip", "Accept-Encoding: gzip;q=0, deflate\r\n"));
    EXPECT_EQ(deflated.headers.get("Content-Encoding", ""), "deflate");
    ZLibDecompressor dd("deflate");
    EXPECT_EQ(dd.decompress(deflated.body), std::string(1000, 'z'));
    RawResponse refused = co_await s.request(get("/gzip", "Accept-Encoding: gzip; q=0.0, x-gzip\r\n"));
    EXPECT_FALSE(refused.headers.contains("Content-Encoding"));
    EXPECT_EQ(refused.body, std::string(1000, 'z'));
    EXPECT_EQ(plain.body.size(), 1000u);
  });
}

TEST(HttpServer, StreamedCompressionAndHttp10StreamUntilClose) {
  Application app;
  app.add_get("/z", [](Request& r) -> Coro<StreamResponse> {
    StreamResponse resp;
    resp.enable_compression();
    resp.del_cookie("old");
    co_await resp.prepare(r);
    for (int i = 0; i < 50; ++i) co_await resp.write("line " + std::to_string(i) + "\n");
    co_await resp.write_eof();
    co_return resp;
  });
  app.add_get("/deflate", [](Request&) -> Coro<StreamResponse> {
    Response resp({.text = std::string(500, 'q')});
    resp.enable_compression(ContentCoding::deflate);
    co_return resp;
  });
  serve(app, [](TestServer& s) -> Coro<> {
    std::string expected;
    for (int i = 0; i < 50; ++i) expected += "line " + std::to_string(i) + "\n";
    RawResponse a = co_await s.request(get("/z", "Accept-Encoding: gzip\r\n"));
    EXPECT_EQ(a.headers.get("Content-Encoding", ""), "gzip");
    EXPECT_EQ(a.headers.get("Transfer-Encoding", ""), "chunked");
    EXPECT_EQ(a.headers.get("Set-Cookie", ""), "old=\"\"; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/");
    ZLibDecompressor gz("gzip");
    EXPECT_EQ(gz.decompress(a.body), expected);
    RawResponse b = co_await s.request(get("/deflate"));  // forced, whatever the request says
    EXPECT_EQ(b.headers.get("Content-Encoding", ""), "deflate");
    ZLibDecompressor df("deflate");
    EXPECT_EQ(df.decompress(b.body), std::string(500, 'q'));
    // HTTP/1.0 has no chunked coding: the body runs until the server closes.
    auto [r, w] = co_await s.connect();
    w.write("GET /z HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    std::string all = co_await wait_for(r.read(), kBound);
    EXPECT_EQ(all.find("Transfer-Encoding"), std::string::npos);
    EXPECT_EQ(all.find("Connection: keep-alive"), std::string::npos);
    EXPECT_EQ(all.substr(all.find("\r\n\r\n") + 4), expected);
  });
}

// --- access log

TEST(HttpServer, AccessLogInAiohttpsDefaultFormat) {
  Application app;
  app.add_get("/", hello);
  std::vector<std::string> lines;
  RunnerOptions o;
  o.access_log = [&lines](std::string_view line) { lines.emplace_back(line); };
  serve(
      app,
      [](TestServer& s) -> Coro<> {
        co_await s.request(get("/?x=1", "User-Agent: ua/1\r\nReferer: http://r/\r\n"));
        co_await s.request(get("/none"));
      },
      o);
  ASSERT_EQ(lines.size(), 2u);
  // 127.0.0.1 [02/Dec/2026:21:08:30 +0000] "GET /?x=1 HTTP/1.1" 200 13 "http://r/" "ua/1"
  EXPECT_EQ(lines[0].substr(0, 11), "127.0.0.1 [");
  EXPECT_NE(lines[0].find(" +0000] \"GET /?x=1 HTTP/1.1\" 200 13 \"http://r/\" \"ua/1\""), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("\"GET /none HTTP/1.1\" 404 14 \"-\" \"-\""), std::string::npos) << lines[1];
}

// The head's views stay valid for the log when the handler leaves the body unread and
// the server drops it: the body comes after the head (another read, which once reused
// the head's bytes in the reader's buffer).
TEST(HttpServer, AccessLogNamesARequestWhoseBodyWasLeftUnread) {
  Application app;
  app.add_post("/upload/{name}", [](Request&) -> Coro<StreamResponse> { co_return Response({.text = "ignored"}); });
  std::vector<std::string> lines;
  RunnerOptions o;
  o.access_log = [&lines](std::string_view line) { lines.emplace_back(line); };
  serve(
      app,
      [](TestServer& s) -> Coro<> {
        auto [r, w] = co_await s.connect();
        w.write("POST /upload/report.txt HTTP/1.1\r\nHost: t\r\nUser-Agent: ua/2\r\nContent-Length: 6\r\n\r\n");
        co_await w.drain();
        auto first = co_await wait_for(read_response(r, "POST"), kBound);
        EXPECT_TRUE(first && first->status == 200 && first->body == "ignored");
        w.write("abcdef");  // the unread body, after the answer
        w.write(get("/next"));
        auto second = co_await wait_for(read_response(r), kBound);
        EXPECT_TRUE(second && second->status == 404);
        w.close();
      },
      o);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find("\"POST /upload/report.txt HTTP/1.1\" 200 7 \"-\" \"ua/2\""), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("\"GET /next HTTP/1.1\" 404"), std::string::npos) << lines[1];
}

TEST(HttpServer, ARunnerDroppedWithoutCleanupLeavesOpenConnectionsWorking) {
  Application app;
  app.add_get("/", hello);
  auto main_ = [&]() -> Coro<> {
    std::optional<std::pair<StreamReader, StreamWriter>> conn;
    int port = 0;
    {
      AppRunner runner(app, {.access_log = nullptr});
      co_await runner.setup();
      TCPSite site(runner, "127.0.0.1", 0);
      co_await site.start();
      port = site.port();
      conn = co_await open_connection("127.0.0.1", port);
      conn->second.write(get("/"));
      auto first = co_await wait_for(read_response(conn->first), kBound);
      CO_ASSERT_TRUE(first.has_value());
    }
    conn->second.write(get("/"));
    auto resp = co_await wait_for(read_response(conn->first), kBound);
    CO_ASSERT_TRUE(resp.has_value());
    EXPECT_EQ(resp->body, "Hello, World!");
    conn->second.close();
    bool refused = false;
    try {
      co_await open_connection("127.0.0.1", port);
    } catch (const ConnectionRefusedError&) {
      refused = true;
    }
    EXPECT_TRUE(refused);
  };
  aio::run(main_());
}

// --- sites and run_app

TEST(HttpServer, UnixSiteServes) {
  Application app;
  app.add_get("/", hello);
  const std::string path = "/tmp/aio_http_unix_" + std::to_string(::getpid()) + ".sock";
  auto main_ = [&]() -> Coro<> {
    AppRunner runner(app, {.access_log = nullptr});
    co_await runner.setup();
    UnixSite site(runner, path);
    co_await site.start();
    EXPECT_EQ(runner.addresses(), (std::vector<std::string>{"http://unix:" + path + ":"}));
    auto [r, w] = co_await open_unix_connection(path);
    w.write(get("/"));
    auto resp = co_await wait_for(read_response(r), kBound);
    CO_ASSERT_TRUE(resp.has_value());
    EXPECT_EQ(resp->body, "Hello, World!");
    w.close();
    co_await runner.cleanup();
  };
  aio::run(main_());
  ::unlink(path.c_str());
}

TEST(HttpServer, ServeAppPrintsTheBannerAndStopsGracefullyOnSigterm) {
  Application app;
  app.add_get("/slow", [](Request&) -> Coro<StreamResponse> {
    co_await sleep(0.2);
    co_return Response({.text = "slow done"});
  });
  bool cleaned = false;
  app.on_cleanup.push_back([&cleaned](Application&) -> Coro<void> {
    cleaned = true;
    co_return;
  });
  const std::string path = "/tmp/aio_http_app_" + std::to_string(::getpid()) + ".sock";
  testing::internal::CaptureStdout();
  auto main_ = [&]() -> Coro<> {
    RunAppOptions options;
    options.runner.access_log = nullptr;
    options.path = path;
    Task<> app_task = create_task(serve_app(app, "", 0, options));
    std::optional<std::pair<StreamReader, StreamWriter>> conn;
    for (int i = 0; i < 200 && !conn; ++i) {
      try {
        conn = co_await open_unix_connection(path);
      } catch (const OSError&) {
      }
      if (!conn) co_await sleep(0.01);
    }
    CO_ASSERT_TRUE(conn.has_value());
    conn->second.write(get("/slow"));
    co_await sleep(0.05);
    ::kill(::getpid(), SIGTERM);  // handled by the loop's signal handler: a graceful stop
    auto resp = co_await wait_for(read_response(conn->first), kBound);
    CO_ASSERT_TRUE(resp.has_value());
    EXPECT_EQ(resp->body, "slow done");
    co_await wait_for(app_task, kBound);
  };
  aio::run(main_(), {.clock = aio::virtual_clock});
  const std::string out = testing::internal::GetCapturedStdout();
  EXPECT_EQ(out, "======== Running on http://unix:" + path + ": ========\n(Press CTRL+C to quit)\n");
  EXPECT_TRUE(cleaned);
  ::unlink(path.c_str());
}

// --- the seeds' local stand-in services (examples/http/local_services.hpp)

TEST(HttpServer, LocalServicesAnswerAfterTheirLatencyOnTheVirtualClock) {
  Application app;
  local_services::add_routes(app, {.latency = 2.0});
  serve(
      app,
      [](TestServer& s) -> Coro<> {
        EventLoop& loop = get_running_loop();
        const double t0 = loop.time();
        std::vector<Task<RawResponse>> tasks;
        for (const auto& c : local_services::cities())
          tasks.push_back(create_task(s.request(get("/data/2.5/weather?q=" + quote(c.name, "") + "&APPID=k"))));
        std::vector<std::string> mains;
        for (auto& t : tasks) {
          RawResponse r = co_await t;
          EXPECT_EQ(r.status, 200);
          mains.push_back(nlohmann::json::parse(r.body)["weather"][0]["main"]);
        }
        EXPECT_DOUBLE_EQ(loop.time() - t0, 2.0);  // all 12 at once: one latency
        EXPECT_EQ(mains.size(), 12u);
        EXPECT_EQ(mains[0], "Clouds");
        RawResponse nf = co_await s.request(get("/data/2.5/weather?q=Atlantis&APPID=k"));
        EXPECT_EQ(nf.status, 404);
        EXPECT_EQ(nlohmann::json::parse(nf.body)["message"], "city not found");
        RawResponse rd = co_await s.request(get("/r/python/top.json?sort=top&t=day&limit=5"));
        auto j = nlohmann::json::parse(rd.body);
        EXPECT_EQ(j["data"]["children"].size(), 5u);
        EXPECT_TRUE(j["data"]["children"][0]["data"].contains("score"));
        RawResponse page = co_await s.request(get("/page/3"));
        EXPECT_EQ(page.headers.get("Content-Type", ""), "text/html; charset=utf-8");
        EXPECT_NE(page.body.find("href=\"/page/4\""), std::string::npos);
        EXPECT_EQ((co_await s.request(get("/missing/3"))).status, 404);
      },
      {.access_log = nullptr}, true);
}

}  // namespace
}  // namespace aio::http
