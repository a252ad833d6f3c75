// The router (aiohttp's UrlDispatcher), Application, AppRunner, the sites and run_app.
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <dirent.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <utility>
#include <cstdio>
#include <regex>

#include "aio/errors.hpp"
#include "aio/http/url.hpp"
#include "aio/locks.hpp"
#include "aio/runners.hpp"
#include "aio/shield.hpp"
#include "aio/wait.hpp"
#include "aio/timeouts.hpp"
#include "http/base64.hpp"
#include "http/text.hpp"
#include "http/web_server.hpp"

namespace aio::http {

// --- route definitions

namespace web_routes {
RouteDef route(std::string method, std::string path, Handler handler, std::string name) {
  return RouteDef{std::move(method), std::move(path), std::move(handler), std::move(name)};
}
RouteDef get(std::string path, Handler h, std::string name) { return route("GET", std::move(path), std::move(h), std::move(name)); }
RouteDef post(std::string path, Handler h, std::string name) { return route("POST", std::move(path), std::move(h), std::move(name)); }
RouteDef put(std::string path, Handler h, std::string name) { return route("PUT", std::move(path), std::move(h), std::move(name)); }
RouteDef patch(std::string path, Handler h, std::string name) { return route("PATCH", std::move(path), std::move(h), std::move(name)); }
RouteDef delete_(std::string path, Handler h, std::string name) { return route("DELETE", std::move(path), std::move(h), std::move(name)); }
RouteDef head(std::string path, Handler h, std::string name) { return route("HEAD", std::move(path), std::move(h), std::move(name)); }
RouteDef view(std::string path, Handler h, std::string name) { return route("*", std::move(path), std::move(h), std::move(name)); }
}  // namespace web_routes

// --- the router

namespace detail {

struct RouterRoute {
  std::string method;  // "*": any
  Handler handler;
  Handler composed;    // through the middlewares (Application::freeze)
};

struct RouterResource {
  enum class Kind { plain, dynamic, prefix, subapp, domain } kind = Kind::plain;
  // As given: the plain path, the dynamic pattern; a prefix without its trailing '/'s
  // ("" for the root).
  std::string pattern;
  std::regex re;        // dynamic
  std::string re_source;  // dynamic: re's text
  std::vector<std::string> names;
  std::vector<std::string> literals;  // dynamic: the text around the parameters (names.size() + 1)
  std::string directory;  // prefix (static files)
  StaticOptions static_options;
  // subapp: served under the pattern, a prefix; domain: for the Host the pattern
  // names (lower case; a mask when it has a '*')
  Application* app = nullptr;
  std::vector<RouterRoute> routes;

  // Whether `path` is this resource's; fills `info` with the parameters.
  bool match(std::string_view path, MultiDict& info) const {
    switch (kind) {
      case Kind::plain:
        return path == pattern;
      case Kind::dynamic: {
        std::match_results<std::string_view::const_iterator> m;
        if (!std::regex_match(path.begin(), path.end(), m, re)) return false;
        for (std::size_t i = 0; i < names.size(); ++i) info.add(names[i], m[i + 1].str());
        return true;
      }
      case Kind::prefix:
        if (path.size() < pattern.size() + 1 || path.compare(0, pattern.size(), pattern) != 0 ||
            path[pattern.size()] != '/')
          return false;
        info.add("filename", std::string(path.substr(pattern.size() + 1)));
        return true;
      case Kind::subapp:
        return path == pattern || (path.size() > pattern.size() && path.compare(0, pattern.size(), pattern) == 0 &&
                                   path[pattern.size()] == '/');
      case Kind::domain:  // by the Host header: dispatch() asks host_matches()
        return false;
    }
    return false;
  }
  std::string name;  // router["name"]; "" when unnamed
};

}  // namespace detail

namespace {

using detail::RouterResource;
using detail::RouterRoute;

std::string regex_escape(std::string_view s) {
  std::string r;
  for (char c : s) {
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) r += '\\';
    r += c;
  }
  return r;
}

// "/city/{name}" and "/n/{id:\\d+}" into a regex with one group per parameter.
void compile_dynamic(RouterResource& r) {
  std::string re;
  std::string literal;
  std::string_view p = r.pattern;
  std::size_t i = 0;
  while (i < p.size()) {
    if (p[i] == '{') {
      // The parameter runs to the matching '}' (a regex may hold braces: {n:\d{2}}).
      int depth = 0;
      std::size_t j = i;
      for (; j < p.size(); ++j) {
        if (p[j] == '{') ++depth;
        if (p[j] == '}' && --depth == 0) break;
      }
      if (j == p.size()) throw ValueError("Invalid path '" + r.pattern + "'['{' without '}']");
      std::string_view inner = p.substr(i + 1, j - i - 1);
      const auto colon = inner.find(':');
      std::string name(inner.substr(0, colon));
      if (name.empty() || !std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; }))
        throw ValueError("Invalid path '" + r.pattern + "'['" + std::string(inner) + "']");
      r.names.push_back(name);
      r.literals.push_back(std::exchange(literal, {}));
      re += '(';
      re += colon == std::string_view::npos ? std::string("[^{}/]+") : std::string(inner.substr(colon + 1));
      re += ')';
      i = j + 1;
    } else if (p[i] == '}') {
      throw ValueError("Invalid path '" + r.pattern + "'['}' without '{']");
    } else {
      const auto next = p.find_first_of("{}", i);
      const std::string_view text = p.substr(i, next == std::string_view::npos ? std::string_view::npos : next - i);
      re += regex_escape(text);
      literal += text;
      i = next == std::string_view::npos ? p.size() : next;
    }
  }
  r.literals.push_back(std::move(literal));
  r.re_source = re;
  try {
    r.re = std::regex(re, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    throw ValueError("Bad pattern '" + r.pattern + "': " + e.what());
  }
}

