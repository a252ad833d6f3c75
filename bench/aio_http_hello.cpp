// aio_http_hello PORT: the HTTP benchmark's server on aio's web server
// (docs/benchmarks.md, "HTTP"). One loop, one thread, listening on 127.0.0.1:PORT:
// GET / answers 200 "Hello, World!" (text/plain, 13 bytes) with keep-alive. No access
// log. Prints "listening port=N" when ready; runs until killed.
#include <cstdio>
#include <cstdlib>

#include "aio/aio.hpp"
#include "aio/http.hpp"

namespace web = aio::http::web;

namespace {

aio::Coro<web::StreamResponse> hello(web::Request&) { co_return web::Response({.text = "Hello, World!"}); }

aio::Coro<> serve(int port) {
  web::Application app;
  app.add_get("/", hello);
  web::AppRunner runner(app, {.access_log = nullptr});
  co_await runner.setup();
  web::TCPSite site(runner, "127.0.0.1", port);
  co_await site.start();
  std::printf("listening port=%d\n", site.port());
  std::fflush(stdout);
  co_await aio::sleep(1e9);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s PORT\n", argv[0]);
    return 2;
  }
  aio::run(serve(std::atoi(argv[1])));
  return 0;
}
