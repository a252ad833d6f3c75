// Seed a5.4 (000_77fea42500069c72.txt, lines 565-600): as a5.2, but each task returns
// its line and main prints the results of gather, in the order of the cities.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "../http/stand_in.hpp"
#include "aio/aio.hpp"
#include "aio/http.hpp"
#include "seed_args.hpp"

aio::Coro<std::string> get_weather(std::string base, std::string city) {
  aio::http::ClientSession session;
  const std::string url = weather_url(base, city);
  aio::http::ClientResponse response = co_await session.get(url);
  const nlohmann::json weather_json = co_await response.json();
  co_await session.close();
  co_return city + ": " + weather_json["weather"][0]["main"].get<std::string>();
}

aio::Coro<> main_(std::vector<std::string> cities, WeatherArgs args) {
  std::unique_ptr<stand_in::Services> services;
  if (args.url.empty()) {
    services = co_await stand_in::Services::start(args.latency);
    args.url = services->url("/data/2.5/weather");
  }
  std::vector<aio::Task<std::string>> tasks;
  for (const std::string& city : cities) tasks.push_back(aio::create_task(get_weather(args.url, city)));
  const std::vector<std::string> results = co_await aio::gather(tasks);
  for (const std::string& result : results) std::printf("%s\n", result.c_str());
  if (services) co_await services->close();
}

int main(int argc, char** argv) {
  const WeatherArgs args = weather_args(argc, argv);
  std::printf("%s\n", aio::time::strftime("%X").c_str());
  aio::run(main_(kSeedCities, args));
  std::printf("%s\n", aio::time::strftime("%X").c_str());
}
