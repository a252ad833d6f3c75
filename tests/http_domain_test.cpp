// Sub-applications by host (Application::add_domain, aiohttp's add_domain) and the
// state of an application and the ones above it (request.config_dict(), aiohttp's
// request.config_dict): the same tree built in aio and in aiohttp (python3-aiohttp,
// /usr/bin/python3), each request sent to both with its Host header, and the answers
// compared. Then the domains add_domain takes and refuses, against aiohttp's.
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

inline const web::AppKey<std::string> name_key("name");
inline const web::AppKey<std::string> greeting_key("greeting");
inline const web::AppKey<std::string> db_key("db");
inline const web::AppKey<int> hits_key("hits");
inline const web::AppKey<std::string> extra_key("extra");  // example's own

// "NAME: greeting=G db=D keys=N", from config_dict() as `request` sees it now.
std::string seen(const Request& request, const std::string& name) {
  const ConfigDict config = request.config_dict();
  return name + ": greeting=" + config.get(greeting_key, std::string("-")) + " db=" +
         config.get(db_key, std::string("-")) + " keys=" + std::to_string(config.size());
}

// The root application's middleware: what config_dict() holds at its level (the root
// application's state only), in X-Seen.
Coro<StreamResponse> root_seen(Request& request, const Handler& handler) {
  const std::string before = seen(request, "mw");
  StreamResponse response = co_await handler(request);
  response.headers().set("X-Seen", before);
  co_return response;
}

// A handler: its words, then what config_dict() holds for it.
Handler says(std::string text) {
  return [text](Request& request) -> Coro<StreamResponse> {
    co_return Response({.text = text + " | " + seen(request, request.app()[name_key])});
  };
}

// The tree: root ("/", "/only-root") serves example under example.com (with deep
// under /deep), api under api.example.com:8080, wild under the mask *.example.org.
// aiohttp's script below builds the same.
struct Tree {
  Application root, example, deep, api, wild;

  Tree() {
    root[name_key] = "root";
    root[greeting_key] = "root hi";
    root[db_key] = "root db";
    example[name_key] = "example";
    example[greeting_key] = "example hi";
    example[extra_key] = "x";
    deep[name_key] = "deep";
    api[name_key] = "api";
    wild[name_key] = "wild";
    wild[db_key] = "wild db";
    root.middlewares.push_back(root_seen);
    example.add_get("/", says("example index"));
    // The values are the applications' own: a change through config_dict() is seen
    // by the application that holds the key.
    example.add_get("/count", [this](Request& request) -> Coro<StreamResponse> {
      int& hits = request.config_dict()[hits_key];
      ++hits;
      co_return Response({.text = "hits " + std::to_string(hits) + " root=" + std::to_string(root[hits_key])});
    });
    deep.add_get("/x", says("deep x"));
    api.add_get("/v1/{id}", says("api v1"));
    wild.add_get("/", says("wild index"));
    example.add_subapp("/deep", deep);
    root.add_domain("Example.COM.", example);  // lower case, the trailing dot gone
    root.add_domain("api.example.com:8080", api);
    root.add_domain("*.example.org", wild);
    // After the domains: resources are tried in order, so a route added before them
    // would answer its path for every host.
    root.add_get("/", says("root index"));
    root.add_get("/only-root", says("only root"));
    root[hits_key] = 0;
  }
};

const std::string kAiohttp = std::string(test::kServeAiohttp) + R"(
def seen(request, name):
    c = request.config_dict
    return '%s: greeting=%s db=%s keys=%d' % (name, c.get('greeting', '-'), c.get('db', '-'), len(c))

@web.middleware
async def root_seen(request, handler):
    before = seen(request, 'mw')
    response = await handler(request)
    response.headers['X-Seen'] = before
    return response

def says(text):
    async def h(request):
        return web.Response(text=text + ' | ' + seen(request, request.app['name']))
    return h

root = web.Application(middlewares=[root_seen])
example, deep, api, wild = web.Application(), web.Application(), web.Application(), web.Application()
root['name'], root['greeting'], root['db'] = 'root', 'root hi', 'root db'
example['name'], example['greeting'], example['extra'] = 'example', 'example hi', 'x'
deep['name'], api['name'] = 'deep', 'api'
wild['name'], wild['db'] = 'wild', 'wild db'
example.router.add_get('/', says('example index'))
async def count(request):
    request.config_dict['hits'][0] += 1
    hits = request.config_dict['hits'][0]
    return web.Response(text='hits %d root=%d' % (hits, root['hits'][0]))
