// aio_http_client URL REQUESTS CONNECTIONS: the HTTP client benchmark (docs/benchmarks.md).
// One ClientSession with a TCPConnector(limit=CONNECTIONS); CONNECTIONS worker tasks
// share REQUESTS GETs of URL, each reading the whole body. Prints one line:
//   requests=N seconds=S requests_per_s=R client_cpu_s=C requests_per_cpu_s=P
// (client_cpu_s: this process's user+system CPU time). Exits 1 when a request fails or
// answers other than 200.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "aio/aio.hpp"
#include "aio/http.hpp"

namespace {

double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

aio::Coro<> worker(aio::http::ClientSession& session, const std::string& url, long& left, long& failed) {
  while (left > 0) {
    --left;
    aio::http::ClientResponse resp = co_await session.get(url);
    std::string body = co_await resp.read();
    if (resp.status() != 200) ++failed;
  }
}

aio::Coro<int> main_(std::string url, long requests, int connections) {
  aio::http::ClientSession session(aio::http::ClientSession::Options{
      .connector = std::make_shared<aio::http::TCPConnector>(
          aio::http::TCPConnectorOptions{.limit = static_cast<std::size_t>(connections)})});
  long left = requests, failed = 0;
  const double cpu0 = cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<aio::Task<>> tasks;
  for (int i = 0; i < connections; ++i) tasks.push_back(aio::create_task(worker(session, url, left, failed)));
  for (auto& t : tasks) co_await t;
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = cpu_seconds() - cpu0;
  co_await session.close();
  std::printf("requests=%ld seconds=%.3f requests_per_s=%.0f client_cpu_s=%.3f requests_per_cpu_s=%.0f\n", requests,
              secs, static_cast<double>(requests) / secs, cpu, static_cast<double>(requests) / cpu);
  co_return failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: aio_http_client URL REQUESTS CONNECTIONS\n");
    return 2;
  }
  try {
    return aio::run(main_(argv[1], std::atol(argv[2]), std::atoi(argv[3])));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "aio_http_client: %s\n", e.what());
    return 1;
  }
}
