// Class-based views (aiohttp's web.View): a member per method, 405 with Allow for the
// others. The same views served by aio and by aiohttp (python3-aiohttp) answer the
// same requests alike.
#include <string>
#include <utility>
#include <vector>

#include "aio/http.hpp"
#include "support/aio_test.hpp"
#include "support/http_serve.hpp"
#include "support/python_peer.hpp"

namespace aio::http {
namespace {

constexpr double kBound = 20;  // seconds: only a hung test reaches it

struct Users : View {
  using View::View;
  Coro<StreamResponse> get() { co_return Response({.text = "all users"}); }
  Coro<StreamResponse> post() {
    std::string body = co_await request().text();
    co_return Response({.status = 201, .text = "created " + body});
  }
};

struct Item : View {
  using View::View;
  Coro<StreamResponse> get() { co_return Response({.text = "item " + request().match_info().getone("id")}); }
  Coro<StreamResponse> head() { co_return Response({.text = ""}); }
  Coro<StreamResponse> delete_() { co_return Response({.text = "deleted " + request().match_info().getone("id")}); }
  Coro<StreamResponse> put() { throw HTTPConflict(); }
};

// A view that answers nothing: every method is 405, with an empty Allow.
struct Nothing : View {
  using View::View;
};

const std::string kAiohttp = std::string(test::kServeAiohttp) + R"(
class Users(web.View):
    async def get(self):
        return web.Response(text='all users')
    async def post(self):
        body = await self.request.text()
        return web.Response(status=201, text='created ' + body)

class Item(web.View):
    async def get(self):
        return web.Response(text='item ' + self.request.match_info['id'])
    async def head(self):
        return web.Response(text='')
    async def delete(self):
        return web.Response(text='deleted ' + self.request.match_info['id'])
    async def put(self):
        raise web.HTTPConflict()

class Nothing(web.View):
    pass

app = web.Application()
app.router.add_view('/users', Users)
app.add_routes([web.view('/items/{id}', Item)])
app.router.add_view('/nothing', Nothing)
asyncio.run(serve_forever(app))
)";

// What a server answers each request: status, Allow and body.
Coro<std::vector<std::string>> ask(ClientSession& session, std::string base) {
  std::vector<test::Ask> asks;
  for (const char* method : {"GET", "POST", "PUT", "HEAD", "PROPFIND"}) asks.push_back({method, "/users"});
  for (const char* method : {"GET", "HEAD", "DELETE", "PUT", "POST", "OPTIONS"}) asks.push_back({method, "/items/7"});
  asks.push_back({"GET", "/nothing"});
  for (test::Ask& ask : asks) {
    if (ask.method == "POST") ask.data = "ann";
  }
  std::vector<std::pair<std::string, std::string>> shown{{"allow", "Allow"}};
  co_return co_await test::answers(session, std::move(base), std::move(asks), std::move(shown), kBound);
}

TEST(HttpViews, ClassBasedViewsAnswerAsAiohttpsDo) {
  Application app;
  app.add_view<Users>("/users");
  app.add_routes({web_routes::view<Item>("/items/{id}")});
  app.router().add_view<Nothing>("/nothing", "nothing");
  std::vector<std::string> ours, theirs;
  test::serve_app(app, [&](std::string base) -> Coro<> {
    ClientSession session;
    ours = co_await ask(session, base);
    test::PythonServer peer = co_await test::PythonServer::start(kAiohttp);
    theirs = co_await ask(session, "http://127.0.0.1:" + peer.line);
    co_await session.close();
    co_await peer.stop();
  });
  EXPECT_EQ(ours, theirs);
  // Not two empty answers: a few of the lines spelled out.
  ASSERT_EQ(ours.size(), 12u);
  EXPECT_EQ(ours[1], "POST /users -> 201 allow= | created ann");
  EXPECT_EQ(ours[2].substr(0, 37), "PUT /users -> 405 allow=GET,POST | 40");
  EXPECT_EQ(ours[7], "DELETE /items/7 -> 200 allow= | deleted 7");
  EXPECT_EQ(app.router()["nothing"].url_for().str(), "/nothing");
}

}  // namespace
}  // namespace aio::http
