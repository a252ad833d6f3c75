// aio/http/web.hpp: the HTTP/1.1 server, in the model of aiohttp.web.
//
//   namespace web = aio::http::web;
//   aio::Coro<web::StreamResponse> hello(web::Request&) {
//     co_return web::Response({.text = "Hello, World!"});
//   }
//   int main() {
//     web::Application app;
//     app.add_routes({web::get("/", hello)});
//     web::run_app(app, "127.0.0.1", 8080);
//   }
//
// Each connection is one coroutine that parses requests in place from the stream's
// read buffer, calls the matched handler (through the middlewares) and writes the
// response head and body in one write. Keep-alive, pipelining (answers in order),
// Expect: 100-continue and HTTP/1.0 are handled; a malformed request is answered 400 and
// the connection closed; a handler that throws answers 500, its exception goes to the
// loop's exception handler and the server goes on.
#pragma once

#include <any>
#include <concepts>
#include <exception>
#include <cstdio>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#include "aio/asyncgen.hpp"
#include "aio/coro.hpp"
#include "aio/http/headers.hpp"
#include "aio/http/parser.hpp"
#include "aio/http/url.hpp"
#include "aio/http/web_exceptions.hpp"
#include "aio/http/web_request.hpp"
#include "aio/http/web_response.hpp"
#include "aio/ssl.hpp"
#include "aio/streams.hpp"

namespace aio::http {

/// A request handler: aiohttp's `async def handler(request) -> StreamResponse`.
using Handler = std::function<Coro<StreamResponse>(Request&)>;
/// A new-style middleware: `async def mw(request, handler)`; it calls
/// `co_await handler(request)` to go on down the chain.
using Middleware = std::function<Coro<StreamResponse>(Request&, const Handler&)>;
/// A startup, shutdown or cleanup hook (aiohttp's signals: on_startup.append(f)).
using AppHook = std::function<Coro<void>(class Application&)>;
/// Where access log lines go (nullptr: no access log).
using AccessLog = std::function<void(std::string_view line)>;

/// aiohttp's web.View: a class-based view, a member for each HTTP method it answers.
///   struct Users : web::View {
///     using View::View;
///     Coro<web::StreamResponse> get() { co_return web::Response({.text = "all of them"}); }
///     Coro<web::StreamResponse> post() { ... request() ... }
///   };
///   app.add_view<Users>("/users");
/// Each request makes a new Users(request) and calls its method's member: get, post,
/// put, patch, delete_ (delete is C++'s), head, options, trace or connect. A method it
/// has no member for is 405 Method Not Allowed, with the ones it has in Allow; as in
/// aiohttp, HEAD is not answered by get().
class View {
 public:
  explicit View(Request& request) noexcept : request_(&request) {}
  Request& request() const noexcept { return *request_; }

