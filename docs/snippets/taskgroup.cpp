// Guide, "gather and wait": async with TaskGroup (asyncio 3.11+).
// test: env AIO_CLOCK=virtual
// test: stdout one done
// test: stdout two done
// test: stdout both done at 2.0 s: 1 + 2
// test: stdout caught: boom
#include <cstdio>
#include <stdexcept>

#include <aio/aio.hpp>

// [snippet]
aio::Coro<int> after(double delay, int value) {
  co_await aio::sleep(delay);
  std::printf("%s done\n", value == 1 ? "one" : "two");
  co_return value;
}

aio::Coro<> fail() {
  co_await aio::sleep(0.1);
  throw std::runtime_error("boom");
}

aio::Coro<> main_() {
  aio::Task<int> t1, t2;
  co_await aio::async_with(aio::TaskGroup(), [&](aio::TaskGroup& tg) -> aio::Coro<> {
    t1 = tg.create_task(after(1, 1));
    t2 = tg.create_task(after(2, 2));
    co_return;
  });  // leaves when both are done
  std::printf("both done at %.1f s: %d + %d\n", aio::get_running_loop().time(), t1.result(), t2.result());

  try {
    co_await aio::async_with(aio::TaskGroup(), [&](aio::TaskGroup& tg) -> aio::Coro<> {
      tg.create_task(after(5, 1));  // cancelled when fail() fails
      tg.create_task(fail());
      co_return;
    });
  } catch (const aio::ExceptionGroup& eg) {   // except* RuntimeError
    try {
      std::rethrow_exception(eg.exceptions().at(0));
    } catch (const std::runtime_error& e) {
      std::printf("caught: %s\n", e.what());
    }
  }
}
// [/snippet]

int main() { aio::run(main_()); }
