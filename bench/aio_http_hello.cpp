// aio_http_hello PORT: the HTTP benchmark's server on aio's web server
// (docs/benchmarks.md, "HTTP"). One loop, one thread, listening on 127.0.0.1:PORT:
// GET / answers 200 "Hello, World!" (text/plain, 13 bytes) with keep-alive. No access
// log. Prints "listening port=N" when ready; runs until killed.
#include "aio/aio.hpp"
#include "aio/http.hpp"
#include "bench_support.hpp"

namespace web = aio::http::web;

namespace {

aio::Coro<web::StreamResponse> hello(web::Request&) { co_return web::Response({.text = "Hello, World!"}); }

}  // namespace

int main(int argc, char** argv) {
  web::Application app;
  app.add_get("/", hello);
  return bench::serve_app(argc, argv, app);
}