std::string upper(std::string_view s) {
  std::string r(s);
  std::transform(r.begin(), r.end(), r.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return r;
}

}  // namespace

struct UrlDispatcher::Impl {
  std::vector<std::unique_ptr<RouterResource>> resources;
  std::map<std::string, RouterResource*, std::less<>> named;
  bool frozen = false;
  Handler raise_match_error;  // composed: throws the request's 404 / 405
  Handler match_error_base;

  RouterResource& resource_for(RouterResource::Kind kind, std::string_view pattern) {
    for (auto& r : resources)
      if (r->kind == kind && r->pattern == pattern) return *r;
    auto r = std::make_unique<RouterResource>();
    r->kind = kind;
    r->pattern = std::string(pattern);
    if (kind == RouterResource::Kind::dynamic) compile_dynamic(*r);
    resources.push_back(std::move(r));
    return *resources.back();
  }

  // Puts `prefix` before every resource's path (add_subapp), a sub-application's
  // own sub-applications' included.
  void add_prefix(std::string_view prefix) {
    for (auto& r : resources) {
      if (r->kind != RouterResource::Kind::domain) r->pattern.insert(0, prefix);  // a domain's is a host
      if (r->kind == RouterResource::Kind::dynamic) {
        r->literals[0].insert(0, prefix);
        r->re_source.insert(0, regex_escape(prefix));
        r->re = std::regex(r->re_source, std::regex::ECMAScript);
      } else if (r->kind == RouterResource::Kind::subapp || r->kind == RouterResource::Kind::domain) {
        r->app->router().impl().add_prefix(prefix);
      }
    }
  }

  // Gives `r` the name (aiohttp's rule: identifiers joined by '.', ':' or '-').
  void name(RouterResource& r, std::string_view name) {
    if (name.empty() || r.name == name) return;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= name.size(); ++i) {
      if (i < name.size() && std::string_view(".:-").find(name[i]) == std::string_view::npos) continue;
      const std::string_view part = name.substr(start, i - start);
      const bool identifier =
          !part.empty() && !std::isdigit(static_cast<unsigned char>(part[0])) &&
          std::all_of(part.begin(), part.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; });
      if (!identifier)
        throw ValueError("Incorrect route name '" + std::string(name) +
                         "', the name should be a sequence of python identifiers separated by dash, dot or column");
      start = i + 1;
    }
    if (auto it = named.find(name); it != named.end())
      throw ValueError("Duplicate '" + std::string(name) + "', already handled by '" + it->second->pattern + "'");
    if (!r.name.empty())
      throw ValueError("The resource '" + r.pattern + "' is named '" + r.name + "' already, not '" + std::string(name) + "'");
    r.name = std::string(name);
    named.emplace(r.name, &r);
  }
};

