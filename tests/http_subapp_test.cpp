// Sub-applications (Application::add_subapp, aiohttp's add_subapp): the same tree of
// applications built in aio and in aiohttp (python3-aiohttp, /usr/bin/python3), each
// request sent to both, and their answers compared: the status, the body, the Allow
// header, and a trace of which middlewares ran and which application each saw as
// request.app. Then the hooks' order and the errors of add_subapp.
#include <fstream>
#include <string>
#include <vector>

#include "aio/http.hpp"
#include "support/aio_test.hpp"
#include "support/http_serve.hpp"
#include "support/python_peer.hpp"

namespace aio::http {
namespace {

constexpr double kBound = 20;  // seconds: only a hung test reaches it

inline const web::AppKey<std::string> name_key("name");
inline const web::AppKey<std::vector<std::string>> log_key("log");

// A middleware that notes, in the answer's X-Trace, its name and which application it
// saw as request.app() before and after the handler; `not_found`, when set, answers a
// 404 under it with its own text.
Middleware tracer(std::string name, std::string not_found = "") {
  return [name, not_found](Request& request, const Handler& handler) -> Coro<StreamResponse> {
    const std::string before = request.app()[name_key];
    std::optional<StreamResponse> response;
    try {
      response = co_await handler(request);
    } catch (const HTTPNotFound&) {
      if (not_found.empty()) throw;
    }
    if (!response) response = Response({.status = 404, .text = not_found});
    const std::string trace = name + ":" + before + "->" + request.app()[name_key];
    const auto seen = response->headers().get("X-Trace");
    response->headers().set("X-Trace", seen ? trace + " " + std::string(*seen) : trace);
    co_return std::move(*response);
  };
}

// "text APP": the handler's words and the application it runs in.
Handler says(std::string text) {
  return [text](Request& request) -> Coro<StreamResponse> {
    co_return Response({.text = text + " app=" + request.app()[name_key]});
  };
}

AppHook note(Application& root, std::string what) {
  return [&root, what](Application& app) -> Coro<void> {
    root[log_key].push_back(what + " " + app[name_key]);
    co_return;
  };
}

// The tree: root (/, /admin-not, /hooks) with admin under /admin (/, /users/{id},
// POST /users, /files/), and deep under admin's /deep (/x). aiohttp's script below
// builds the same.
struct Tree {
  Application root, admin, deep;
  std::string files;

