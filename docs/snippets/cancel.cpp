// Guide, "Cancellation and timeouts": cancel a task, catch CancelledError inside it
// (seed f.cancel).
// test: env AIO_CLOCK=virtual
// test: stdout working
// test: stdout cleaning up after: stop now
// test: stdout was cancelled: True, cancelled: True
// test: stdout main caught CancelledError: stop now
#include <cstdio>

#include <aio/aio.hpp>

// [snippet]
aio::Coro<> worker() {
  std::puts("working");
  try {
    co_await aio::sleep(10);
  } catch (const aio::CancelledError& e) {     // except asyncio.CancelledError as e:
    std::printf("cleaning up after: %s\n", e.message().c_str());
    throw;                                     //     raise
  }
}

aio::Coro<> main_() {
  aio::Task<> task = aio::create_task(worker());
  co_await aio::sleep(0.1);
  const bool requested = task.cancel("stop now");
  co_await aio::sleep(0.1);
  std::printf("was cancelled: %s, cancelled: %s\n", requested ? "True" : "False",
              task.cancelled() ? "True" : "False");
  try {
    co_await task;
  } catch (const aio::CancelledError& e) {
    std::printf("main caught CancelledError: %s\n", e.message().c_str());
  }
}
// [/snippet]

int main() { aio::run(main_()); }