UrlDispatcher::UrlDispatcher() : impl_(std::make_unique<Impl>()) {}
UrlDispatcher::~UrlDispatcher() = default;

void UrlDispatcher::add_route(std::string_view method, std::string_view path, Handler handler, std::string_view name) {
  if (impl_->frozen) throw RuntimeError("Cannot register a resource into frozen router.");
  if (path.empty() || path[0] != '/') throw ValueError("path should be started with / or be empty");
  const bool dynamic = path.find_first_of("{}") != std::string_view::npos;
  RouterResource& r = impl_->resource_for(dynamic ? RouterResource::Kind::dynamic : RouterResource::Kind::plain, path);
  impl_->name(r, name);
  std::string m = upper(method);
  for (const RouterRoute& existing : r.routes)
    if (existing.method == m || existing.method == "*")
      throw RuntimeError("Added route will never be executed, method " + m + " is already registered");
  r.routes.push_back(RouterRoute{std::move(m), std::move(handler), {}});
}

void UrlDispatcher::add_get(std::string_view path, Handler handler, std::string_view name, bool allow_head) {
  if (allow_head) add_route("HEAD", path, handler, name);
  add_route("GET", path, std::move(handler), name);
}
void UrlDispatcher::add_post(std::string_view path, Handler h, std::string_view name) { add_route("POST", path, std::move(h), name); }
void UrlDispatcher::add_put(std::string_view path, Handler h, std::string_view name) { add_route("PUT", path, std::move(h), name); }
void UrlDispatcher::add_patch(std::string_view path, Handler h, std::string_view name) { add_route("PATCH", path, std::move(h), name); }
void UrlDispatcher::add_delete(std::string_view path, Handler h, std::string_view name) { add_route("DELETE", path, std::move(h), name); }
void UrlDispatcher::add_head(std::string_view path, Handler h, std::string_view name) { add_route("HEAD", path, std::move(h), name); }

void UrlDispatcher::add_routes(std::initializer_list<RouteDef> routes) {
  for (const RouteDef& d : routes) {
    if (d.method == "GET") {
      add_get(d.path, d.handler, d.name);
    } else {
      add_route(d.method, d.path, d.handler, d.name);
    }
  }
}

std::size_t UrlDispatcher::size() const noexcept { return impl_->resources.size(); }

Resource UrlDispatcher::operator[](std::string_view name) const {
  auto it = impl_->named.find(name);
  if (it == impl_->named.end()) throw std::out_of_range("'" + std::string(name) + "'");
  return Resource(it->second);
}

std::map<std::string, Resource> UrlDispatcher::named_resources() const {
  std::map<std::string, Resource> out;
  for (const auto& [name, r] : impl_->named) out.emplace(name, Resource(r));
  return out;
}

// --- a resource's URL

namespace {
// A value in a URL path as yarl quotes it: '/' and the sub-delimiters kept.
std::string quote_path_part(std::string_view v) { return quote(v, "/@:!$&'()*+,;="); }

std::string_view part_of(const MultiDict& parts, std::string_view key) {
  auto v = parts.get(key);
  if (!v) throw std::out_of_range("'" + std::string(key) + "'");
  return *v;
}
}  // namespace

// The ?v= of a static file (aiohttp's append_version): the SHA-256 of `filename`'s
// bytes in base64url; "" when the resource would not serve it as a file.
static std::string file_version(const RouterResource& r, const std::string& filename);

const std::string& Resource::name() const noexcept { return r_->name; }
const std::string& Resource::canonical() const noexcept { return r_->pattern; }

URL Resource::url_for(const MultiDict& parts, std::optional<bool> append_version) const {
  const std::string& p = r_->pattern;
  std::string path;
  switch (r_->kind) {
    case RouterResource::Kind::plain:
      path = p;
      break;
    case RouterResource::Kind::prefix: {
      std::string_view filename = part_of(parts, "filename");
      while (!filename.empty() && filename.front() == '/') filename.remove_prefix(1);
      path = p + "/" + quote_path_part(filename);
      if (!append_version.value_or(r_->static_options.append_version)) break;
      const std::string version = file_version(*r_, std::string(filename));
      if (!version.empty()) return URL(path, true).with_query({{"v", version}});
      break;
    }
    case RouterResource::Kind::dynamic:
      // The pattern's text with each parameter's value in its place.
      path = r_->literals[0];
      for (std::size_t i = 0; i < r_->names.size(); ++i) {
        path += quote_path_part(part_of(parts, r_->names[i]));
        path += r_->literals[i + 1];
      }
      break;
    case RouterResource::Kind::subapp:  // never named
    case RouterResource::Kind::domain:
      throw RuntimeError(".url_for() is not supported by sub-application root");
  }
  return URL(path, true);
}

