// Guide, "gather and wait": wait() for the first to finish, as_completed() in finish
// order (seeds f.wait, e.coro, b.loop).
// test: env AIO_CLOCK=virtual
// test: stdout done: 1, pending: 2
// test: stdout first: 0.5
// test: stdout next: 0.5
// test: stdout next: 1
// test: stdout next: 2
#include <cstdio>
#include <vector>

#include <aio/aio.hpp>

// [snippet]
aio::Coro<double> work(double delay) {
  co_await aio::sleep(delay);
  co_return delay;
}

aio::Coro<> main_() {
  std::vector<aio::Task<double>> tasks;
  for (double d : {2.0, 0.5, 1.0}) tasks.push_back(aio::create_task(work(d)));

  auto [done, pending] = co_await aio::wait(tasks, aio::FIRST_COMPLETED);
  std::printf("done: %zu, pending: %zu\n", done.size(), pending.size());
  std::printf("first: %g\n", done[0].result());

  for (auto next : aio::as_completed(tasks)) {   // for next in as_completed(tasks):
    double delay = co_await next;                //     delay = await next
    std::printf("next: %g\n", delay);
  }
}
// [/snippet]

int main() { aio::run(main_()); }
