// Seed s1.reddit (001_73b3861f43fb8fba.txt, lines 86-125): the top posts of three
// subreddits fetched at once with one ClientSession, scheduled with loop.create_task (the seed's ensure_future) on a
// loop that runs forever; each prints its block when its answer comes; Ctrl+C stops the
// loop (the seed's SIGINT handler, here loop.add_signal_handler). The seed asks
// reddit.com; this port asks a local stand-in (examples/http/) answering after
// --latency seconds (0.5 s by default). --until-done stops the loop once the three
// blocks are printed (for tests), where the seed waits for Ctrl+C.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "../http/stand_in.hpp"
#include "aio/aio.hpp"
#include "aio/http.hpp"

aio::Coro<std::string> get_json(aio::http::ClientSession& client, std::string url) {
  aio::http::ClientResponse response = co_await client.get(url);
  if (response.status() != 200) throw aio::RuntimeError("assert response.status == 200");
  co_return co_await response.read();
}

aio::Coro<> get_reddit_top(std::string base, std::string subreddit, aio::http::ClientSession& client) {
  const std::string data1 = co_await get_json(client, base + "/r/" + subreddit + "/top.json?sort=top&t=day&limit=5");
  const nlohmann::json j = nlohmann::json::parse(data1);
  for (const auto& i : j["data"]["children"]) {
    const int score = i["data"]["score"].get<int>();
    const std::string title = i["data"]["title"].get<std::string>();
    const std::string link = i["data"]["url"].get<std::string>();
    std::printf("%d: %s (%s)\n", score, title.c_str(), link.c_str());
  }
  std::printf("DONE: %s\n\n", subreddit.c_str());
  std::fflush(stdout);
}

aio::Coro<std::unique_ptr<stand_in::Services>> start_services(double latency) {
  co_return co_await stand_in::Services::start(latency);
}

// aiohttp.ClientSession(loop=loop): a session belongs to its loop, made inside it.
aio::Coro<std::unique_ptr<aio::http::ClientSession>> make_client() {
  co_return std::make_unique<aio::http::ClientSession>();
}

int main(int argc, char** argv) {
  double latency = 0.5;
  bool until_done = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--latency" && i + 1 < argc) {
      latency = std::strtod(argv[++i], nullptr);
    } else if (arg == "--until-done") {
      until_done = true;
    } else {
      std::fprintf(stderr, "usage: %s [--latency SECONDS] [--until-done]\n", argv[0]);
      return 2;
    }
  }
  aio::EventLoop& loop = aio::get_event_loop();
  std::unique_ptr<stand_in::Services> services = loop.run_until_complete(start_services(latency));
  const std::string base = services->url("");
  std::unique_ptr<aio::http::ClientSession> client_ptr = loop.run_until_complete(make_client());
  aio::http::ClientSession& client = *client_ptr;

  loop.add_signal_handler(SIGINT, [&loop] { loop.stop(); });
  auto t1 = loop.create_task(get_reddit_top(base, "python", client));
  auto t2 = loop.create_task(get_reddit_top(base, "programming", client));
  auto t3 = loop.create_task(get_reddit_top(base, "compsci", client));
  if (until_done) {
    for (auto* t : {&t1, &t2, &t3}) {
      t->add_done_callback([&loop, &t1, &t2, &t3] {
        if (t1.done() && t2.done() && t3.done()) loop.stop();
      });
    }
  }
  loop.run_forever();
  loop.run_until_complete(client.close());
  loop.run_until_complete(services->close());
  loop.close();
}
