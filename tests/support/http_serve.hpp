// Serves an aio::http application on 127.0.0.1 (a free port) for the length of a
// coroutine: body(base) gets "http://127.0.0.1:PORT" and runs on aio::run's loop.
// answers() puts a list of requests to a server, for tests that compare two servers'
// answers (aio's and aiohttp's) line by line.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "aio/aio.hpp"
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

// One request of answers().
struct Ask {
  Ask(std::string method_, std::string path_, std::string data_ = {}, http::CIMultiDict headers_ = {})
      : method(std::move(method_)), path(std::move(path_)), data(std::move(data_)), headers(std::move(headers_)) {}
  std::string method;
  std::string path;
  std::string data;           // the body, when not empty
  http::CIMultiDict headers;  // sent with it (a Host replaces the URL's)
};

// What the server at `base` answers each request, one line each: "METHOD PATH ->
// STATUS", then " LABEL=VALUE" for each {label, header name} of `shown` (the value ""
// when the header is absent), then " | BODY". Each request and body within `bound`
// seconds.
inline Coro<std::vector<std::string>> answers(http::ClientSession& session, std::string base, std::vector<Ask> asks,
                                              std::vector<std::pair<std::string, std::string>> shown,
                                              double bound = 20) {
  std::vector<std::string> out;
  for (const Ask& ask : asks) {
    http::RequestOptions options;
    if (!ask.data.empty()) options.data = ask.data;
    options.headers = ask.headers;
    http::ClientResponse r = co_await wait_for(session.request(ask.method, base + ask.path, options), bound);
    std::string body = co_await wait_for(r.text(), bound);
    std::string line = ask.method + " " + ask.path + " -> " + std::to_string(r.status());
    for (const auto& [label, name] : shown) line += " " + label + "=" + std::string(r.header(name).value_or(""));
    out.push_back(line + " | " + body);
  }
  co_return out;
}

}  // namespace aio::test
