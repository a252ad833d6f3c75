// Seed a5.3 (000_77fea42500069c72.txt, lines 527-555): the same 12 cities with a
// blocking client (the seed's requests.get), one after another: about 12 latencies.
// The local stand-in runs on a thread of its own, so the blocking calls cannot stall
// it; no event loop runs in the main thread, as in the seed.
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "../http/stand_in.hpp"
#include "aio/aio.hpp"
#include "seed_args.hpp"

void get_weather(const std::string& base, const std::string& city) {
  const std::string url = weather_url(base, city);
  const nlohmann::json weather_json = nlohmann::json::parse(stand_in::blocking_get(aio::http::URL(url).str()));
  std::printf("%s: %s\n", city.c_str(), weather_json["weather"][0]["main"].get<std::string>().c_str());
  std::fflush(stdout);
}

void main_(const std::vector<std::string>& cities, const std::string& base) {
  for (const std::string& city : cities) get_weather(base, city);
}

int main(int argc, char** argv) {
  WeatherArgs args = weather_args(argc, argv);
  std::optional<stand_in::ServicesThread> services;
  if (args.url.empty()) {
    services.emplace(args.latency);
    args.url = services->url("/data/2.5/weather");
  }
  std::printf("%s\n", aio::time::strftime("%X").c_str());
  main_(kSeedCities, args.url);
  std::printf("%s\n", aio::time::strftime("%X").c_str());
}
