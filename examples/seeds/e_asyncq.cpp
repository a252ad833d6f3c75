// Seed e.asyncq (000_77fea42500069c72.txt, lines 2838-2934): producers and consumers on
// an aio::Queue with task_done()/join(); `-p 2 -c 5` as in the seed's run. random is
// seeded with 444 as in the seed, so the sleeps are Python's; the items are random
// bytes (os.urandom) and the waits in the queue are fractions of a millisecond.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "aio/aio.hpp"
#include "py_random.hpp"

PyRandom random_(444);

aio::Coro<std::string> makeitem(int size = 5) {
  static std::random_device urandom;
  std::string hex;
  for (int k = 0; k < size; ++k) {
    char byte[3];
    std::snprintf(byte, sizeof byte, "%02x", static_cast<unsigned>(urandom() & 0xff));
    hex += byte;
  }
  co_return hex;
}

aio::Coro<> randsleep(const std::string& caller = {}) {
  const int i = random_.randint(0, 10);
  if (!caller.empty()) std::printf("%s sleeping for %d seconds.\n", caller.c_str(), i);
  co_await aio::sleep(i);
}

using Item = std::tuple<std::string, double>;

aio::Coro<> produce(int name, aio::Queue<Item>& q) {
  const int n = random_.randint(0, 10);
  for (int k = 0; k < n; ++k) {  // synchronous loop for each single producer
    co_await randsleep("Producer " + std::to_string(name));
    std::string i = co_await makeitem();
    const double t = aio::time::perf_counter();
    co_await q.put({i, t});
    std::printf("Producer %d added <%s> to queue.\n", name, i.c_str());
  }
}

aio::Coro<> consume(int name, aio::Queue<Item>& q) {
  for (;;) {
    co_await randsleep("Consumer " + std::to_string(name));
    auto [i, t] = co_await q.get();
    const double now = aio::time::perf_counter();
    std::printf("Consumer %d got element <%s> in %0.5f seconds.\n", name, i.c_str(), now - t);
    q.task_done();
  }
}

aio::Coro<> main_coro(int nprod, int ncon) {
  aio::Queue<Item> q;
  std::vector<aio::Task<>> producers;
  std::vector<aio::Task<>> consumers;
  for (int n = 0; n < nprod; ++n) producers.push_back(aio::create_task(produce(n, q)));
  for (int n = 0; n < ncon; ++n) consumers.push_back(aio::create_task(consume(n, q)));
  co_await aio::gather(producers);
  co_await q.join();  // implicitly awaits consumers, too
  for (auto& c : consumers) c.cancel();
}

int main(int argc, char** argv) {
  int nprod = 5;
  int ncon = 10;
  for (int k = 1; k + 1 < argc; k += 2) {
    if (!std::strcmp(argv[k], "-p") || !std::strcmp(argv[k], "--nprod")) nprod = std::atoi(argv[k + 1]);
    if (!std::strcmp(argv[k], "-c") || !std::strcmp(argv[k], "--ncon")) ncon = std::atoi(argv[k + 1]);
  }
  const double start = aio::time::perf_counter();
  aio::run(main_coro(nprod, ncon));
  const double elapsed = aio::time::perf_counter() - start;
  std::printf("Program completed in %0.5f seconds.\n", elapsed);
}
