// Seed d.fetch (000_77fea42500069c72.txt, lines 2319-2435): fetch three URLs at once,
// the async/await form (the seed's gevent, Tornado and generator forms show the same
// program before async/await existed). The seed used aiohttp.get; this port speaks
// HTTP/1.1 over asyncio's streams, to local stand-ins of the seed's three sites
// (local_web.hpp) answering after S seconds.
//
//   d_fetch [--latency S] [URL...]
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "aio/aio.hpp"
#include "local_web.hpp"

// What aiohttp.get(url) and response.text() gave the seed: the body of a GET.
aio::Coro<std::string> http_get_text(std::string url) {
  const SplitUrl u = urlsplit(url);
  auto [reader, writer] = co_await aio::open_connection(u.hostname, u.port ? u.port : 80);
  writer.write("GET " + u.path + " HTTP/1.1\r\nHost: " + u.hostname + "\r\nConnection: close\r\n\r\n");
  co_await writer.drain();
  for (;;) {  // the status line and headers
    const std::string line = co_await reader.readline();
    if (line.empty() || line == "\r\n") break;
  }
  std::string body = co_await reader.read();  // Connection: close: the body ends at EOF
  writer.close();
  co_await writer.wait_closed();
  co_return body;
}

aio::Coro<std::string> call_url(std::string url) {
  std::printf("Starting %s\n", url.c_str());
  std::string data = co_await http_get_text(url);
  std::printf("%s: %zu bytes: %s\n", url.c_str(), data.size(), data.c_str());
  co_return data;
}

aio::Coro<> main_(std::vector<std::string> urls, double latency) {
  LocalWeb web;
  if (urls.empty()) {
    // named first: g++ 12 cannot build an initializer list inside co_await
    std::vector<LocalSite> sites = {{"HTTP/1.1 200 OK", "<!doctype html><title>Google</title>"},
                                    {"HTTP/1.1 200 OK", "<!DOCTYPE html><title>Яндекс</title>"},
                                    {"HTTP/1.1 200 OK", "<!doctype html><title>Welcome to Python.org</title>"}};
    web = co_await LocalWeb::start(std::move(sites), latency);
    for (std::size_t i = 0; i < web.size(); ++i) urls.push_back(web.url(i));
  }
  // futures = [call_url(url) for url in urls]; asyncio.wait(futures) takes tasks on 3.12
  std::vector<aio::Task<std::string>> futures;
  for (const std::string& url : urls) futures.push_back(aio::create_task(call_url(url)));
  co_await aio::wait(futures);
  co_await web.close();
}

int main(int argc, char** argv) {
  std::vector<std::string> urls;
  double latency = 0.5;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--latency") == 0 && i + 1 < argc) {
      latency = std::stod(argv[++i]);
    } else {
      urls.push_back(argv[i]);
    }
  }
  aio::run(main_(std::move(urls), latency));
}