namespace {

// What a static resource serves for `filename` (decoded, relative): the resolved path
// of a file or (with show_index) a directory; else the exception to answer with.
struct StaticTarget {
  std::string path;
  std::string relative;  // from the resource's directory, "." for the directory itself
  bool directory = false;
};

StaticTarget static_target(const RouterResource& r, const std::string& filename) {
  if (filename.find('\0') != std::string::npos) throw HTTPNotFound();
  if (!filename.empty() && filename[0] == '/') throw HTTPForbidden();
  std::vector<std::string_view> parts;
  std::string_view rest = filename;
  while (!rest.empty()) {
    const auto slash = rest.find('/');
    std::string_view seg = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      if (parts.empty()) throw HTTPNotFound();  // it leaves the directory
      parts.pop_back();
      continue;
    }
    parts.push_back(seg);
  }
  StaticTarget t;
  for (std::string_view seg : parts) t.relative.append(t.relative.empty() ? "" : "/").append(seg);
  const std::string path = t.relative.empty() ? r.directory : r.directory + "/" + t.relative;
  if (t.relative.empty()) t.relative = ".";
  char real[PATH_MAX];
  if (::realpath(path.c_str(), real) == nullptr) throw HTTPNotFound();
  if (!r.static_options.follow_symlinks) {
    char root[PATH_MAX];
    if (::realpath(r.directory.c_str(), root) == nullptr) throw HTTPNotFound();
    const std::string_view rv(real), rootv(root);
    if (rv != rootv && !(rv.size() > rootv.size() && rv.compare(0, rootv.size(), rootv) == 0 && rv[rootv.size()] == '/'))
      throw HTTPNotFound();
  }
  struct stat st {};
  if (::stat(real, &st) != 0) throw HTTPNotFound();
  t.directory = S_ISDIR(st.st_mode);
  if (t.directory && !r.static_options.show_index) throw HTTPForbidden();
  t.path = real;
  return t;
}

}  // namespace

std::string file_version(const RouterResource& r, const std::string& filename) {
  StaticTarget t;
  try {
    t = static_target(r, filename);
  } catch (const HTTPException&) {
    return {};  // outside the directory, missing, or refused
  }
  if (t.directory) return {};
  std::ifstream in(t.path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in && !in.eof()) return {};
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_sha256(), nullptr) != 1) {
    throw RuntimeError("EVP_Digest(SHA-256) failed for a static file's version");
  }
  std::string b64 = detail::base64_encode(std::string_view(reinterpret_cast<const char*>(digest), len));
  for (char& c : b64) c = c == '+' ? '-' : c == '/' ? '_' : c;  // base64url, padding kept (Python's)
  return b64;
}

namespace {

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#x27;"; break;
      default: out += c;
    }
  }
  return out;
}

// aiohttp's directory index (show_index): the entries sorted by name, a directory's
// with a trailing '/', each linked under the resource's prefix.
std::string directory_index(const std::string& prefix, const StaticTarget& t) {
  std::vector<std::pair<std::string, bool>> entries;  // name, is a directory
  if (DIR* d = ::opendir(t.path.c_str())) {
    while (const dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      struct stat st {};
      const bool dir = ::stat((t.path + "/" + name).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
      entries.emplace_back(name, dir);
    }
    ::closedir(d);
  } else {
    throw HTTPForbidden();
  }
  std::sort(entries.begin(), entries.end());
  const std::string index_of = "Index of /" + html_escape(t.relative);
  std::string html = "<html>\n<head>\n<title>" + index_of + "</title>\n</head>\n<body>\n<h1>" + index_of + "</h1>\n<ul>\n";
  bool first = true;
  for (const auto& [name, dir] : entries) {
    const std::string rel = t.relative == "." ? name : t.relative + "/" + name;
    if (!first) html += '\n';
    first = false;
    html += "<li><a href=\"" + html_escape(quote(prefix + "/" + rel)) + "\">" + html_escape(dir ? name + "/" : name) + "</a></li>";
  }
  html += "\n</ul>\n</body>\n</html>";
  return html;
}

}  // namespace

