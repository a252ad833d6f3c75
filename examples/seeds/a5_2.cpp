// Seed a5.2 (000_77fea42500069c72.txt, lines 482-515): the weather of 12 cities, one
// ClientSession per task, all tasks at once: about one request's latency in all. The
// seed asks openweathermap; this port asks a local stand-in (examples/http/) that
// answers after --latency seconds (1 s by default), or --url.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "../http/stand_in.hpp"
#include "aio/aio.hpp"
#include "aio/http.hpp"
#include "seed_args.hpp"

aio::Coro<> get_weather(std::string base, std::string city) {
  aio::http::ClientSession session;
  const std::string url = weather_url(base, city);
  aio::http::ClientResponse response = co_await session.get(url);
  const nlohmann::json weather_json = co_await response.json();
  std::printf("%s: %s\n", city.c_str(), weather_json["weather"][0]["main"].get<std::string>().c_str());
  co_await session.close();
}

aio::Coro<> main_(std::vector<std::string> cities, WeatherArgs args) {
  std::unique_ptr<stand_in::Services> services;
  if (args.url.empty()) {
    services = co_await stand_in::Services::start(args.latency);
    args.url = services->url("/data/2.5/weather");
  }
  std::vector<aio::Task<>> tasks;
  for (const std::string& city : cities) tasks.push_back(aio::create_task(get_weather(args.url, city)));
  for (aio::Task<>& task : tasks) co_await task;
  if (services) co_await services->close();
}

int main(int argc, char** argv) {
  const WeatherArgs args = weather_args(argc, argv);
  std::printf("%s\n", aio::time::strftime("%X").c_str());
  aio::run(main_(kSeedCities, args));
  std::printf("%s\n", aio::time::strftime("%X").c_str());
}