  explicit Tree(std::string dir) : files(std::move(dir)) {
    root[name_key] = "root";
    admin[name_key] = "admin";
    deep[name_key] = "deep";
    root.middlewares.push_back(tracer("r"));
    admin.middlewares.push_back(tracer("a", "admin says 404"));
    deep.middlewares.push_back(tracer("d"));
    root.add_get("/", says("root index"));
    root.add_get("/admin-not", says("not admin"));
    root.add_get("/hooks", [this](Request&) -> Coro<StreamResponse> {
      std::string text;
      for (const std::string& line : root[log_key]) text += line + "\n";
      co_return Response({.text = text});
    });
    admin.add_get("/", says("admin index"));
    admin.add_get("/users/{id}", [this](Request& request) -> Coro<StreamResponse> {
      const std::string url = admin.router()["user"].url_for({{"id", "7"}}).str();
      co_return Response({.text = "user " + request.match_info().getone("id") + " app=" + request.app()[name_key] +
                                  " url=" + url});
    }, "user");
    admin.add_post("/users", says("created"));
    admin.add_static("/files", files, {.name = "files"});
    deep.add_get("/x", says("deep x"));
    root.on_startup.push_back(note(root, "startup 1"));
    admin.on_startup.push_back(note(root, "startup a"));
    deep.on_startup.push_back(note(root, "startup d"));
    deep.on_cleanup.push_back(note(root, "cleanup d"));
    admin.add_subapp("/deep", deep);
    root.add_subapp("/admin/", admin);  // the trailing '/' goes, as in aiohttp
    root.on_startup.push_back(note(root, "startup 2"));
    root.on_cleanup.push_back(note(root, "cleanup 1"));
  }
};

const std::string kAiohttp = std::string(test::kServeAiohttp) + R"(
import sys

def tracer(name, not_found=None):
    @web.middleware
    async def mw(request, handler):
        before = request.app['name']
        try:
            response = await handler(request)
        except web.HTTPNotFound:
            if not_found is None:
                raise
            response = web.Response(status=404, text=not_found)
        trace = name + ':' + before + '->' + request.app['name']
        seen = response.headers.get('X-Trace')
        response.headers['X-Trace'] = trace + ' ' + seen if seen else trace
        return response
    return mw

def says(text):
    async def h(request):
        return web.Response(text=text + ' app=' + request.app['name'])
    return h

def note(root, what):
    async def hook(app):
        root['log'].append(what + ' ' + app['name'])
    return hook

root = web.Application(middlewares=[tracer('r')])
admin = web.Application(middlewares=[tracer('a', 'admin says 404')])
deep = web.Application(middlewares=[tracer('d')])
root['name'], admin['name'], deep['name'] = 'root', 'admin', 'deep'
root['log'] = []
root.router.add_get('/', says('root index'))
root.router.add_get('/admin-not', says('not admin'))
async def hooks(request):
    return web.Response(text=''.join(line + '\n' for line in root['log']))
root.router.add_get('/hooks', hooks)
admin.router.add_get('/', says('admin index'))
async def user(request):
    url = str(admin.router['user'].url_for(id='7'))
    return web.Response(text='user ' + request.match_info['id'] + ' app=' + request.app['name'] + ' url=' + url)
admin.router.add_get('/users/{id}', user, name='user')
admin.router.add_post('/users', says('created'))
admin.router.add_static('/files', sys.argv[1], name='files')
deep.router.add_get('/x', says('deep x'))
root.on_startup.append(note(root, 'startup 1'))
admin.on_startup.append(note(root, 'startup a'))
deep.on_startup.append(note(root, 'startup d'))
admin.add_subapp('/deep', deep)
root.add_subapp('/admin/', admin)
root.on_startup.append(note(root, 'startup 2'))

asyncio.run(serve_forever(root))
)";

// What a server answers each request: status, Allow, X-Trace and body, one line each.
Coro<std::vector<std::string>> ask(ClientSession& session, std::string base) {
  std::vector<test::Ask> asks;
  for (const char* get : {"/", "/admin-not", "/admin", "/admin/", "/admin/users/42"}) asks.push_back({"GET", get});
  asks.push_back({"DELETE", "/admin/users/42"});
  asks.push_back({"POST", "/admin/users"});
  for (const char* get : {"/admin/nothing", "/nothing", "/admin/deep/x", "/admin/deep/y", "/admin/files/a.txt", "/hooks"}) {
    asks.push_back({"GET", get});
  }
  std::vector<std::pair<std::string, std::string>> shown{{"allow", "Allow"}, {"trace", "X-Trace"}};
  co_return co_await test::answers(session, std::move(base), std::move(asks), std::move(shown), kBound);
}

TEST(HttpSubapp, ATreeOfApplicationsAnswersAsAiohttpsDoes) {
  char tmpl[] = "/tmp/aio_subapp_XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  std::ofstream(dir + "/a.txt") << "a file\n";
  Tree tree(dir);
  std::vector<std::string> ours, theirs;
  test::serve_app(tree.root, [&](std::string base) -> Coro<> {
    ClientSession session;
    ours = co_await ask(session, base);
    std::vector<std::string> args{dir};  // named first: g++ 12
    test::PythonServer peer = co_await test::PythonServer::start(kAiohttp, args);
    theirs = co_await ask(session, "http://127.0.0.1:" + peer.line);
    co_await session.close();
    co_await peer.stop();
  });
  EXPECT_EQ(ours, theirs);
  // Not two empty answers: a few of the lines spelled out.
  ASSERT_EQ(ours.size(), 13u);
  EXPECT_EQ(ours[4], "GET /admin/users/42 -> 200 allow= trace=r:root->root a:admin->admin | user 42 app=admin url=/admin/users/7");
  EXPECT_EQ(ours[9], "GET /admin/deep/x -> 200 allow= trace=r:root->root a:admin->admin d:deep->deep | deep x app=deep");
  EXPECT_EQ(ours[12], "GET /hooks -> 200 allow= trace=r:root->root | startup 1 root\nstartup a admin\nstartup d deep\nstartup 2 root\n");
  // The hooks of cleanup ran too, in their order: the sub-applications' where they were
  // added (before root's own).
  EXPECT_EQ(tree.root[log_key].size(), 6u);
  EXPECT_EQ(tree.root[log_key][4], "cleanup d deep");
  EXPECT_EQ(tree.root[log_key][5], "cleanup 1 root");
  EXPECT_EQ(tree.admin.router()["files"].url_for({{"filename", "a.txt"}}).str(), "/admin/files/a.txt");
  EXPECT_TRUE(tree.deep.frozen());
  std::system(("rm -rf " + dir).c_str());
}

TEST(HttpSubapp, AddSubappRefusesWhatAiohttpRefuses) {
  Application root, sub, other, frozen;
  for (const char* bad : {"", "/", "///"}) {
    try {
      root.add_subapp(bad, sub);
      ADD_FAILURE() << "took the prefix '" << bad << "'";
    } catch (const ValueError& e) {
      EXPECT_STREQ(e.what(), "Prefix cannot be empty");
    }
  }
  EXPECT_THROW(root.add_subapp("sub", sub), ValueError);
  frozen.freeze();
  EXPECT_THROW(root.add_subapp("/f", frozen), RuntimeError);
  root.add_subapp("/sub", sub);
  EXPECT_THROW(sub.add_get("/late", says("late")), RuntimeError);  // its router is frozen now
  EXPECT_THROW(other.add_subapp("/again", sub), RuntimeError);    // one parent only
  EXPECT_THROW(root.add_subapp("/self", root), RuntimeError);
  root.freeze();
  EXPECT_THROW(root.add_subapp("/other", other), RuntimeError);
}

}  // namespace
}  // namespace aio::http