void UrlDispatcher::add_static(std::string_view prefix, std::string directory, StaticOptions options) {
  if (impl_->frozen) throw RuntimeError("Cannot register a resource into frozen router.");
  if (!prefix.starts_with('/')) throw ValueError("prefix should start with /");
  std::string p(prefix);
  while (!p.empty() && p.back() == '/') p.pop_back();  // "/static/" -> "/static", "/" -> ""
  struct stat st {};
  if (::stat(directory.c_str(), &st) != 0) throw ValueError("'" + directory + "' does not exist");
  if (!S_ISDIR(st.st_mode)) throw ValueError("'" + directory + "' is not a directory");
  RouterResource& r = impl_->resource_for(RouterResource::Kind::prefix, p);
  impl_->name(r, options.name);
  r.directory = std::move(directory);
  r.static_options = options;
  const RouterResource* res = &r;
  Handler h = [res](Request& request) -> Coro<StreamResponse> {
    StaticTarget t = static_target(*res, request.match_info().getone("filename"));
    if (t.directory) co_return Response({.text = directory_index(res->pattern, t), .content_type = "text/html"});
    co_return FileResponse(std::move(t.path), res->static_options.chunk_size);
  };
  r.routes.push_back(RouterRoute{"GET", h, {}});
  r.routes.push_back(RouterRoute{"HEAD", std::move(h), {}});
}

// --- Application

Application::Application() = default;
Application::Application(Options options) : options_(options) {}

namespace {
Handler compose(const std::vector<Middleware>& middlewares, Handler inner) {
  for (auto it = middlewares.rbegin(); it != middlewares.rend(); ++it) {
    inner = [mw = *it, next = std::move(inner)](Request& r) { return mw(r, next); };
  }
  return inner;
}
}  // namespace

void Application::add_subapp(std::string_view prefix, Application& subapp) {
  std::string p(prefix);
  while (!p.empty() && p.back() == '/') p.pop_back();
  if (p.empty()) throw ValueError("Prefix cannot be empty");
  if (p[0] != '/') throw ValueError("prefix should start with /");
  auto r = std::make_unique<RouterResource>();
  r->kind = RouterResource::Kind::subapp;
  r->pattern = p;
  mount(std::move(r), subapp);
}

