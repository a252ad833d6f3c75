// The demo: the weather of 12 cities, fetched one after another with a blocking client,
// then concurrently with aio's ClientSession and gather (seeds a5.2 and a5.3).
//
// It starts the seeds' local weather service on 127.0.0.1 (examples/http/: aio's HTTP
// server, on a thread of its own so that the blocking client cannot stall it), in the
// shape of the seeds' openweathermap API: GET /data/2.5/weather?q=CITY answers after a
// latency (1 s by default). Sequentially the latencies add up; concurrently they
// overlap. More than 12 cities go round the 12 again.
//
//   aio_demo [--cities N] [--latency SECONDS] [--url URL]
//
// --url points both runs at another service (any URL answering ?q=CITY with that JSON);
// then no local service starts.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aio/aio.hpp"
#include "aio/http.hpp"
#include "http/local_services.hpp"
#include "http/stand_in.hpp"


namespace {

struct Args {
  std::size_t cities = 12;
  double latency = 1.0;
  std::string url;  // empty: start the local service
};

// The seeds' 12 cities, over again when more are asked for.
std::string city_name(std::size_t i) {
  const auto& cities = local_services::cities();
  return std::string(cities[i % cities.size()].name);
}

// --- progress bars

class Progress {
 public:
  Progress(std::string label, std::size_t total) : label_(std::move(label)), total_(total), tty_(::isatty(1) != 0) {
    draw();
  }
  void step() {
    ++done_;
    draw();
  }
  void finish(double seconds) {
    seconds_ = seconds;
    done_ = total_;
    draw(true);
    std::printf("\n");
    std::fflush(stdout);
  }

 private:
  void draw(bool last = false) {
    if (!tty_ && !last) return;  // a pipe gets the finished bar only
    constexpr std::size_t width = 24;
    const std::size_t filled = total_ == 0 ? width : done_ * width / total_;
    std::string bar(filled, '#');
    bar.append(width - filled, '.');
    std::printf("%s%-12s [%s] %2zu/%zu", tty_ ? "\r" : "", label_.c_str(), bar.c_str(), done_, total_);
    if (last) std::printf("  %.2f s", seconds_);
    std::fflush(stdout);
  }

  std::string label_;
  std::size_t total_, done_ = 0;
  double seconds_ = 0;
  bool tty_;
};

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string sky_of(const nlohmann::json& j) { return j.at("weather").at(0).at("main").get<std::string>(); }

// --- one after another, blocking (seed a5.3's requests.get)

double fetch_sequentially(const std::string& base, std::size_t cities, std::vector<std::string>& skies) {
  Progress bar("sequential", cities);
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < cities; ++i) {
    const aio::http::URL url = aio::http::URL(base).update_query({{"q", city_name(i)}});
    skies[i] = sky_of(nlohmann::json::parse(stand_in::blocking_get(url.str())));
    bar.step();
  }
  const double t = since(t0);
  bar.finish(t);
  return t;
}

// --- concurrently, with ClientSession and gather (seed a5.2/a5.4)

aio::Coro<std::string> get_weather(aio::http::ClientSession& session, std::string base, std::string city,
                                   Progress& bar) {
  const aio::http::URL url = aio::http::URL(base).update_query({{"q", city}});
  aio::http::ClientResponse response = co_await session.get(url.str());
  response.raise_for_status();
  const nlohmann::json j = co_await response.json();
  bar.step();
  co_return sky_of(j);
}

aio::Coro<double> fetch_concurrently(std::string base, std::size_t cities, std::vector<std::string>& skies) {
  Progress bar("concurrent", cities);
  const auto t0 = std::chrono::steady_clock::now();
  aio::http::ClientSession session;
  std::vector<aio::Task<std::string>> tasks;
  for (std::size_t i = 0; i < cities; ++i) tasks.push_back(aio::create_task(get_weather(session, base, city_name(i), bar)));
  std::vector<std::string> results = co_await aio::gather(tasks);
  co_await session.close();
  const double t = since(t0);
  bar.finish(t);
  for (std::size_t i = 0; i < cities; ++i) skies[i] = results[i];
  co_return t;
}

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--cities" && has_value) {
      a.cities = static_cast<std::size_t>(std::strtoul(argv[++i], nullptr, 10));
    } else if (arg == "--latency" && has_value) {
      a.latency = std::strtod(argv[++i], nullptr);
    } else if (arg == "--url" && has_value) {
      a.url = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--cities N] [--latency SECONDS] [--url URL]\n", argv[0]);
      std::exit(arg == "--help" || arg == "-h" ? 0 : 2);
    }
  }
  if (a.cities == 0 || a.latency < 0) {
    std::fprintf(stderr, "aio_demo: --cities must be positive and --latency not negative\n");
    std::exit(2);
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse_args(argc, argv);
  try {
    std::optional<stand_in::ServicesThread> service;
    std::string base = args.url;
    if (base.empty()) {
      service.emplace(args.latency);
      base = service->url("/data/2.5/weather");
      std::printf("A local weather service answers on %s after %.2f s.\n", base.c_str(), args.latency);
    } else {
      std::printf("Weather from %s.\n", base.c_str());
    }
    std::printf("Fetching the weather of %zu cities, one after another, then all at once:\n\n", args.cities);
    std::fflush(stdout);
    std::vector<std::string> seq(args.cities), con(args.cities);
    const double t_seq = fetch_sequentially(base, args.cities, seq);
    const double t_con = aio::run(fetch_concurrently(base, args.cities, con));

    std::printf("\n| city | sky (sequential) | sky (concurrent) |\n|---|---|---|\n");
    for (std::size_t i = 0; i < args.cities; ++i) {
      std::printf("| %s | %s | %s |\n", city_name(i).c_str(), seq[i].c_str(), con[i].c_str());
    }
    std::printf("\n|                 | sequential, blocking | concurrent, ClientSession + gather |\n");
    std::printf("|---|---|---|\n");
    std::printf("| requests        | %20zu | %34zu |\n", args.cities, args.cities);
    std::printf("| time            | %18.2f s | %32.2f s |\n", t_seq, t_con);
    std::printf("\nConcurrently it took %.1fx less time.\n", t_con > 0 ? t_seq / t_con : 0.0);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "aio_demo: %s\n", e.what());
    return 1;
  }
}
