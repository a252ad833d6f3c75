// The command lines of the HTTP seeds: latency_arg for the simple ones; for the
// weather seeds (a5.2, a5.3, a5.4) the seed's cities and their command line: [--latency S] (how long the local service takes per answer, 1 s by default)
// [--url URL] (another service answering ?q=CITY&APPID=... as openweathermap does;
// then no local service starts).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

inline const std::vector<std::string> kSeedCities = {"Moscow", "St. Petersburg", "Rostov-on-Don", "Kaliningrad",
                                                     "Vladivostok", "Minsk", "Beijing", "Delhi",
                                                     "Istanbul", "Tokyo", "London", "New York"};

struct WeatherArgs {
  double latency = 1.0;
  std::string url;  // empty: the local service
};

inline WeatherArgs weather_args(int argc, char** argv) {
  WeatherArgs a;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--latency" && i + 1 < argc) {
      a.latency = std::strtod(argv[++i], nullptr);
    } else if (arg == "--url" && i + 1 < argc) {
      a.url = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--latency SECONDS] [--url URL]\n", argv[0]);
      std::exit(2);
    }
  }
  return a;
}

// The seed's f'...?q={city}&APPID=...' (the URL class quotes the space of "New York").
inline std::string weather_url(const std::string& base, const std::string& city) {
  return base + "?q=" + city + "&APPID=2a4ff86f9aaa70041ec8e82db64abf56";
}

/// The one option of the simpler HTTP seeds: [--latency SECONDS]; exits 2 on others.
inline double latency_arg(int argc, char** argv, double fallback) {
  if (argc == 3 && std::string_view(argv[1]) == "--latency") return std::strtod(argv[2], nullptr);
  if (argc != 1) {
    std::fprintf(stderr, "usage: %s [--latency SECONDS]\n", argv[0]);
    std::exit(2);
  }
  return fallback;
}
