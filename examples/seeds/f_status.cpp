// Seed f.status (000_77fea42500069c72.txt, lines 9143-10000): a website status checker
// speaking raw HTTP over asyncio's streams, first one site after another, then all at
// once with gather.
//
//   f_status [--gather] [--latency S] [URL...]
//
// With no URL it checks ten local stand-in sites (local_web.hpp) that answer with the
// status lines the seed shows, each after S seconds (0.5 by default): the sequential
// run takes ten times S, the gather run S.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "aio/aio.hpp"
#include "local_web.hpp"

// get the HTTP/S status of a webpage
aio::Coro<std::string> get_status(std::string url) {
  // split the url into components
  const SplitUrl url_parsed = urlsplit(url);
  // open the connection
  aio::ConnectionOptions options;
  int port = url_parsed.port;
  if (url_parsed.scheme == "https") {
    options.ssl = true;  // ssl=True: the system's CAs, the host name checked
    if (port == 0) port = 443;
  } else if (port == 0) {
    port = 80;
  }
  auto [reader, writer] = co_await aio::open_connection(url_parsed.hostname, port, options);
  // send GET request
  const std::string query = "GET " + url_parsed.path + " HTTP/1.1\r\nHost: " + url_parsed.hostname + "\r\n\r\n";
  // write query to socket
  writer.write(query);
  // wait for the bytes to be written to the socket
  co_await writer.drain();
  // read the single line response
  std::string response = co_await reader.readline();
  // close the connection
  writer.close();
  // decode and strip white space
  while (!response.empty() && std::strchr(" \t\r\n", response.back()) != nullptr) response.pop_back();
  // return the response
  co_return response;
}

// main coroutine
aio::Coro<> main_(std::vector<std::string> sites, bool concurrent, double latency) {
  LocalWeb web;
  if (sites.empty()) {
    // the seed's ten sites answered as they answered the seed
    // named first: g++ 12 cannot build an initializer list inside co_await
    std::vector<LocalSite> seed_sites = {{"HTTP/1.1 200 OK", "google"},
                                           {"HTTP/1.1 200 OK", "youtube"},
                                           {"HTTP/1.1 302 Found", "facebook"},
                                           {"HTTP/1.1 200 OK", "twitter"},
                                           {"HTTP/1.1 200 OK", "instagram"},
                                           {"HTTP/1.1 200 OK", "baidu"},
                                           {"HTTP/1.1 200 OK", "wikipedia"},
                                           {"HTTP/1.1 302 Moved temporarily", "yandex"},
                                           {"HTTP/1.1 301 Moved Permanently", "yahoo"},
                                           {"HTTP/1.1 302 Found", "whatsapp"}};
    web = co_await LocalWeb::start(std::move(seed_sites), latency);
    for (std::size_t i = 0; i < web.size(); ++i) sites.push_back(web.url(i));
  }
  if (!concurrent) {
    // check the status of all websites
    for (const std::string& url : sites) {
      // get the status for the url
      const std::string status = co_await get_status(url);
      // report the url and its status
      std::printf("%-30s:\t%s\n", url.c_str(), status.c_str());
    }
  } else {
    // create all coroutine requests
    std::vector<aio::Coro<std::string>> coros;
    for (const std::string& url : sites) coros.push_back(get_status(url));
    // execute all coroutines and wait
    std::vector<std::string> results = co_await aio::gather(std::move(coros));
    // process all results
    for (std::size_t i = 0; i < sites.size(); ++i) std::printf("%-30s:\t%s\n", sites[i].c_str(), results[i].c_str());
  }
  co_await web.close();
}

int main(int argc, char** argv) {
  std::vector<std::string> sites;
  bool concurrent = false;
  double latency = 0.5;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--gather") == 0) {
      concurrent = true;
    } else if (std::strcmp(argv[i], "--latency") == 0 && i + 1 < argc) {
      latency = std::stod(argv[++i]);
    } else {
      sites.push_back(argv[i]);
    }
  }
  // run the asyncio program
  aio::run(main_(std::move(sites), concurrent, latency));
}