 private:
  Request* request_;
};

namespace detail {
template <class V>
concept ViewClass = std::derived_from<V, View> && std::constructible_from<V, Request&>;

// The methods view V has members for, sorted (aiohttp's allowed_methods).
template <ViewClass V>
std::vector<std::string> view_methods() {
  std::vector<std::string> m;
  if constexpr (requires(V& v) { v.connect(); }) m.emplace_back("CONNECT");
  if constexpr (requires(V& v) { v.delete_(); }) m.emplace_back("DELETE");
  if constexpr (requires(V& v) { v.get(); }) m.emplace_back("GET");
  if constexpr (requires(V& v) { v.head(); }) m.emplace_back("HEAD");
  if constexpr (requires(V& v) { v.options(); }) m.emplace_back("OPTIONS");
  if constexpr (requires(V& v) { v.patch(); }) m.emplace_back("PATCH");
  if constexpr (requires(V& v) { v.post(); }) m.emplace_back("POST");
  if constexpr (requires(V& v) { v.put(); }) m.emplace_back("PUT");
  if constexpr (requires(V& v) { v.trace(); }) m.emplace_back("TRACE");
  return m;
}

// One request to view V: a new V, and the member of the request's method.
template <ViewClass V>
Coro<StreamResponse> call_view(Request& request) {
  const std::string method(request.method());
  V view(request);
  if (method == "GET") {
    if constexpr (requires { view.get(); }) co_return co_await view.get();
  } else if (method == "POST") {
    if constexpr (requires { view.post(); }) co_return co_await view.post();
  } else if (method == "PUT") {
    if constexpr (requires { view.put(); }) co_return co_await view.put();
  } else if (method == "PATCH") {
    if constexpr (requires { view.patch(); }) co_return co_await view.patch();
  } else if (method == "DELETE") {
    if constexpr (requires { view.delete_(); }) co_return co_await view.delete_();
  } else if (method == "HEAD") {
    if constexpr (requires { view.head(); }) co_return co_await view.head();
  } else if (method == "OPTIONS") {
    if constexpr (requires { view.options(); }) co_return co_await view.options();
  } else if (method == "TRACE") {
    if constexpr (requires { view.trace(); }) co_return co_await view.trace();
  } else if (method == "CONNECT") {
    if constexpr (requires { view.connect(); }) co_return co_await view.connect();
  }
  throw HTTPMethodNotAllowed(method, view_methods<V>());
}

template <ViewClass V>
Handler view_handler() {
  return [](Request& request) { return call_view<V>(request); };
}
}  // namespace detail

/// One route for add_routes (aiohttp's web.get(path, handler) and friends).
struct RouteDef {
  std::string method, path;
  Handler handler;
  std::string name{};
};
namespace web_routes {
RouteDef get(std::string path, Handler handler, std::string name = {});
RouteDef post(std::string path, Handler handler, std::string name = {});
RouteDef put(std::string path, Handler handler, std::string name = {});
RouteDef patch(std::string path, Handler handler, std::string name = {});
RouteDef delete_(std::string path, Handler handler, std::string name = {});
RouteDef head(std::string path, Handler handler, std::string name = {});
RouteDef view(std::string path, Handler handler, std::string name = {});  // any method
RouteDef route(std::string method, std::string path, Handler handler, std::string name = {});
/// A class-based view (aiohttp's web.view(path, View)): view<Users>("/users").
template <detail::ViewClass V>
RouteDef view(std::string path, std::string name = {}) {
  return route("*", std::move(path), detail::view_handler<V>(), std::move(name));
}
}  // namespace web_routes

/// Options of add_static.
struct StaticOptions {
  /// router["name"] (aiohttp's name=).
  std::string name{};
  bool follow_symlinks = false;
  /// A directory answers an HTML index of its entries (aiohttp's format) instead of 403.
  bool show_index = false;
  std::size_t chunk_size = 256 * 1024;
  /// url_for() adds ?v= and the file's SHA-256 (base64url), so that a browser
  /// fetches the file again once it changed (aiohttp's append_version).
  bool append_version = false;
};

namespace detail {
struct RouterResource;
}

/// A resource of the router, as router["name"] gives it (aiohttp's Resource): valid
/// while its application is.
class Resource {
 public:
  const std::string& name() const noexcept;
  /// The path as added: "/about", "/city/{name}", a static prefix ("/static").
  const std::string& canonical() const noexcept;
  /// The resource's URL (a relative one: a path), aiohttp's url_for(**parts): a
  /// dynamic resource's {name} take `parts[name]`, a static one `parts["filename"]`,
  /// percent-encoded as yarl does in a path ('/' kept). std::out_of_range('name')
  /// (Python's KeyError) for a missing part. The values are not checked against the
  /// parameters' patterns, as in aiohttp. A static resource's filename loses its
  /// leading '/'s; `append_version` (default: the resource's StaticOptions) adds
  /// ?v=HASH when the filename names a file the resource would serve, read and hashed
  /// at each call, as aiohttp does.
  URL url_for(const MultiDict& parts = {}, std::optional<bool> append_version = std::nullopt) const;

 private:
  friend class UrlDispatcher;
  explicit Resource(const detail::RouterResource* r) noexcept : r_(r) {}
  const detail::RouterResource* r_;
};

/// aiohttp's UrlDispatcher: resources in the order they were added, each a plain path
/// ("/about"), a dynamic one ("/city/{name}", "/n/{id:\\d+}", "/files/{tail:.*}") or a
/// static prefix. The first resource whose path matches and that has a route for the
/// method (HEAD is answered by GET's) wins; a path that matches only with other
/// methods answers 405 with Allow, no match 404.
class UrlDispatcher {
 public:
  UrlDispatcher();
  ~UrlDispatcher();
  UrlDispatcher(const UrlDispatcher&) = delete;
  UrlDispatcher& operator=(const UrlDispatcher&) = delete;

