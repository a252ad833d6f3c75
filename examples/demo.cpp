// The demo: the same two coroutines run as tasks (seed a2.2) and awaited one after
// the other (seed a4.3). Each computes something, then waits 3 s: as tasks the waits
// overlap (3 s in all), awaited in turn they add up (6 s).
#include <cmath>
#include <cstdio>

#include "aio/aio.hpp"

using namespace std::chrono_literals;

namespace {

aio::Coro<> fun1(int x) {
  std::printf("  %d\n", x * x);
  co_await aio::sleep(3s);
  std::printf("  fun1 finished\n");
}

aio::Coro<> fun2(int x) {
  std::printf("  %.1f\n", std::sqrt(x));
  co_await aio::sleep(3s);
  std::printf("  fun2 finished\n");
}

// Seed a2.2: both become tasks, so their sleeps run concurrently.
aio::Coro<> as_tasks() {
  auto task1 = aio::create_task(fun1(4));
  auto task2 = aio::create_task(fun2(4));
  co_await task1;
  co_await task2;
}

// Seed a4.3: awaiting a coroutine runs it to its end before the next one starts.
aio::Coro<> in_turn() {
  co_await fun1(4);
  co_await fun2(4);
}

double timed(const char* title, aio::Coro<> (*body)()) {
  std::printf("%s\n", title);
  std::fflush(stdout);
  const double start = aio::time::perf_counter();
  aio::run(body());
  const double elapsed = aio::time::perf_counter() - start;
  std::printf("  took %.2f s\n\n", elapsed);
  std::fflush(stdout);
  return elapsed;
}

}  // namespace

int main() {
  std::printf("aio demo: two coroutines, each computes and then waits 3 s.\n\n");
  const double tasks = timed("a2.2: as tasks (aio::create_task, then co_await each)", as_tasks);
  const double awaits = timed("a4.3: awaited one after the other (co_await fun1; co_await fun2)", in_turn);
  std::printf("%-28s %10s\n", "", "elapsed");
  std::printf("%-28s %8.2f s\n", "a2.2 tasks (concurrent)", tasks);
  std::printf("%-28s %8.2f s\n", "a4.3 awaits (sequential)", awaits);
  std::printf("\nThe tasks overlap their waits: %.1fx faster.\n", awaits / tasks);
}
