// Guide, "Cancellation and timeouts": wait_for, timeout() and shield()
// (seeds f.wait_for, f.shield).
// test: env AIO_CLOCK=virtual
// test: stdout gave up at 0.2 s
// test: stdout timeout() expired at 0.5 s: True
// test: stdout shield cancelled, inner result 1 at 1.0 s
#include <cstdio>

#include <aio/aio.hpp>

// [snippet]
aio::Coro<int> slow(double delay) {
  co_await aio::sleep(delay);
  co_return 1;
}

aio::Coro<> main_() {
  aio::EventLoop& loop = aio::get_running_loop();
  try {
    co_await aio::wait_for(slow(1), 0.2);     // await asyncio.wait_for(slow(1), 0.2)
  } catch (const aio::TimeoutError&) {
    std::printf("gave up at %.1f s\n", loop.time());
  }

  bool expired = false;                        // async with asyncio.timeout(0.3) as cm:
  try {
    co_await aio::async_with(aio::timeout(0.3), [&](aio::Timeout& cm) -> aio::Coro<> {
      co_await aio::sleep(1);
      expired = cm.expired();
    });
  } catch (const aio::TimeoutError&) {
    expired = true;
  }
  std::printf("timeout() expired at %.1f s: %s\n", loop.time(), expired ? "True" : "False");

  aio::Task<int> inner = aio::create_task(slow(0.5));
  aio::Future<int> shielded = aio::shield(inner);
  loop.call_later(0.1, [shielded] { shielded.cancel(); });
  try {
    co_await shielded;
  } catch (const aio::CancelledError&) {
    std::printf("shield cancelled, ");
  }
  std::printf("inner result %d at %.1f s\n", co_await inner, loop.time());
}
// [/snippet]

int main() { aio::run(main_()); }