  /// Adds a route; "*" is any method. ValueError for a bad path pattern, RuntimeError
  /// once the application runs.
  void add_route(std::string_view method, std::string_view path, Handler handler, std::string_view name = {});
  /// A name makes the resource router[name]: identifiers joined by '.', ':' or '-';
  /// ValueError for another one, or one given to another resource already.
  void add_get(std::string_view path, Handler handler, std::string_view name = {}, bool allow_head = true);
  /// add_get(path, handler, allow_head), without a name. (A template, so that a name
  /// given as a string literal never turns into this bool.)
  template <class B>
    requires std::same_as<B, bool>
  void add_get(std::string_view path, Handler handler, B allow_head) {
    add_get(path, std::move(handler), std::string_view(), allow_head);
  }
  void add_post(std::string_view path, Handler handler, std::string_view name = {});
  void add_put(std::string_view path, Handler handler, std::string_view name = {});
  void add_patch(std::string_view path, Handler handler, std::string_view name = {});
  void add_delete(std::string_view path, Handler handler, std::string_view name = {});
  void add_head(std::string_view path, Handler handler, std::string_view name = {});
  /// A class-based view for any method (aiohttp's add_view(path, View)).
  template <detail::ViewClass V>
  void add_view(std::string_view path, std::string_view name = {}) {
    add_route("*", path, detail::view_handler<V>(), name);
  }
  /// Serves the files under `directory` at `prefix` + their relative path. A path that
  /// leaves the directory ("..", an encoded "%2e%2e", a symlink out unless
  /// follow_symlinks) answers 404, an absolute one 403, a directory 403 (or its index
  /// with show_index).
  void add_static(std::string_view prefix, std::string directory, StaticOptions options = {});
  void add_routes(std::initializer_list<RouteDef> routes);
  std::size_t size() const noexcept;
  /// The resource named `name` (app.router["name"]); std::out_of_range('name') when
  /// there is none.
  Resource operator[](std::string_view name) const;
  /// The named resources by name.
  std::map<std::string, Resource> named_resources() const;

