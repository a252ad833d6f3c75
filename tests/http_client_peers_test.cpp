// ClientSession against real servers on 127.0.0.1: nginx (static files, chunked, gzip,
// redirects, keep-alive reuse, HTTPS with a CA and certificate made at test time with
// openssl) and `python3 -m http.server` (HTTP/1.0, one response per connection).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "aio/http.hpp"
#include "support/aio_test.hpp"
#include "support/nginx.hpp"
#include "support/peer_process.hpp"

namespace aio {
namespace {

using namespace aio::http;
namespace web = aio::http::web;
constexpr double kBound = 20;  // seconds: only a hung test reaches it

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::string big_text() {
  std::string s;
  for (int i = 0; i < 4000; ++i) s += "line " + std::to_string(i) + "\n";
  return s;
}

TEST(HttpClientNginx, StaticGzipChunkedRedirectsAndKeepAlive) {
  test::Nginx nginx;
  nginx.put("hello.txt", "Hello from nginx\n");
  nginx.put("big.txt", big_text());
  nginx.put("data.json", R"({"a": [1, 2, 3]})");
  nginx.put("blob.bin", std::string(100000, '\x7f'));
  auto main_ = [&]() -> Coro<> {
    ClientSession session;
    {
      ClientResponse r = co_await wait_for(session.get(nginx.url("/static/hello.txt")), kBound);
      EXPECT_EQ(r.status(), 200);
      EXPECT_EQ(r.content_type(), "text/plain");
      EXPECT_EQ(co_await r.text(), "Hello from nginx\n");
    }
    {  // gzip on for text/plain: decoded
      ClientResponse r = co_await wait_for(session.get(nginx.url("/static/big.txt")), kBound);
      EXPECT_EQ(r.header("Content-Encoding"), "gzip");
      EXPECT_EQ(co_await r.read(), big_text());
    }
    {
      ClientResponse r = co_await wait_for(session.get(nginx.url("/static/data.json")), kBound);
      nlohmann::json j = co_await r.json();
      EXPECT_EQ(j["a"][2], 3);
    }
    {  // not gzipped: application/octet-stream
      ClientResponse r = co_await wait_for(session.get(nginx.url("/static/blob.bin")), kBound);
      EXPECT_FALSE(r.header("Content-Encoding"));
      EXPECT_EQ(co_await r.read(), std::string(100000, '\x7f'));
    }
    {  // through SSI: chunked (and gzipped)
      ClientResponse r = co_await wait_for(session.get(nginx.url("/chunked/big.txt")), kBound);
      EXPECT_EQ(r.header("Transfer-Encoding"), "chunked");
      EXPECT_EQ(co_await r.read(), big_text());
    }
    {
      ClientSession raw(ClientSession::Options{.auto_decompress = false});
      const CIMultiDict identity{{"Accept-Encoding", "identity"}};
      ClientResponse r = co_await wait_for(raw.get(nginx.url("/chunked/hello.txt"), {.headers = identity}), kBound);
      EXPECT_EQ(r.header("Transfer-Encoding"), "chunked");
      EXPECT_EQ(co_await r.read(), "Hello from nginx\n");
    }
    const std::vector<std::string> codes = {"301", "302", "307", "308"};
    for (const std::string& code : codes) {
      ClientResponse r = co_await wait_for(session.get(nginx.url("/r" + code)), kBound);
      EXPECT_EQ(r.status(), 200) << code;
      EXPECT_EQ(co_await r.text(), "Hello from nginx\n");
      CO_ASSERT_TRUE(r.history().size() == 1);
      EXPECT_EQ(r.history()[0].status(), std::stoi(code));
      EXPECT_EQ(r.url().str(), nginx.url("/static/hello.txt"));
    }
    {
      ClientResponse r = co_await wait_for(session.get(nginx.url("/static/missing")), kBound);
      EXPECT_EQ(r.status(), 404);
      try {
        r.raise_for_status();
        ADD_FAILURE() << "no error";
      } catch (const ClientResponseError& e) {
        EXPECT_EQ(std::string(e.what()), "404, message='Not Found', url='" + nginx.url("/static/missing") + "'");
      }
    }
    // Everything above was read to its end: all of it went over one connection.
    EXPECT_EQ(session.connector().statistics().connections_made, 1u);
    for (int i = 0; i < 50; ++i) {
      ClientResponse r = co_await wait_for(session.get(nginx.url("/static/hello.txt")), kBound);
      (void)co_await r.read();
    }
    EXPECT_EQ(session.connector().statistics().connections_made, 1u);
    co_await session.close();
  };
  aio::run(main_());
}

TEST(HttpClientPython, HttpServerOneResponsePerConnection) {
  char tmpl[] = "/tmp/aio-pyhttp-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  {
    std::ofstream(dir + "/page.txt") << "from python\n";
  }
  int port = 0;
  std::unique_ptr<test::PeerProcess> py;
  for (int attempt = 0; attempt < 10 && !py; ++attempt) {
    port = test::Nginx::free_port();
    py = std::make_unique<test::PeerProcess>(std::vector<std::string>{
        "python3", "-u", "-m", "http.server", std::to_string(port), "--bind", "127.0.0.1", "--directory", dir}, true);
    std::string line = py->read_line(20);  // "Serving HTTP on 127.0.0.1 port ..."
    if (!contains(line, "Serving HTTP")) py.reset();
  }
  ASSERT_TRUE(py);
  auto main_ = [&]() -> Coro<> {
    ClientSession session;
    const std::string base = "http://127.0.0.1:" + std::to_string(port);
    for (int i = 0; i < 3; ++i) {
      ClientResponse r = co_await wait_for(session.get(base + "/page.txt"), kBound);
      EXPECT_EQ(r.status(), 200);
      EXPECT_EQ(r.version(), std::make_pair(1, 0));
      EXPECT_EQ(co_await r.text(), "from python\n");
    }
    {
      ClientResponse r = co_await wait_for(session.get(base + "/"), kBound);
      EXPECT_TRUE(contains(co_await r.text(), "page.txt"));
    }
    {
      ClientResponse r = co_await wait_for(session.get(base + "/nothing"), kBound);
      EXPECT_EQ(r.status(), 404);
      (void)co_await r.read();
    }
    // HTTP/1.0 without keep-alive: a connection per response, none kept.
    EXPECT_EQ(session.connector().statistics().connections_made, 5u);
    EXPECT_EQ(session.connector().statistics().idle, 0u);
  };
  aio::run(main_());
  py.reset();
  (void)std::system(("rm -rf " + dir).c_str());
}

// --- HTTPS

const char* kMakeCertificates = R"SH(set -e
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1" 2>/dev/null; }
key ca.key
openssl req -x509 -new -key ca.key -out ca.pem -days 30 -subj "/CN=aio http test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > server.ext
key server.key
openssl req -new -key server.key -out server.csr -subj /CN=localhost
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 30 -extfile server.ext 2>/dev/null
)SH";

