// The demo: the weather of 12 cities, fetched one after another with a blocking client,
// then concurrently with aio's ClientSession and gather (seeds a5.2 and a5.3).
//
// It starts its own weather service on 127.0.0.1 (aio's HTTP server, on a thread of
// its own so that the blocking client cannot stall it), in the shape of the seeds'
// openweathermap API: GET /data/2.5/weather?q=CITY answers after a latency (1 s by
// default). Sequentially the latencies add up; concurrently they overlap.
//
//   aio_demo [--cities N] [--latency SECONDS] [--url URL]
//
// --url points both runs at another service (any URL answering ?q=CITY with that JSON);
// then no local service starts.
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iterator>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "aio/aio.hpp"
#include "aio/http.hpp"

namespace web = aio::http::web;

namespace {

const std::vector<std::string> kCities = {"Moscow", "St. Petersburg", "Rostov-on-Don", "Kaliningrad",
                                          "Vladivostok", "Minsk", "Beijing", "Delhi",
                                          "Istanbul", "Tokyo", "London", "New York"};
const char* const kSkies[] = {"Clear", "Clouds", "Rain", "Snow", "Mist", "Drizzle"};

struct Args {
  std::size_t cities = 12;
  double latency = 1.0;
  std::string url;  // empty: start the local service
};

std::string city_name(std::size_t i) {
  const std::string& base = kCities[i % kCities.size()];
  return i < kCities.size() ? base : base + " " + std::to_string(i / kCities.size() + 1);
}

// --- the local weather service

aio::Coro<web::StreamResponse> weather(web::Request& request, double latency) {
  const std::string city(request.query().get("q").value_or(""));
  if (city.empty()) throw web::HTTPBadRequest({.text = "q= is missing"});
  co_await aio::sleep(latency);
  std::size_t h = std::hash<std::string>{}(city);
  nlohmann::json j = {{"name", city},
                      {"weather", {{{"main", kSkies[h % std::size(kSkies)]}}}},
                      {"main", {{"temp", static_cast<double>(h % 400) / 10.0 - 10.0}}}};
  co_return web::json_response(j);
}

// Runs the service on its own thread and loop; stop() ends it.
class LocalService {
 public:
  explicit LocalService(double latency) {
    thread_ = std::thread([this, latency] { aio::run(serve(latency)); });
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [this] { return port_ != 0 || failed_; });
    if (failed_) {
      thread_.join();
      throw std::runtime_error("the local weather service did not start");
    }
  }
  ~LocalService() {
    loop_->call_soon_threadsafe([this] { stop_->set_result(); });
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/data/2.5/weather"; }

 private:
  aio::Coro<> serve(double latency) {
    try {
      web::Application app;
      app.add_get("/data/2.5/weather", [latency](web::Request& r) { return weather(r, latency); });
      web::AppRunner runner(app, {.access_log = nullptr});
      co_await runner.setup();
      web::TCPSite site(runner, "127.0.0.1", 0);
      co_await site.start();
      aio::Future<void> stop = aio::get_running_loop().create_future();
      {
        std::lock_guard lock(mutex_);
        loop_ = &aio::get_running_loop();
        stop_ = &stop;
        port_ = site.port();
      }
      ready_.notify_all();
      co_await stop;
      co_await runner.cleanup();
    } catch (...) {
      {
        std::lock_guard lock(mutex_);
        failed_ = true;
      }
      ready_.notify_all();
    }
  }

  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable ready_;
  aio::EventLoop* loop_ = nullptr;
  aio::Future<void>* stop_ = nullptr;
  int port_ = 0;
  bool failed_ = false;
};

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

// A blocking GET: connect, send, read until the response is complete, with aio's
// HTTP parser for the framing. The caller's thread waits for each step.
std::string blocking_get(const aio::http::URL& url) {
  const std::string host = url.host().value_or("127.0.0.1");
  const std::string port = std::to_string(url.port().value_or(80));
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    throw std::runtime_error(host + ":" + port + ": " + ::gai_strerror(rc));
  }
  int fd = -1;
  for (addrinfo* a = res; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd >= 0 && ::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(res);
  if (fd < 0) throw std::runtime_error("cannot connect to " + host + ":" + port + ": " + std::strerror(errno));
  const std::string request = "GET " + url.raw_path_qs() + " HTTP/1.1\r\nHost: " + host + ":" + port +
                              "\r\nConnection: close\r\n\r\n";
  for (std::size_t sent = 0; sent < request.size();) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      ::close(fd);
      throw std::runtime_error("send to " + host + ":" + port + " failed");
    }
    sent += static_cast<std::size_t>(n);
  }
  std::string in, body;
  aio::http::MessageHead head;
  std::size_t head_size = 0;
  std::optional<aio::http::BodyDecoder> decoder;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    in.append(buf, static_cast<std::size_t>(n));
    if (!decoder && (head_size = aio::http::parse_response_head(in, head, "GET")) > 0) {
      if (head.status != 200) {
        ::close(fd);
        throw std::runtime_error(url.str() + ": HTTP " + std::to_string(head.status));
      }
      decoder.emplace(head);
      in.erase(0, head_size);
    }
    if (decoder) {
      for (;;) {
        const auto step = decoder->feed(in);
        body.append(step.data);
        in.erase(0, step.consumed);
        if (step.done || step.consumed == 0) break;
      }
      if (n == 0 && !decoder->done()) decoder->feed_eof();
      if (decoder->done()) break;
    }
    if (n == 0) {
      ::close(fd);
      throw std::runtime_error(url.str() + ": the server closed before the response was complete");
    }
  }
  ::close(fd);
  return body;
}

double fetch_sequentially(const std::string& base, std::size_t cities, std::vector<std::string>& skies) {
  Progress bar("sequential", cities);
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < cities; ++i) {
    const aio::http::URL url = aio::http::URL(base).update_query({{"q", city_name(i)}});
    skies[i] = sky_of(nlohmann::json::parse(blocking_get(url)));
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
    std::optional<LocalService> service;
    std::string base = args.url;
    if (base.empty()) {
      service.emplace(args.latency);
      base = service->url();
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
