// Seed b.compare (000_77fea42500069c72.txt, lines 776-856): 1, 10, 50, 100 and 500
// requests of one page, first with blocking requests spread over a pool of workers
// (the seed's ProcessPoolExecutor.map: here one thread per core, each making blocking
// calls, as the pool's processes do), then with one ClientSession and gather. The
// seed's page is a local stand-in (examples/http/, on a thread of its own) answering
// after --latency seconds (0.1 s by default). --counts 1,10 picks the request counts.
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "../http/stand_in.hpp"
#include "aio/aio.hpp"
#include "aio/http.hpp"

// Python's repr of a float: the shortest digits that read back the same.
std::string py_float(double x) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, x);
  std::string s(buf, r.ptr);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

double now() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

// --- the pool of blocking workers

std::optional<std::string> fetch_url_data(const std::string& pg_url) {
  try {
    return stand_in::blocking_get(pg_url);
  } catch (const std::exception&) {
    std::printf("Возникла ошибка при получении данных из url: %s\n", pg_url.c_str());
    return std::nullopt;
  }
}

// executor.map(fetch_url_data, url_list) on a pool of one worker per core.
std::vector<std::optional<std::string>> get_all_url_data(const std::vector<std::string>& url_list) {
  std::vector<std::optional<std::string>> resp(url_list.size());
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> executor;
  for (unsigned i = 0; i < std::max(1u, std::thread::hardware_concurrency()); ++i) {
    executor.emplace_back([&] {
      for (std::size_t k; (k = next++) < url_list.size();) resp[k] = fetch_url_data(url_list[k]);
    });
  }
  for (std::thread& t : executor) t.join();
  return resp;
}

// --- asynchronously

aio::Coro<std::optional<std::string>> fetch_async_url_data(aio::http::ClientSession& session, std::string url) {
  try {
    aio::http::ClientTimeout timeout{.total = 60};
    aio::http::ClientResponse response = co_await session.get(url, {.timeout = timeout});
    co_return co_await response.read();
  } catch (const std::exception& e) {
    std::printf("%s\n", e.what());
  }
  co_return std::nullopt;
}

aio::Coro<std::vector<std::optional<std::string>>> fetch_async(std::string url, int r) {
  std::vector<aio::Task<std::optional<std::string>>> tasks;
  aio::http::ClientSession session;
  for (int i = 0; i < r; ++i) tasks.push_back(aio::ensure_future(fetch_async_url_data(session, url)));
  std::vector<std::optional<std::string>> responses = co_await aio::gather(tasks);
  co_await session.close();
  co_return responses;
}

int main(int argc, char** argv) {
  double latency = 0.1;
  std::vector<int> counts = {1, 10, 50, 100, 500};
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--latency" && i + 1 < argc) {
      latency = std::strtod(argv[++i], nullptr);
    } else if (arg == "--counts" && i + 1 < argc) {
      counts.clear();
      std::istringstream in(argv[++i]);
      for (std::string n; std::getline(in, n, ',');) counts.push_back(std::atoi(n.c_str()));
    } else {
      std::fprintf(stderr, "usage: %s [--latency SECONDS] [--counts N,N,...]\n", argv[0]);
      return 2;
    }
  }
  stand_in::ServicesThread services(latency);
  const std::string url = services.url("/uefaeuro-2020/");

  for (int ntimes : counts) {
    const double start_time = now();
    const auto responses = get_all_url_data(std::vector<std::string>(static_cast<std::size_t>(ntimes), url));
    std::printf("Получено %d результатов запроса за %s секунд\n", ntimes, py_float(now() - start_time).c_str());
    std::fflush(stdout);
  }
  std::printf("\n");
  for (int ntimes : counts) {
    const double start_time = now();
    aio::EventLoop& loop = aio::get_event_loop();
    auto future = loop.create_task(fetch_async(url, ntimes));
    // runs until it completes or raises
    loop.run_until_complete(future);
    const auto responses = future.result();
    std::printf("Получено %d результатов запроса за %s секунд\n", ntimes, py_float(now() - start_time).c_str());
    std::fflush(stdout);
  }
}