namespace {

// aiohttp's Domain.validation: the domain as add_domain keeps it: lower case, without
// trailing dots, in IDNA form, with its port unless that is 80. A mask may have '*'
// in its labels.
std::string canonical_domain(std::string_view given) {
  std::string d = detail::ascii_lower(given);
  while (!d.empty() && d.back() == '.') d.pop_back();
  if (d.empty()) throw ValueError("Domain cannot be empty");
  if (d.find("://") != std::string::npos) throw ValueError("Scheme not supported");
  const URL url = [&] {  // as aiohttp, through the URL's parser
    try {
      return URL("http://" + d);
    } catch (const InvalidURL& e) {  // a bad port, in yarl's words
      throw ValueError("Invalid URL: " + e.description());
    }
  }();
  const std::string host = url.raw_host().value_or("");
  // Each label: 1 to 63 of [a-z0-9-] (and '*' in a mask), not starting or ending with '-'.
  std::size_t begin = 0;
  for (;;) {
    const std::size_t dot = std::min(host.find('.', begin), host.size());
    const std::string_view label = std::string_view(host).substr(begin, dot - begin);
    const bool ok = !label.empty() && label.size() <= 63 && label.front() != '-' && label.back() != '-' &&
                    std::all_of(label.begin(), label.end(), [](char c) {
                      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '*';
                    });
    if (!ok) throw ValueError("Domain not valid");
    if (dot >= host.size()) break;
    begin = dot + 1;
  }
  const int port = url.port().value_or(80);
  return port == 80 ? host : host + ":" + std::to_string(port);
}

// Whether `host` (lower case) is what `pattern` names: the same, or for a mask, with
// each '*' standing for any run of characters.
bool host_matches(std::string_view pattern, std::string_view host) {
  std::size_t p = 0, h = 0, star = std::string_view::npos, resume = 0;
  while (h < host.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = h;
    } else if (p < pattern.size() && pattern[p] == host[h]) {
      ++p;
      ++h;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      h = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace

void Application::add_domain(std::string_view domain, Application& subapp) {
  auto r = std::make_unique<RouterResource>();
  r->kind = RouterResource::Kind::domain;
  r->pattern = canonical_domain(domain);
  mount(std::move(r), subapp);
}

void Application::mount(std::unique_ptr<RouterResource> r, Application& subapp) {
  if (frozen_ || router_.impl().frozen) throw RuntimeError("Cannot add sub application to frozen application");
  if (subapp.frozen_) throw RuntimeError("Cannot add frozen application");
  if (subapp.parent_ != nullptr || &subapp == this) {
    throw RuntimeError("Cannot add an application that is a sub-application already");
  }
  r->app = &subapp;
  if (r->kind == RouterResource::Kind::subapp) subapp.router_.impl().add_prefix(r->pattern);
  router_.impl().resources.push_back(std::move(r));
  subapp.router_.impl().frozen = true;  // aiohttp's pre_freeze: no more routes
  subapp.parent_ = this;
  // aiohttp's _reg_subapp_signals: the sub-application's hooks run as this one's.
  Application* sub = &subapp;
  on_startup.push_back([sub](Application&) { return sub->startup(); });
  on_shutdown.push_back([sub](Application&) { return sub->shutdown(); });
  on_cleanup.push_back([sub](Application&) { return sub->cleanup(); });
}

// --- config_dict

ConfigDict Request::config_dict() const { return ConfigDict(*app_, served_); }

std::size_t ConfigDict::size() const {
  std::vector<std::string_view> names;
  for (const Application* a : apps_) {
    for (const auto& entry : a->state_) names.push_back(entry.first);
  }
  std::sort(names.begin(), names.end());
  return static_cast<std::size_t>(std::unique(names.begin(), names.end()) - names.begin());
}

bool ConfigDict::empty() const noexcept {
  return std::all_of(apps_.begin(), apps_.end(), [](const Application* a) { return a->state_.empty(); });
}

void Application::freeze() { freeze_under({}); }

void Application::freeze_under(std::vector<Application*> outer) {
  if (frozen_) return;
  frozen_ = true;
  cleanup_ctx.frozen_ = true;
  auto& impl = router_.impl();
  impl.frozen = true;
  outer.push_back(this);
  // `inner` through the middlewares of every application from the one served down to
  // this one, each layer seeing its application as request.app() (aiohttp's
  // current_app).
  auto through = [&outer](Handler inner) {
    for (std::size_t i = outer.size(); i-- > 0;) {
      inner = compose(outer[i]->middlewares, std::move(inner));
      if (i == 0) break;  // the application served is request.app() already
      inner = [app = outer[i], next = std::move(inner)](Request& request) -> Coro<StreamResponse> {
        Application* const parent = std::exchange(request.app_, app);
        try {
          StreamResponse response = co_await next(request);
          request.app_ = parent;
          co_return response;
        } catch (...) {
          request.app_ = parent;
          throw;
        }
      };
    }
    return inner;
  };
  for (auto& r : impl.resources) {
    if (r->app != nullptr) r->app->freeze_under(outer);
    for (RouterRoute& route : r->routes) route.composed = through(route.handler);
  }
  impl.raise_match_error = through([](Request& request) -> Coro<StreamResponse> {
    // The request's routing failure, thrown here so that middlewares see it.
    if (auto& allowed = request.allowed_methods_) throw HTTPMethodNotAllowed(request.method(), std::move(*allowed));
    throw HTTPNotFound();
    co_return StreamResponse();
  });
}

Coro<StreamResponse> Application::handle(Request& request) {
  const std::string_view target = request.raw_path();
  std::string decoded;
  std::string_view path = target.substr(0, target.find('?'));
  if (path.empty() || path[0] != '/' || path.find('%') != std::string_view::npos) {
    decoded = request.path();
    path = decoded;
  }
  request.app_ = this;
  request.served_ = this;
  return dispatch(request, path);
}

Coro<StreamResponse> Application::dispatch(Request& request, std::string_view path) {
  auto& impl = router_.impl();
  const std::string_view method = request.method();
  MultiDict& info = request.match_info();
  std::vector<std::string> allowed;
  bool path_matched = false;
  std::optional<std::string> host;  // lower case, read at the first domain resource
  for (const auto& r : impl.resources) {
    if (r->kind == RouterResource::Kind::domain) {  // the Host's: its routes, or its 404 or 405
      if (!host) host = detail::ascii_lower(request.header("Host").value_or(""));
      if (!host->empty() && host_matches(r->pattern, *host)) return r->app->dispatch(request, path);
      continue;
    }
    if (!r->match(path, info)) continue;
    // Under a sub-application's prefix: its routes, or its 404 or 405 (aiohttp's).
    if (r->kind == RouterResource::Kind::subapp) return r->app->dispatch(request, path);
    const RouterRoute* get = nullptr;
    for (const RouterRoute& route : r->routes) {
      if (route.method == method || route.method == "*") return route.composed(request);
      if (route.method == "GET") get = &route;
    }
    if (method == "HEAD" && get != nullptr) return get->composed(request);
    path_matched = true;
    for (const RouterRoute& route : r->routes) allowed.push_back(route.method);
    info.clear();
  }
  if (path_matched) request.allowed_methods_ = std::move(allowed);
  return impl.raise_match_error(request);
}

// aiohttp puts the cleanup contexts first in on_startup and in on_cleanup.
Coro<void> Application::startup() {
  co_await cleanup_ctx.on_startup(*this);
  for (auto& hook : on_startup) co_await hook(*this);
}
Coro<void> Application::shutdown() {
  for (auto& hook : on_shutdown) co_await hook(*this);
}
Coro<void> Application::cleanup() {
  co_await cleanup_ctx.on_cleanup();
  for (auto& hook : on_cleanup) co_await hook(*this);
}

// --- cleanup_ctx

CleanupError::CleanupError(const std::string& message, std::vector<std::exception_ptr> exceptions)
    : RuntimeError([&] {
        std::string what = message;
        for (const std::exception_ptr& e : exceptions) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& x) {
            what += "; ";
            what += x.what();
          }
        }
        return what;
      }()),
      exceptions_(std::move(exceptions)) {}

void CleanupContext::check_frozen() const {
  if (frozen_) throw RuntimeError("Cannot modify frozen list.");
}

Coro<void> CleanupContext::on_startup(Application& app) {
  for (auto& make : entries_) {
    std::unique_ptr<detail::CleanupGen> it = make(app);
    if (!co_await it->advance()) throw RuntimeError(it->repr() + " ended without a yield (a cleanup context yields once)");
    exits_.push_back(std::move(it));
  }
}

Coro<void> CleanupContext::on_cleanup() {
  std::vector<std::exception_ptr> errors;
  while (!exits_.empty()) {  // the last started first
    std::unique_ptr<detail::CleanupGen> it = std::move(exits_.back());
    exits_.pop_back();
    try {
      if (co_await it->advance()) {
        errors.push_back(std::make_exception_ptr(RuntimeError(it->repr() + " has more than one 'yield'")));
      }
    } catch (const std::exception&) {  // Python's Exception: a cancellation goes through
      errors.push_back(std::current_exception());
    }
  }
  if (errors.size() == 1) std::rethrow_exception(errors.front());
  if (!errors.empty()) throw CleanupError("Multiple errors on cleanup stage", std::move(errors));
}

// --- AppRunner and the sites

AppRunner::AppRunner(Application& app, RunnerOptions options)
    : app_(app), server_(std::make_shared<detail::WebServer>(app, std::move(options))) {}

AppRunner::~AppRunner() {
  for (Server& srv : server_->servers) srv.close();
}

Coro<void> AppRunner::setup() {
  app_.freeze();
  co_await app_.startup();
}

std::size_t AppRunner::connections() const noexcept { return server_->connections.size(); }

std::vector<std::string> AppRunner::addresses() const { return server_->addresses; }

Coro<void> AppRunner::cleanup() {
  detail::WebServer& s = *server_;
  for (Server& srv : s.servers) srv.close();
  s.close_idle();
  co_await app_.shutdown();
  if (!s.connections.empty()) {
    s.all_closed = get_running_loop().create_future();
    Future<void> done = *s.all_closed;
    bool timed_out = false;
    try {
      co_await wait_for(shield(done), s.options.shutdown_timeout);
    } catch (const TimeoutError&) {
      timed_out = true;
    }
    if (timed_out) {
      s.cancel_all();
      co_await wait_for(shield(done), 5.0);
    }
  }
  for (Server& srv : s.servers) co_await srv.wait_closed();
  s.servers.clear();
  co_await app_.cleanup();
}

BaseSite::~BaseSite() = default;

Coro<void> BaseSite::stop() {
  if (server_) {
    server_->close();
    co_await server_->wait_closed();
  }
}

TCPSite::TCPSite(AppRunner& runner, std::string host, int port, SSLOption ssl, bool reuse_port)
    : BaseSite(runner), host_(std::move(host)), port_(port), ssl_(std::move(ssl)), reuse_port_(reuse_port) {}

Coro<void> TCPSite::start() {
  Server::Handler h = detail::WebServer::handler(runner_.server_ref());
  detail::WebServer* ws = &runner_.server();
  ServerOptions opts;
  opts.ssl = ssl_;
  opts.reuse_port = reuse_port_;
  Server srv = co_await start_server(std::move(h), host_, port_, opts);
  port_ = srv.port();
  server_ = srv;
  ws->servers.push_back(srv);
  ws->addresses.push_back(name());
}

std::string TCPSite::name() const {
  const bool tls = static_cast<bool>(ssl_);
  const std::string host = host_.empty() ? "0.0.0.0" : host_;
  return std::string(tls ? "https" : "http") + "://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) +
         ":" + std::to_string(port_);
}

int TCPSite::port() const { return port_; }

UnixSite::UnixSite(AppRunner& runner, std::string path) : BaseSite(runner), path_(std::move(path)) {}

Coro<void> UnixSite::start() {
  Server::Handler h = detail::WebServer::handler(runner_.server_ref());
  detail::WebServer* ws = &runner_.server();
  Server srv = co_await start_unix_server(std::move(h), path_);
  server_ = srv;
  ws->servers.push_back(srv);
  ws->addresses.push_back(name());
}

std::string UnixSite::name() const { return "http://unix:" + path_ + ":"; }

// --- run_app

Coro<void> serve_app(Application& app, std::string host, int port, RunAppOptions options) {
  AppRunner runner(app, options.runner);
  std::unique_ptr<BaseSite> site;
  std::exception_ptr failed;
  try {
    co_await runner.setup();
    if (!options.path.empty()) {
      site = std::make_unique<UnixSite>(runner, options.path);
    } else {
      site = std::make_unique<TCPSite>(runner, host, port, options.ssl);
    }
    co_await site->start();
  } catch (...) {
    failed = std::current_exception();
  }
  if (failed) {  // as aiohttp's run_app: what started is cleaned up (the cleanup contexts that did)
    try {
      co_await runner.cleanup();
    } catch (const std::exception&) {
      ExceptionContext context;
      context.message = "Error in the cleanup after a failed start";
      context.exception = std::current_exception();
      get_running_loop().call_exception_handler(context);
    }
    std::rethrow_exception(failed);
  }
  if (options.print) {
    std::printf("======== Running on %s ========\n(Press CTRL+C to quit)\n", site->name().c_str());
    std::fflush(stdout);
  }
  EventLoop& loop = get_running_loop();
  Event stop;
  loop.add_signal_handler(SIGINT, [&stop] { stop.set(); });
  loop.add_signal_handler(SIGTERM, [&stop] { stop.set(); });
  struct Unhook {
    EventLoop& loop;
    ~Unhook() {
      loop.remove_signal_handler(SIGINT);
      loop.remove_signal_handler(SIGTERM);
    }
  } unhook{loop};
  std::exception_ptr cancelled;
  try {
    co_await stop.wait();
  } catch (const CancelledError&) {
    cancelled = std::current_exception();
  }
  co_await runner.cleanup();
  if (cancelled) std::rethrow_exception(cancelled);
}

void run_app(Application& app, std::string host, int port, RunAppOptions options) {
  aio::run(serve_app(app, std::move(host), port, std::move(options)));
}

}  // namespace aio::http
