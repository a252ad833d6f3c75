// Guide, "Blocking code": to_thread runs a blocking function on a worker thread while
// the loop goes on (seed f.to_thread).
// test: env AIO_CLOCK=virtual
// test: stdout blocking starts
// test: stdout main keeps running
// test: stdout blocking done
// test: stdout result 42 at 2.0 s
#include <cstdio>

#include <aio/aio.hpp>

// [snippet]
int blocking_io() {
  std::puts("blocking starts");
  aio::time::sleep(2);            // time.sleep(2): blocks this thread only
  std::puts("blocking done");
  return 42;
}

aio::Coro<> main_() {
  aio::Task<int> task = aio::create_task(aio::to_thread(blocking_io));
  co_await aio::sleep(0.5);
  std::puts("main keeps running");
  int result = co_await task;
  std::printf("result %d at %.1f s\n", result, aio::time::perf_counter());
}
// [/snippet]

int main() { aio::run(main_()); }
