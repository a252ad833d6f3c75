// Pitfalls, "Dangling references in coroutine parameters": the HTTP client's options
// are taken by reference, so a request made into a task gets named options (and named
// pairs) that live as long as the task. Runs against a local web app that echoes the
// query; AddressSanitizer would stop it at a dangling one.
// test: stdout page=1
// test: stdout page=2
// test: stdout page=3
#include <cstdio>
#include <string>

#include <aio/aio.hpp>
#include <aio/http.hpp>

// [snippet]
aio::Coro<std::string> fetch_page(aio::http::ClientSession& session, std::string url, std::string page) {
  const aio::http::MultiDict query{{"page", page}};   // in this frame: lives as long as the request
  aio::http::ClientResponse resp = co_await session.get(url, {.params = query});
  co_return co_await resp.text();
}

aio::Coro<> pages(aio::http::ClientSession& session, std::string url) {
  // Awaited in the same statement, braced options live until the co_await ends.
  const aio::http::MultiDict page1{{"page", "1"}};
  aio::http::ClientResponse first = co_await session.get(url, {.params = page1});
  std::puts((co_await first.text()).c_str());

  // Made into a task, the request runs later, after the statement's temporaries:
  //   aio::create_task(session.get(url, {.params = {{"page", "2"}}}))     dangles.
  // Name the options, and the pairs too (a braced list inside a named struct dies at
  // the end of its declaration): both must outlive the task.
  const aio::http::MultiDict query{{"page", "2"}};
  const aio::http::RequestOptions options{.params = query};
  aio::Task<aio::http::ClientResponse> second = aio::create_task(session.get(url, options));
  aio::http::ClientResponse resp = co_await second;
  std::puts((co_await resp.text()).c_str());

  // Or give the request a coroutine of its own that takes what it needs by value.
  std::puts((co_await aio::create_task(fetch_page(session, url, "3"))).c_str());
}
// [/snippet]

namespace web = aio::http::web;

int main() {
  aio::run([]() -> aio::Coro<> {
    web::Application app;
    app.add_get("/", [](web::Request& r) -> aio::Coro<web::StreamResponse> {
      co_return web::Response({.text = "page=" + std::string(r.query().get("page", "?"))});
    });
    web::AppRunner runner(app, {.access_log = nullptr});
    co_await runner.setup();
    web::TCPSite site(runner, "127.0.0.1", 0);
    co_await site.start();
    {
      aio::http::ClientSession session;
      co_await pages(session, "http://127.0.0.1:" + std::to_string(site.port()) + "/");
      co_await session.close();
    }
    co_await runner.cleanup();
  }());
}