example.router.add_get('/count', count)
deep.router.add_get('/x', says('deep x'))
api.router.add_get('/v1/{id}', says('api v1'))
wild.router.add_get('/', says('wild index'))
example.add_subapp('/deep', deep)
root.add_domain('Example.COM.', example)
root.add_domain('api.example.com:8080', api)
root.add_domain('*.example.org', wild)
root.router.add_get('/', says('root index'))
root.router.add_get('/only-root', says('only root'))
root['hits'] = [0]

asyncio.run(serve_forever(root))
)";

Coro<std::vector<std::string>> ask(ClientSession& session, std::string base) {
  const std::vector<std::pair<std::string, std::string>> requests{
      {"example.com", "/"},          {"EXAMPLE.com", "/"},           {"example.com:80", "/"},
      {"example.com", "/only-root"}, {"example.com", "/deep/x"},     {"example.com", "/count"},
      {"example.com", "/count"},     {"api.example.com:8080", "/v1/7"}, {"api.example.com", "/v1/7"},
      {"a.example.org", "/"},        {"a.b.example.org", "/"},       {"example.org", "/"},
      {"a.example.org", "/nothing"}, {"127.0.0.1", "/"},             {"other.com", "/only-root"}};
  std::vector<test::Ask> asks;
  for (const auto& [host, path] : requests) asks.emplace_back("GET", path, "", CIMultiDict{{"Host", host}});
  asks.emplace_back("POST", "/", "", CIMultiDict{{"Host", "a.example.org"}});  // wild's 405
  std::vector<std::pair<std::string, std::string>> shown{{"allow", "Allow"}, {"seen", "X-Seen"}};
  std::vector<std::string> lines = co_await test::answers(session, std::move(base), asks, std::move(shown), kBound);
  for (std::size_t i = 0; i < lines.size(); ++i) lines[i] = std::string(asks[i].headers.getone("Host")) + " " + lines[i];
  co_return lines;
}

TEST(HttpDomain, DomainsAndConfigDictAnswerAsAiohttpsDo) {
  Tree tree;
  std::vector<std::string> ours, theirs;
  test::serve_app(tree.root, [&](std::string base) -> Coro<> {
    ClientSession session;
    ours = co_await ask(session, base);
    test::PythonServer peer = co_await test::PythonServer::start(kAiohttp);
    theirs = co_await ask(session, "http://127.0.0.1:" + peer.line);
    co_await session.close();
    co_await peer.stop();
  });
  EXPECT_EQ(ours, theirs);
  // Not two empty answers: a few of the lines spelled out.
  ASSERT_EQ(ours.size(), 16u);
  EXPECT_EQ(ours[0],
            "example.com GET / -> 200 allow= seen=mw: greeting=root hi db=root db keys=4 | example index | example: "
            "greeting=example hi db=root db keys=5");
  EXPECT_EQ(ours[3], "example.com GET /only-root -> 404 allow= seen= | 404: Not Found");
  EXPECT_EQ(ours[4],
            "example.com GET /deep/x -> 200 allow= seen=mw: greeting=root hi db=root db keys=4 | deep x | deep: "
            "greeting=example hi db=root db keys=5");
  EXPECT_EQ(ours[6], "example.com GET /count -> 200 allow= seen=mw: greeting=root hi db=root db keys=4 | hits 2 root=2");
  EXPECT_EQ(ours[15],
            "a.example.org POST / -> 405 allow=GET,HEAD seen= | 405: Method Not Allowed");
}

// aiohttp compares a mask with the Host as it came (MaskDomain.match_domain); aio
// compares every domain without regard to case, as host names are (RFC 9110 4.2.3).
TEST(HttpDomain, AMaskMatchesTheHostInAnyCase) {
  Tree tree;
  std::string body;
  test::serve_app(tree.root, [&](std::string base) -> Coro<> {
    ClientSession session;
    const CIMultiDict headers{{"Host", "X.Example.ORG"}};
    ClientResponse r = co_await wait_for(session.get(base + "/", {.headers = headers}), kBound);
    body = co_await wait_for(r.text(), kBound);
    co_await session.close();
  });
  EXPECT_EQ(body, "wild index | wild: greeting=root hi db=wild db keys=4");
}

