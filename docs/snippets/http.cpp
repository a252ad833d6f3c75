// Guide, "HTTP": an aiohttp-style web application on 127.0.0.1, fetched by a
// ClientSession: three GETs under gather, then a POST of JSON.
// test: stdout Hello, Ann!
// test: stdout Hello, Bob!
// test: stdout Hello, Cy!
// test: stdout 200 {"sum":5}
// test: stdout 404 Not Found
#include <cstdio>
#include <string>
#include <vector>

#include <aio/aio.hpp>
#include <aio/http.hpp>

// [snippet]
namespace web = aio::http::web;

aio::Coro<web::StreamResponse> hello(web::Request& request) {
  std::string name = request.match_info()["name"];
  co_return web::Response({.text = "Hello, " + name + "!"});
}

aio::Coro<web::StreamResponse> add(web::Request& request) {
  nlohmann::json data = co_await request.json();
  co_return web::json_response({{"sum", data["a"].get<int>() + data["b"].get<int>()}});
}

aio::Coro<std::string> fetch(aio::http::ClientSession& session, std::string url) {
  aio::http::ClientResponse resp = co_await session.get(url);
  co_return co_await resp.text();
}

aio::Coro<> main_() {
  web::Application app;
  app.add_routes({web::get("/hello/{name}", hello), web::post("/add", add)});
  web::AppRunner runner(app, {.access_log = nullptr});
  co_await runner.setup();
  web::TCPSite site(runner, "127.0.0.1", 0);   // port 0: site.port() says which
  co_await site.start();
  const std::string base = "http://127.0.0.1:" + std::to_string(site.port());

  aio::http::ClientSession session;
  std::vector<aio::Coro<std::string>> fetches;
  for (const char* name : {"Ann", "Bob", "Cy"}) fetches.push_back(fetch(session, base + "/hello/" + name));
  for (const std::string& text : co_await aio::gather(std::move(fetches))) std::puts(text.c_str());

  const nlohmann::json numbers = {{"a", 2}, {"b", 3}};
  {
    aio::http::ClientResponse resp = co_await session.post(base + "/add", {.json = numbers});
    std::printf("%d %s\n", resp.status(), (co_await resp.json()).dump().c_str());
  }
  {
    aio::http::ClientResponse resp = co_await session.get(base + "/nowhere");
    std::printf("%d %s\n", resp.status(), std::string(resp.reason()).c_str());
  }
  co_await session.close();
  co_await runner.cleanup();
}
// [/snippet]

int main() { aio::run(main_()); }