  struct Impl;
  Impl& impl() noexcept { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

/// aiohttp 3.9's AppKey: a typed key of the application's state.
///   inline const web::AppKey<int> counter_key("counter");
///   app[counter_key] = 0;
template <class T>
class AppKey {
 public:
  explicit AppKey(std::string name) : name_(std::move(name)) {}
  const std::string& name() const noexcept { return name_; }

 private:
  std::string name_;
};

/// aiohttp's web.CleanupError: more than one cleanup context failed at cleanup.
/// exceptions() holds each one's exception, in the order they failed.
class CleanupError : public RuntimeError {
 public:
  CleanupError(const std::string& message, std::vector<std::exception_ptr> exceptions);
  const std::vector<std::exception_ptr>& exceptions() const noexcept { return exceptions_; }

 private:
  std::vector<std::exception_ptr> exceptions_;
};

namespace detail {
// One cleanup context's generator, whatever it yields.
struct CleanupGen {
  virtual ~CleanupGen() = default;
  virtual Coro<bool> advance() = 0;  // on to the next co_yield: false at the end
  virtual std::string repr() const = 0;
};
template <class T>
struct CleanupGenOf final : CleanupGen {
  explicit CleanupGenOf(AsyncGenerator<T> g) : gen(std::move(g)) {}
  Coro<bool> advance() override {
    std::optional<T> v = co_await gen.next();
    co_return v.has_value();
  }
  std::string repr() const override { return gen.repr(); }
  AsyncGenerator<T> gen;
};
template <class G>
inline constexpr bool is_async_generator_v = false;
template <class T>
inline constexpr bool is_async_generator_v<AsyncGenerator<T>> = true;
}  // namespace detail

/// aiohttp's app.cleanup_ctx: set-up and clean-up in one function, an async generator
/// of the application that yields once. Startup runs each to its co_yield, in order,
/// before the on_startup hooks; cleanup runs each on from there, in reverse order,
/// before the on_cleanup hooks. Only the ones whose startup reached the yield are
/// cleaned up.
///   aio::AsyncGenerator<int> database(web::Application& app) {
///     app[db_key] = co_await Database::open();
///     co_yield 0;                      // the application runs
///     co_await app[db_key].close();
///   }
///   app.cleanup_ctx.append(database);
/// A generator that ends before its yield fails the startup (RuntimeError); one that
/// yields again at cleanup is a RuntimeError of the cleanup. The cleanup goes on past
/// an error: one error is rethrown as it is, more than one as a CleanupError.
class CleanupContext {
 public:
  /// Adds `ctx`: a callable taking Application& and returning an AsyncGenerator.
  /// RuntimeError once the application is frozen.
  template <class F>
    requires std::invocable<F&, Application&> &&
             detail::is_async_generator_v<std::invoke_result_t<F&, Application&>>
  void append(F ctx) {
    using Gen = std::invoke_result_t<F&, Application&>;
    check_frozen();
    entries_.push_back([ctx = std::move(ctx)](Application& app) mutable -> std::unique_ptr<detail::CleanupGen> {
      return std::make_unique<detail::CleanupGenOf<typename Gen::value_type>>(ctx(app));
    });
  }
  /// The same as append(), as the hooks' std::vector is filled.
  template <class F>
  void push_back(F ctx) {
    append(std::move(ctx));
  }
  std::size_t size() const noexcept { return entries_.size(); }
  bool empty() const noexcept { return entries_.empty(); }

 private:
  friend class Application;
  void check_frozen() const;
  Coro<void> on_startup(Application& app);
  Coro<void> on_cleanup();

  std::vector<std::function<std::unique_ptr<detail::CleanupGen>(Application&)>> entries_;
  std::vector<std::unique_ptr<detail::CleanupGen>> exits_;  // started: suspended at their yield
  bool frozen_ = false;
};

/// aiohttp's web.Application: the router, the middlewares, the hooks and the state.
class Application {
 public:
  struct Options {
    /// The largest body read() and friends accept (aiohttp's client_max_size): 1 MiB.
    std::size_t client_max_size = 1024 * 1024;
  };
  Application();
  explicit Application(Options options);
  Application(const Application&) = delete;
  Application& operator=(const Application&) = delete;

  UrlDispatcher& router() noexcept { return router_; }
  void add_route(std::string_view method, std::string_view path, Handler handler, std::string_view name = {}) {
    router_.add_route(method, path, std::move(handler), name);
  }
  void add_get(std::string_view path, Handler handler, std::string_view name = {}) {
    router_.add_get(path, std::move(handler), name);
  }
  void add_post(std::string_view path, Handler handler, std::string_view name = {}) {
    router_.add_post(path, std::move(handler), name);
  }
  void add_put(std::string_view path, Handler handler, std::string_view name = {}) {
    router_.add_put(path, std::move(handler), name);
  }
  void add_patch(std::string_view path, Handler handler, std::string_view name = {}) {
    router_.add_patch(path, std::move(handler), name);
  }
  void add_delete(std::string_view path, Handler handler, std::string_view name = {}) {
    router_.add_delete(path, std::move(handler), name);
  }
  template <detail::ViewClass V>
  void add_view(std::string_view path, std::string_view name = {}) {
    router_.template add_view<V>(path, name);
  }
  void add_routes(std::initializer_list<RouteDef> routes) { router_.add_routes(routes); }
  void add_static(std::string_view prefix, std::string directory, StaticOptions options = {}) {
    router_.add_static(prefix, std::move(directory), options);
  }
  /// Serves `subapp` under `prefix` (aiohttp's add_subapp): a path that is the prefix
  /// or starts with prefix + "/" goes to the sub-application's routes, through this
  /// application's middlewares and then its own; a path under the prefix that none of
  /// them takes is the sub-application's 404 or 405. Its routes, named resources and
  /// url_for() carry the prefix from now on, and its router takes no more routes. Its
  /// hooks run as this one's, from this point of each list. ValueError for an empty
  /// prefix ("/" included); RuntimeError when either application is frozen or
  /// `subapp` is served already. `subapp` must outlive this application.
  void add_subapp(std::string_view prefix, Application& subapp);
  /// Serves `subapp` for the requests whose Host header is `domain` (aiohttp's
  /// add_domain), whatever their path: "example.com", "example.com:8080" (":80" is
  /// dropped), or a mask, "*.example.com", where '*' stands for any run of characters
  /// (dots too). The names compare without regard to case. A matching request that no
  /// route of the sub-application takes is its 404 or 405. Its routes keep their
  /// paths; its hooks and its router are as add_subapp's. ValueError naming what is
  /// wrong with the domain ("Domain cannot be empty", "Scheme not supported", "Domain
  /// not valid": labels of letters, digits and '-', not at either end, up to 63 each);
  /// RuntimeError as add_subapp's.
  void add_domain(std::string_view domain, Application& subapp);

  /// The middlewares, outermost first (aiohttp's middlewares=[...]).
  std::vector<Middleware> middlewares;
  /// Hooks run by AppRunner: on_startup in setup(), on_shutdown then (after the
  /// connections finished) on_cleanup in cleanup(), each list in order.
  std::vector<AppHook> on_startup, on_shutdown, on_cleanup;
  /// Set-up and clean-up as one async generator each (aiohttp's cleanup_ctx): run
  /// before on_startup, and before on_cleanup.
  CleanupContext cleanup_ctx;

  /// The application's state: app[key] (made on first use with T's default value).
  template <class T>
  T& operator[](const AppKey<T>& key) {
    std::any& slot = state_[key.name()];
    if (!slot.has_value()) slot = T{};
    return std::any_cast<T&>(slot);
  }
  /// The value of `key`; std::out_of_range('name') when unset.
  template <class T>
  T& at(const AppKey<T>& key) {
    auto it = state_.find(key.name());
    if (it == state_.end()) throw std::out_of_range("'" + key.name() + "'");
    return std::any_cast<T&>(it->second);
  }
  template <class T>
  bool contains(const AppKey<T>& key) const {
    return state_.count(key.name()) != 0;
  }

  const Options& options() const noexcept { return options_; }
  /// Frozen once an AppRunner set it up: routes and middlewares can no longer change.
  bool frozen() const noexcept { return frozen_; }

  /// Runs hooks (AppRunner does this).
  Coro<void> startup();
  Coro<void> shutdown();
  Coro<void> cleanup();
  /// Composes the middlewares around every route (AppRunner::setup does this).
  void freeze();
  /// Finds the route of `request` and calls it through the middlewares (internal).
  Coro<StreamResponse> handle(Request& request);

 private:
  // Freezes this application served through `outer` (the applications above it,
  // outermost first; empty for the one served).
  void freeze_under(std::vector<Application*> outer);
  // The route of `path` among this application's resources, called.
  Coro<StreamResponse> dispatch(Request& request, std::string_view path);
  // Makes `subapp`, served by resource `r` of this router, this application's
  // (add_subapp and add_domain).
  void mount(std::unique_ptr<detail::RouterResource> r, Application& subapp);
  friend class ConfigDict;
  std::any* state_of(const std::string& name) {
    auto it = state_.find(name);
    return it == state_.end() ? nullptr : &it->second;
  }

  Options options_;
  UrlDispatcher router_;
  std::map<std::string, std::any, std::less<>> state_;
  bool frozen_ = false;
  Application* parent_ = nullptr;  // added to it with add_subapp or add_domain
};

/// aiohttp's ChainMapProxy, as request.config_dict() gives it: the state of an
/// application and of the ones above it (its parent, that one's, up to the application
/// served), looked up in that order. Read-only as a mapping (no keys are added), the
/// values as they are in the applications. Valid while the applications are.
class ConfigDict {
 public:
  /// The chain from `app` up to `served` (or to the top, when `served` is not above it).
  explicit ConfigDict(Application& app, const Application* served = nullptr) {
    for (Application* a = &app; a != nullptr; a = a == served ? nullptr : a->parent_) apps_.push_back(a);
  }
  /// The value of `key` in the first application that has it; std::out_of_range('name')
  /// (Python's KeyError) when none has.
  template <class T>
  T& at(const AppKey<T>& key) const {
    std::any* v = find(key.name());
    if (v == nullptr) throw std::out_of_range("'" + key.name() + "'");
    return std::any_cast<T&>(*v);
  }
  template <class T>
  T& operator[](const AppKey<T>& key) const {
    return at(key);
  }
  /// The value of `key`, or `default_value` when no application has it.
  template <class T>
  T get(const AppKey<T>& key, T default_value) const {
    std::any* v = find(key.name());
    return v == nullptr ? std::move(default_value) : std::any_cast<T&>(*v);
  }
  template <class T>
  bool contains(const AppKey<T>& key) const {
    return find(key.name()) != nullptr;
  }
  /// How many keys the applications have between them (a key in two counts once).
  std::size_t size() const;
  bool empty() const noexcept;
  /// The applications, the innermost first.
  const std::vector<Application*>& maps() const noexcept { return apps_; }

 private:
  std::any* find(const std::string& name) const {
    for (Application* a : apps_) {
      if (std::any* v = a->state_of(name)) return v;
    }
    return nullptr;
  }
  std::vector<Application*> apps_;
};

/// Options of AppRunner (aiohttp's AppRunner / run_app keyword arguments).
struct RunnerOptions {
  /// Access log lines, in aiohttp's default format
  /// `%a %t "%r" %s %b "%{Referer}i" "%{User-Agent}i"`. Default: stderr; nullptr: off.
  AccessLog access_log = [](std::string_view line) { std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data()); };
  /// An idle keep-alive connection is closed after this many seconds.
  double keepalive_timeout = 75.0;
  /// A request head must arrive within this many seconds from its first byte (from the
  /// connection's start for the first request); the connection is closed otherwise.
  /// aiohttp has no such timeout (read_timeout is aio's).
  double read_timeout = 60.0;
  /// How long cleanup() lets requests in flight finish before it cancels them.
  double shutdown_timeout = 60.0;
  ParserLimits limits{};
};

namespace detail {
struct WebServer;
}

/// aiohttp's AppRunner: set up the application (startup hooks), then serve it through
/// one or more sites; cleanup() stops them gracefully.
class AppRunner {
 public:
  explicit AppRunner(Application& app, RunnerOptions options = {});
  /// Stops the sites from accepting; connections still open go on (call cleanup()
  /// first for a graceful end). The application must outlive them.
  ~AppRunner();
  AppRunner(const AppRunner&) = delete;
  AppRunner& operator=(const AppRunner&) = delete;

