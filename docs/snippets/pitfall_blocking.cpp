// Pitfalls, "Blocking calls inside a task": a real blocking sleep stalls the loop; in
// debug mode the loop names the step that took too long.
// test: env AIO_DEBUG=1
// test: stderr-contains Executing <Task
// test: stderr-contains name='Task-3' coro=<blocking_work() done, defined at
// test: stderr-contains took 0.2
// test: stdout ticker ran 1 time(s) while blocking_work slept 0.25 s
#include <chrono>
#include <cstdio>
#include <thread>

#include <aio/aio.hpp>

using namespace std::chrono_literals;

int ticks = 0;

// [snippet]
aio::Coro<> ticker() {
  for (;;) {
    co_await aio::sleep(0.05);
    ++ticks;
  }
}

aio::Coro<> blocking_work() {
  co_await aio::sleep(0.06);                   // lets the ticker tick once
  std::this_thread::sleep_for(250ms);          // time.sleep(0.25): the whole loop stops
}

aio::Coro<> main_() {
  aio::Task<> tick = aio::create_task(ticker());
  co_await aio::create_task(blocking_work());
  std::printf("ticker ran %d time(s) while blocking_work slept 0.25 s\n", ticks);
  tick.cancel();
}

int main() { aio::run(main_()); }              // run with AIO_DEBUG=1
// [/snippet]
