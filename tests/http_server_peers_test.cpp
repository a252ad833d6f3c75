// The HTTP server against real clients on 127.0.0.1: curl (keep-alive over two URLs,
// chunked upload, 100-continue, HTTP/1.0, gzip, a byte range and a resumed download of
// a file) and wrk (a short bounded load). The
// clients run as subprocesses while the server serves on the same loop; every wait is
// bounded by a timeout only a hang reaches.
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "aio/http.hpp"
#include "support/aio_test.hpp"
#include "support/http_serve.hpp"

namespace aio::http {
namespace {

constexpr double kBound = 30;

struct ToolRun {
  int status;
  std::string out, err;
};

Coro<ToolRun> run_tool(std::string program, std::vector<std::string> args, std::optional<std::string> input = std::nullopt) {
  SubprocessOptions options;
  options.stdin = input ? PIPE : DEVNULL;
  options.stdout = PIPE;
  options.stderr = PIPE;
  Process p = co_await create_subprocess_exec(std::move(program), std::move(args), options);
  auto [out, err] = co_await wait_for(p.communicate(std::move(input)), kBound);
  co_return ToolRun{*p.returncode(), out.value_or(""), err.value_or("")};
}

Application& make_app(Application& app) {
  app.add_get("/", [](Request&) -> Coro<StreamResponse> { co_return Response({.text = "Hello, World!"}); });
  app.add_get("/two", [](Request&) -> Coro<StreamResponse> { co_return Response({.text = "second"}); });
  app.add_post("/upload", [](Request& r) -> Coro<StreamResponse> {
    std::string body = co_await r.read();
    std::string te(r.header("Transfer-Encoding").value_or("-"));
    co_return Response({.text = "got " + std::to_string(body.size()) + " te=" + te + " first=" + body.substr(0, 5)});
  });
  app.add_get("/big", [](Request&) -> Coro<StreamResponse> {
    Response resp({.text = std::string(20000, 'a')});
    resp.enable_compression();
    co_return resp;
  });
  return app;
}

template <class F>
void with_server(F body) {
  Application app;
  make_app(app);
  test::serve_app(app, body);
}

TEST(HttpServerPeers, CurlKeepAliveOverTwoUrls) {
  with_server([](std::string base) -> Coro<> {
    std::vector<std::string> args1{"-sS", "-v", base + "/", base + "/two"};
    ToolRun r = co_await run_tool("curl", args1);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "Hello, World!second");
    EXPECT_NE(r.err.find("Re-using existing connection"), std::string::npos) << r.err;
  });
}

TEST(HttpServerPeers, CurlChunkedUploadAndExpectContinue) {
  with_server([](std::string base) -> Coro<> {
    std::vector<std::string> args2{"-sS", "-T", "-", "-X", "POST", base + "/upload"};
    std::string input2(100000, 'x');
    ToolRun a = co_await run_tool("curl", args2, input2);
    EXPECT_EQ(a.status, 0) << a.err;
    EXPECT_EQ(a.out, "got 100000 te=chunked first=xxxxx");
    std::vector<std::string> args3{"-sS", "-v", "-H", "Expect: 100-continue", "--data-binary", "@-", base + "/upload"};
    std::string input3(2000, 'y');
    ToolRun b = co_await run_tool("curl", args3, input3);
    EXPECT_EQ(b.status, 0) << b.err;
    EXPECT_EQ(b.out, "got 2000 te=- first=yyyyy");
    EXPECT_NE(b.err.find("HTTP/1.1 100 Continue"), std::string::npos) << b.err;
  });
}

TEST(HttpServerPeers, CurlHttp10AndCompressed) {
  with_server([](std::string base) -> Coro<> {
    std::vector<std::string> args4{"-sS", "-i", "--http1.0", base + "/"};
    ToolRun a = co_await run_tool("curl", args4);
    EXPECT_EQ(a.status, 0) << a.err;
    EXPECT_EQ(a.out.substr(0, 15), "HTTP/1.0 200 OK");
    EXPECT_NE(a.out.find("\r\n\r\nHello, World!"), std::string::npos);
    std::vector<std::string> args5{"-sS", "-D", "/dev/stderr", "--compressed", base + "/big"};
    ToolRun b = co_await run_tool("curl", args5);
    EXPECT_EQ(b.status, 0) << b.err;
    EXPECT_EQ(b.out, std::string(20000, 'a'));
    EXPECT_NE(b.err.find("Content-Encoding: gzip"), std::string::npos) << b.err;
  });
}

TEST(HttpServerPeers, CurlRangeAndResumedDownload) {
  char dir_template[] = "/tmp/aio_http_range_XXXXXX";
  const std::string dir = ::mkdtemp(dir_template);
  std::string data;
  for (int i = 0; i < 300000; ++i) data += static_cast<char>('A' + (i * 7) % 26);
  std::ofstream(dir + "/www.bin") << data;
  std::ofstream(dir + "/part.bin") << data.substr(0, 123457);  // a download cut short
  Application app;
  app.add_get("/file", [&](Request&) -> Coro<StreamResponse> { co_return FileResponse(dir + "/www.bin"); });
  auto main_ = [&]() -> Coro<> {
    AppRunner runner(app, {.access_log = nullptr});
    co_await runner.setup();
    TCPSite site(runner, "127.0.0.1", 0);
    co_await site.start();
    const std::string url = "http://127.0.0.1:" + std::to_string(site.port()) + "/file";
    std::vector<std::string> range_args{"-sS", "-D", "/dev/stderr", "-r", "1000-1999", url};
    ToolRun a = co_await run_tool("curl", range_args);
    EXPECT_EQ(a.status, 0) << a.err;
    EXPECT_TRUE(a.out == data.substr(1000, 1000)) << a.out.size();
    EXPECT_NE(a.err.find("HTTP/1.1 206 Partial Content"), std::string::npos) << a.err;
    EXPECT_NE(a.err.find("Content-Range: bytes 1000-1999/300000"), std::string::npos) << a.err;
    // curl -C - asks for the rest of what the file already holds, and appends it.
    std::vector<std::string> resume_args{"-sS", "-C", "-", "-o", dir + "/part.bin", url};
    ToolRun b = co_await run_tool("curl", resume_args);
    EXPECT_EQ(b.status, 0) << b.err;
    std::stringstream got;
    got << std::ifstream(dir + "/part.bin").rdbuf();
    EXPECT_TRUE(got.str() == data) << got.str().size();
    co_await runner.cleanup();
  };
  aio::run(main_());
  std::system(("rm -rf " + dir).c_str());
}

TEST(HttpServerPeers, WrkShortLoadAllOkAndStillServing) {
  with_server([](std::string base) -> Coro<> {
    std::vector<std::string> args6{"-t1", "-c10", "-d1s", base + "/"};
    ToolRun w = co_await run_tool("wrk", args6);
    EXPECT_EQ(w.status, 0) << w.err;
    EXPECT_NE(w.out.find("requests in"), std::string::npos) << w.out;
    EXPECT_EQ(w.out.find("Non-2xx"), std::string::npos) << w.out;
    EXPECT_EQ(w.out.find("Socket errors"), std::string::npos) << w.out;
    std::vector<std::string> args7{"-sS", base + "/"};
    ToolRun c = co_await run_tool("curl", args7);
    EXPECT_EQ(c.out, "Hello, World!");
  });
}

}  // namespace
}  // namespace aio::http