  /// Freezes the application and runs its on_startup hooks.
  Coro<void> setup();
  /// Stops every site from accepting, closes idle connections, runs on_shutdown, waits
  /// up to shutdown_timeout for the requests in flight (their connections close after
  /// them), cancels what is left, then runs on_cleanup.
  Coro<void> cleanup();
  Application& app() noexcept { return app_; }
  /// The sites' addresses ("http://127.0.0.1:8080").
  std::vector<std::string> addresses() const;
  /// The connections open now.
  std::size_t connections() const noexcept;

  detail::WebServer& server() noexcept { return *server_; }
  std::weak_ptr<detail::WebServer> server_ref() const noexcept { return server_; }

 private:
  friend class BaseSite;
  Application& app_;
  // Shared with the connections: one still open when the runner goes keeps it.
  std::shared_ptr<detail::WebServer> server_;
};

/// aiohttp's BaseSite: where a runner listens.
class BaseSite {
 public:
  virtual ~BaseSite();
  /// Starts listening.
  virtual Coro<void> start() = 0;
  /// Stops listening (connections go on until the runner's cleanup).
  Coro<void> stop();
  /// "http://127.0.0.1:8080" or "http://unix:/path:".
  virtual std::string name() const = 0;

 protected:
  explicit BaseSite(AppRunner& runner) : runner_(runner) {}
  Coro<void> serve(Server server);
  AppRunner& runner_;
  std::optional<Server> server_;
};

/// aiohttp's TCPSite(runner, host, port): port 0 picks a free one (port() tells it).
class TCPSite : public BaseSite {
 public:
  TCPSite(AppRunner& runner, std::string host = "0.0.0.0", int port = 8080, SSLOption ssl = {},
          bool reuse_port = false);
  Coro<void> start() override;
  std::string name() const override;
  int port() const;

