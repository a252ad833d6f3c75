// Seed s4.scrape (004_b3bba8fa071044f7.txt, lines 235-275): three pages fetched with one
// ClientSession under gather, then each URL with the length of its text. The seed's
// pages are on superdataminer.com; this port's are local stand-ins (examples/http/)
// answering after --latency seconds (0.5 s by default).
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../http/stand_in.hpp"
#include "aio/aio.hpp"
#include "seed_args.hpp"
#include "aio/http.hpp"

aio::Coro<std::size_t> scrape_page(aio::http::ClientSession& session, std::string url) {
  std::printf("Scraping %s\n", url.c_str());
  aio::http::ClientResponse resp = co_await session.get(url);
  co_return (co_await resp.text()).size();
}

aio::Coro<> main_(double latency) {
  auto services = co_await stand_in::Services::start(latency);
  const std::vector<std::string> urls = {services->url("/page/1"), services->url("/page/2"),
                                         services->url("/page/3")};
  std::vector<aio::Coro<std::size_t>> coro_objs;
  std::vector<std::size_t> results;
  {
    aio::http::ClientSession session;
    for (const std::string& url : urls) coro_objs.push_back(scrape_page(session, url));
    results = co_await aio::gather(std::move(coro_objs));
    co_await session.close();
  }
  for (std::size_t i = 0; i < urls.size(); ++i) std::printf("%s -> %zu\n", urls[i].c_str(), results[i]);
  co_await services->close();
}

int main(int argc, char** argv) {
  const double latency = latency_arg(argc, argv, 0.5);
  aio::run(main_(latency));
}
