// local_services [--port N] [--latency SECONDS] [--host H]: serves the seeds' stand-in
// web services (local_services.hpp) until Ctrl+C, as aiohttp's run_app:
//
//   ======== Running on http://127.0.0.1:8080 ========
//   (Press CTRL+C to quit)
//
// The weather seeds then fetch http://127.0.0.1:8080/data/2.5/weather?q=Moscow&APPID=x.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "local_services.hpp"

int main(int argc, char** argv) {
  int port = 8080;
  double latency = 0.0;
  std::string host = "127.0.0.1";
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--port" && i + 1 < argc) {
      port = std::atoi(argv[++i]);
    } else if (a == "--latency" && i + 1 < argc) {
      latency = std::atof(argv[++i]);
    } else if (a == "--host" && i + 1 < argc) {
      host = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--port N] [--latency SECONDS] [--host H]\n", argv[0]);
      return 2;
    }
  }
  aio::http::Application app;
  local_services::add_routes(app, {.latency = latency});
  aio::http::run_app(app, host, port);
  return 0;
}
