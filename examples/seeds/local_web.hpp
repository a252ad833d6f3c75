// A stand-in for the web sites the seeds fetch: small HTTP/1.1 servers on 127.0.0.1,
// built on aio's streams, each answering every request with one fixed response after
// a latency (so that sequential and concurrent fetching show their difference on the
// virtual clock as in real time). Nothing reaches the internet.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "aio/aio.hpp"

struct LocalSite {
  std::string status_line;  // "HTTP/1.1 200 OK"
  std::string body;
};

class LocalWeb {
 public:
  /// Starts one server per site, each on a free port.
  static aio::Coro<LocalWeb> start(std::vector<LocalSite> sites, double latency) {
    LocalWeb web;
    for (LocalSite& site : sites) {
      // The lambda is no coroutine: serve() gets its own copies of what it needs.
      auto handler = [site, latency](aio::StreamReader reader, aio::StreamWriter writer) {
        return serve(site, latency, std::move(reader), std::move(writer));
      };
      web.servers_.push_back(co_await aio::start_server(handler, "127.0.0.1", 0));
    }
    co_return web;
  }

  /// "http://127.0.0.1:PORT/" of site i.
  std::string url(std::size_t i) const { return "http://127.0.0.1:" + std::to_string(servers_.at(i).port()) + "/"; }
  std::size_t size() const noexcept { return servers_.size(); }

  aio::Coro<> close() {
    for (aio::Server& s : servers_) s.close();
    for (aio::Server& s : servers_) co_await s.wait_closed();
  }

 private:
  static aio::Coro<> serve(LocalSite site, double latency, aio::StreamReader reader, aio::StreamWriter writer) {
    // The request line and headers, up to the blank line; a body is not expected.
    for (;;) {
      const std::string line = co_await reader.readline();
      if (line.empty() || line == "\r\n" || line == "\n") break;
    }
    co_await aio::sleep(latency);
    writer.write(site.status_line + "\r\nContent-Type: text/html\r\nContent-Length: " +
                 std::to_string(site.body.size()) + "\r\nConnection: close\r\n\r\n" + site.body);
    co_await writer.drain();
    writer.close();
    co_await writer.wait_closed();
  }

  std::vector<aio::Server> servers_;
};

/// What urllib.parse.urlsplit gives the seeds: scheme, host, port, path.
struct SplitUrl {
  std::string scheme, hostname, path;
  int port = 0;
};

inline SplitUrl urlsplit(const std::string& url) {
  SplitUrl u;
  std::string rest = url;
  if (const auto at = rest.find("://"); at != std::string::npos) {
    u.scheme = rest.substr(0, at);
    rest = rest.substr(at + 3);
  }
  const auto slash = rest.find('/');
  std::string netloc = rest.substr(0, slash);
  u.path = slash == std::string::npos ? "/" : rest.substr(slash);
  if (const auto colon = netloc.rfind(':'); colon != std::string::npos) {
    u.port = std::stoi(netloc.substr(colon + 1));
    netloc = netloc.substr(0, colon);
  }
  u.hostname = netloc;
  return u;
}
