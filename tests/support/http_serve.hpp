// Serves an aio::http application on 127.0.0.1 (a free port) for the length of a
// coroutine: body(base) gets "http://127.0.0.1:PORT" and runs on aio::run's loop.
#pragma once

#include <string>

#include "aio/http.hpp"

namespace aio::test {

template <class F>
void serve_app(http::Application& app, F body) {
  auto main_ = [&]() -> Coro<> {
    http::AppRunner runner(app, {.access_log = nullptr});
    co_await runner.setup();
    http::TCPSite site(runner, "127.0.0.1", 0);
    co_await site.start();
    co_await body("http://127.0.0.1:" + std::to_string(site.port()));
    co_await runner.cleanup();
  };
  aio::run(main_());
}

}  // namespace aio::test