// config_dict() as a mapping: the innermost application first, read-only as to keys,
// out_of_range (Python's KeyError) for a key none has, and the chain cut at the
// application served.
TEST(HttpDomain, ConfigDictLooksUpTheChainUpToTheApplicationServed) {
  Application root, mid, leaf;
  root[db_key] = "root db";
  root[greeting_key] = "root hi";
  mid[greeting_key] = "mid hi";
  mid.add_domain("leaf.example", leaf);
  root.add_subapp("/mid", mid);
  const ConfigDict config(leaf);
  EXPECT_EQ(config.maps(), (std::vector<Application*>{&leaf, &mid, &root}));
  EXPECT_EQ(config[greeting_key], "mid hi");
  EXPECT_EQ(config.at(db_key), "root db");
  EXPECT_TRUE(config.contains(db_key));
  EXPECT_FALSE(config.contains(name_key));
  EXPECT_EQ(config.get(name_key, std::string("none")), "none");
  EXPECT_FALSE(leaf.contains(name_key));  // a lookup adds no key
  try {
    (void)config.at(name_key);
    ADD_FAILURE() << "found a key no application has";
  } catch (const std::out_of_range& e) {
    EXPECT_STREQ(e.what(), "'name'");
  }
  EXPECT_EQ(config.size(), 2u);  // db and greeting, greeting counted once
  EXPECT_FALSE(config.empty());
  config[db_key] = "changed";  // the value is the application's own
  EXPECT_EQ(root[db_key], "changed");
  // Served from mid, a request never went through root: the chain ends at mid.
  const ConfigDict from_mid(leaf, &mid);
  EXPECT_EQ(from_mid.maps(), (std::vector<Application*>{&leaf, &mid}));
  EXPECT_FALSE(from_mid.contains(db_key));
  EXPECT_TRUE(ConfigDict(leaf, &leaf).empty());
}

// What add_domain makes of each domain: "ok", or the error's type and words.
std::vector<std::string> verdicts(const std::vector<std::string>& domains) {
  std::vector<std::string> out;
  for (const std::string& domain : domains) {
    Application app, sub;
    try {
      app.add_domain(domain, sub);
      out.push_back(domain + " ok");
    } catch (const ValueError& e) {
      out.push_back(domain + " ValueError " + e.what());
    }
  }
  return out;
}

TEST(HttpDomain, AddDomainTakesAndRefusesWhatAiohttpDoes) {
  const std::vector<std::string> domains{"",          ".",          "http://x.com", "-a.com",       "a-.com",
                                         "a_b.com",   "a..com",     "x.com:080",    "Example.COM.", "x.com:80",
                                         "*.x.com",   "a*b.x.com",  std::string(63, 'a') + ".com",
                                         std::string(64, 'a') + ".com", "пример.рф", "x.com:", "[::1]", "1.2.3.4", "x.com:abc", "x.com:99999"};
  std::vector<std::string> theirs;
  auto main_ = [&]() -> Coro<> {
    test::PeerRun run = co_await test::run_python(R"(
import sys
from aiohttp import web
for d in sys.argv[1:]:
    try:
        web.Application().add_domain(d, web.Application())
        print(d, 'ok')
    except ValueError as e:
        print(d, 'ValueError', e)
)", domains);
    EXPECT_EQ(run.status, 0) << run.err;
    std::size_t begin = 0;
    while (begin < run.out.size()) {
      const std::size_t end = run.out.find('\n', begin);
      theirs.push_back(run.out.substr(begin, end - begin));
      begin = end + 1;
    }
  };
  aio::run(main_());
  const std::vector<std::string> ours = verdicts(domains);
  EXPECT_EQ(ours, theirs);
  ASSERT_EQ(ours.size(), domains.size());
  EXPECT_EQ(ours[0], " ValueError Domain cannot be empty");
  EXPECT_EQ(ours[2], "http://x.com ValueError Scheme not supported");
  EXPECT_EQ(ours[6], "a..com ValueError Domain not valid");
  EXPECT_EQ(ours[14], "пример.рф ok");  // in IDNA form, as yarl keeps it

  // add_subapp's rules for the applications.
  Application root, sub, frozen;
  frozen.freeze();
  EXPECT_THROW(root.add_domain("x.com", frozen), RuntimeError);
  root.add_domain("x.com", sub);
  EXPECT_THROW(sub.add_get("/late", says("late")), RuntimeError);  // its router is frozen now
  EXPECT_THROW(root.add_subapp("/again", sub), RuntimeError);       // one parent only
  root.freeze();
  Application other;
  EXPECT_THROW(root.add_domain("y.com", other), RuntimeError);
}

}  // namespace
}  // namespace aio::http