 private:
  std::string host_;
  int port_;
  SSLOption ssl_;
  bool reuse_port_;
};

/// aiohttp's UnixSite(runner, path).
class UnixSite : public BaseSite {
 public:
  UnixSite(AppRunner& runner, std::string path);
  Coro<void> start() override;
  std::string name() const override;

 private:
  std::string path_;
};

/// Options of run_app beyond the runner's.
struct RunAppOptions {
  RunnerOptions runner{};
  /// Print "======== Running on http://HOST:PORT ========\n(Press CTRL+C to quit)".
  bool print = true;
  SSLOption ssl{};
  /// Listen on a Unix socket instead of host:port.
  std::string path{};
};

/// aiohttp's run_app(app, host=, port=): runs a loop serving `app` until SIGINT or
/// SIGTERM, then shuts it down gracefully (AppRunner::cleanup) and returns.
void run_app(Application& app, std::string host = "0.0.0.0", int port = 8080, RunAppOptions options = {});
/// The same inside a running loop: serves until SIGINT/SIGTERM or until cancelled.
Coro<void> serve_app(Application& app, std::string host, int port, RunAppOptions options = {});

/// aiohttp.web's names, for `namespace web = aio::http::web; web::Response(...)`.
namespace web {
using http::AccessLog;
using http::AppKey;
using http::AppRunner;
using http::Application;
using http::BaseSite;
using http::BodyPartReader;
using http::BodyReader;
using http::CleanupContext;
using http::CleanupError;
using http::ConfigDict;
using http::CookieOptions;
using http::FileField;
using http::FileResponse;
using http::Handler;
using http::json_response;
using http::Middleware;
using http::MultipartReader;
using http::PostData;
using http::Request;
using http::Resource;
using http::ETag;
using http::HttpRange;
using http::Response;
using http::ResponseInit;
using http::RouteDef;
using http::run_app;
using http::RunAppOptions;
using http::RunnerOptions;
using http::serve_app;
using http::StreamResponse;
using http::TCPSite;
using http::UnixSite;
using http::View;
using http::UrlDispatcher;
using namespace http::web_routes;
// The HTTPException family.
using http::HTTPAccepted;
using http::HTTPBadGateway;
using http::HTTPBadRequest;
using http::HTTPClientError;
using http::HTTPConflict;
using http::HTTPCreated;
using http::HTTPError;
using http::HTTPException;
using http::HTTPExceptionInit;
using http::HTTPExpectationFailed;
using http::HTTPForbidden;
using http::HTTPFound;
using http::HTTPGatewayTimeout;
using http::HTTPGone;
using http::HTTPInternalServerError;
using http::HTTPLengthRequired;
using http::HTTPMethodNotAllowed;
using http::HTTPMisdirectedRequest;
using http::HTTPMove;
using http::HTTPMovedPermanently;
using http::HTTPMultipleChoices;
using http::HTTPNoContent;
using http::HTTPNonAuthoritativeInformation;
using http::HTTPNotAcceptable;
using http::HTTPNotFound;
using http::HTTPNotImplemented;
using http::HTTPNotModified;
using http::HTTPOk;
using http::HTTPPartialContent;
using http::HTTPPaymentRequired;
using http::HTTPPermanentRedirect;
using http::HTTPPreconditionFailed;
using http::HTTPProxyAuthenticationRequired;
using http::HTTPRedirection;
using http::HTTPRequestEntityTooLarge;
using http::HTTPRequestHeaderFieldsTooLarge;
using http::HTTPRequestRangeNotSatisfiable;
using http::HTTPRequestTimeout;
using http::HTTPRequestURITooLong;
using http::HTTPResetContent;
using http::HTTPSeeOther;
using http::HTTPServerError;
using http::HTTPServiceUnavailable;
using http::HTTPSuccessful;
using http::HTTPTemporaryRedirect;
using http::HTTPTooManyRequests;
using http::HTTPUnauthorized;
using http::HTTPUnavailableForLegalReasons;
using http::HTTPUnprocessableEntity;
using http::HTTPUnsupportedMediaType;
using http::HTTPUseProxy;
using http::HTTPVersionNotSupported;
}  // namespace web

}  // namespace aio::http
