// Pitfalls, "Forgetting to await": a coroutine dropped unawaited is reported with the
// place of its definition; a failed task nobody awaited, when its last handle goes.
// test: env AIO_CLOCK=virtual
// test: stdout main done
// test: stderr-contains pitfall_never_awaited.cpp:
// test: stderr-contains RuntimeWarning: coroutine 'save' was never awaited
// test: stderr-contains Task exception was never retrieved
// test: stderr-contains name='Task-2' coro=<fail() done, defined at
// test: stderr-contains runtime_error: disk full
#include <cstdio>
#include <stdexcept>

#include <aio/aio.hpp>

// [snippet]
aio::Coro<> save() {
  co_await aio::sleep(0.1);
  std::puts("saved");                        // never printed
}

aio::Coro<> fail() {
  co_await aio::sleep(0.1);
  throw std::runtime_error("disk full");
}

aio::Coro<> main_() {
  (void)save();                              // the cast silences [[nodiscard]]; nothing runs
  {
    aio::Task<> task = aio::create_task(fail());
    co_await aio::sleep(0.2);                // fail() has failed; nobody looks
  }                                          // last handle gone: reported here
  std::puts("main done");
}
// [/snippet]

int main() { aio::run(main_()); }