TEST(HttpClientNginx, HttpsVerifiesWithTheCaAndRejectsWithout) {
  char tmpl[] = "/tmp/aio-http-certs-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  {
    std::ofstream(dir + "/make.sh") << kMakeCertificates;
  }
  ASSERT_EQ(std::system(("cd " + dir + " && sh make.sh >/dev/null 2>&1").c_str()), 0);
  test::Nginx nginx(test::Nginx::Tls{dir + "/server.pem", dir + "/server.key"});
  nginx.put("hello.txt", "Hello over TLS\n");
  auto main_ = [&]() -> Coro<> {
    const std::string url = "https://127.0.0.1:" + std::to_string(nginx.tls_port()) + "/static/hello.txt";
    const std::string by_name = "https://localhost:" + std::to_string(nginx.tls_port()) + "/static/hello.txt";
    SSLContext ca = create_default_context(Purpose::SERVER_AUTH, dir + "/ca.pem");
    {
      ClientSession session;
      for (int i = 0; i < 3; ++i) {
        ClientResponse r = co_await wait_for(session.get(url, {.ssl = ca}), kBound);
        EXPECT_EQ(co_await r.text(), "Hello over TLS\n");
      }
      EXPECT_EQ(session.connector().statistics().connections_made, 1u);  // kept alive over TLS too
      ClientResponse r = co_await wait_for(session.get(by_name, {.ssl = ca}), kBound);
      EXPECT_EQ(co_await r.text(), "Hello over TLS\n");
    }
    {  // the connector's own context
      ClientSession session(ClientSession::Options{
          .connector = std::make_shared<TCPConnector>(TCPConnectorOptions{.ssl_context = ca})});
      ClientResponse r = co_await wait_for(session.get(url), kBound);
      EXPECT_EQ(r.status(), 200);
    }
    {  // the default: the system's CAs, which do not know ours
      ClientSession session;
      try {
        (void)co_await wait_for(session.get(url), kBound);
        ADD_FAILURE() << "an unknown CA was accepted";
      } catch (const ClientConnectorCertificateError& e) {
        EXPECT_EQ(e.host(), "127.0.0.1");
        EXPECT_EQ(e.port(), nginx.tls_port());
        EXPECT_TRUE(contains(e.what(), "CERTIFICATE_VERIFY_FAILED")) << e.what();
      }
      // ssl=false turns verification off, explicitly.
      ClientResponse r = co_await wait_for(session.get(url, {.ssl = false}), kBound);
      EXPECT_EQ(co_await r.text(), "Hello over TLS\n");
    }
  };
  aio::run(main_());
  (void)std::system(("rm -rf " + dir).c_str());
}

