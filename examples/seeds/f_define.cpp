// Seed f.define (000_77fea42500069c72.txt, lines 4304-4462): define a coroutine,
// create one and check its type (it is never awaited, and that is reported), then run
// one with aio::run.
#include <cstdio>

#include "aio/aio.hpp"

// define a coroutine
aio::Coro<> custom_coro() {
  // await another coroutine
  co_await aio::sleep(1);
}

// main coroutine
aio::Coro<> main_() {
  // execute my custom coroutine
  co_await custom_coro();
}

int main() {
  {
    // create the coroutine
    aio::Coro<> coro = custom_coro();
    // check the type of the coroutine
    std::printf("%s\n", aio::iscoroutine<decltype(coro)> ? "<class 'coroutine'>" : "?");
  }  // destroyed without being awaited: RuntimeWarning on stderr
  // start the coroutine program
  aio::run(main_());
}
