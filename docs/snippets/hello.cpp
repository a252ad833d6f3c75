// Guide, "Coroutines": hello world (seed e.hello).
// test: env AIO_CLOCK=virtual
// test: stdout Hello ...
// test: stdout ... World!
// [snippet]
#include <cstdio>

#include <aio/aio.hpp>

aio::Coro<> main_() {            // async def main():
  std::puts("Hello ...");        //     print("Hello ...")
  co_await aio::sleep(1);        //     await asyncio.sleep(1)
  std::puts("... World!");       //     print("... World!")
}

int main() { aio::run(main_()); }  // asyncio.run(main())
// [/snippet]