// aio's own server over TLS (TCPSite with an SSLContext), answered to our client
// with the CA (a POST, and a byte range of a file) and to curl, a real peer, with
// --cacert; without the CA both refuse.
TEST(HttpServerTls, ServesOverTlsToOurClientAndToCurl) {
  char tmpl[] = "/tmp/aio-https-server-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  {
    std::ofstream(dir + "/make.sh") << kMakeCertificates;
  }
  ASSERT_EQ(std::system(("cd " + dir + " && sh make.sh >/dev/null 2>&1").c_str()), 0);
  std::string file_data;
  for (int i = 0; i < 300000; ++i) file_data += static_cast<char>('a' + (i * 11) % 26);
  std::ofstream(dir + "/data.bin") << file_data;
  auto main_ = [&]() -> Coro<> {
    SSLContext server_ctx(PROTOCOL_TLS_SERVER);
    server_ctx.load_cert_chain(dir + "/server.pem", dir + "/server.key");
    web::Application app;
    app.add_post("/echo", [](web::Request& r) -> Coro<web::StreamResponse> {
      const std::string body = co_await r.text();
      co_return web::Response({.text = "got " + body + " over " + (r.secure() ? "https" : "http")});
    });
    app.add_get("/file", [&](web::Request&) -> Coro<web::StreamResponse> { co_return web::FileResponse(dir + "/data.bin"); });
    web::AppRunner runner(app, {.access_log = nullptr});
    co_await runner.setup();
    web::TCPSite site(runner, "127.0.0.1", 0, server_ctx);
    co_await site.start();
    const std::string url = "https://localhost:" + std::to_string(site.port()) + "/echo";
    SSLContext ca = create_default_context(Purpose::SERVER_AUTH, dir + "/ca.pem");
    {
      ClientSession session;
      for (int i = 0; i < 2; ++i) {
        ClientResponse r = co_await wait_for(session.post(url, {.data = "abc", .ssl = ca}), kBound);
        EXPECT_EQ(r.status(), 200);
        EXPECT_EQ(co_await r.text(), "got abc over https");
      }
      EXPECT_EQ(session.connector().statistics().connections_made, 1u);  // kept alive over TLS
      // A file over TLS is read and written in chunks (no sendfile): a range that
      // crosses a chunk's end comes from its offset.
      const std::string file_url = "https://localhost:" + std::to_string(site.port()) + "/file";
      const CIMultiDict range{{"Range", "bytes=1000-270999"}};
      ClientResponse part = co_await wait_for(session.get(file_url, {.headers = range, .ssl = ca}), kBound);
      EXPECT_EQ(part.status(), 206);
      EXPECT_EQ(part.header("Content-Range").value_or(""), "bytes 1000-270999/300000");
      const std::string got = co_await part.text();
      EXPECT_TRUE(got == file_data.substr(1000, 270000)) << got.size();
      try {
        (void)co_await wait_for(session.post(url, {.data = "x"}), kBound);
        ADD_FAILURE() << "our test CA was trusted by default";
      } catch (const ClientConnectorCertificateError& e) {
        EXPECT_TRUE(contains(e.what(), "CERTIFICATE_VERIFY_FAILED")) << e.what();
      }
      co_await session.close();
    }
    // curl, a real peer, in a thread of the executor (it blocks until done).
    const std::string port = std::to_string(site.port());
    auto curl = [dir, port](bool with_ca) {
      const std::string cmd = "curl -sS --max-time 20 " + std::string(with_ca ? "--cacert " + dir + "/ca.pem " : "") +
                              "--resolve localhost:" + port + ":127.0.0.1 -d hello https://localhost:" + port +
                              "/echo 2>&1";
      std::string out;
      if (FILE* p = ::popen(cmd.c_str(), "r")) {
        char buf[512];
        for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
        ::pclose(p);
      }
      return out;
    };
    EXPECT_EQ(co_await wait_for(to_thread(curl, true), kBound), "got hello over https");
    const std::string refused = co_await wait_for(to_thread(curl, false), kBound);
    EXPECT_TRUE(contains(refused, "certificate")) << refused;
    co_await runner.cleanup();
  };
  aio::run(main_());
  (void)std::system(("rm -rf " + dir).c_str());
}

}  // namespace
}  // namespace aio
