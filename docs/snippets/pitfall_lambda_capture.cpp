// Pitfalls, "Lambda captures": a capturing coroutine lambda called on the spot; the
// captures live in the lambda object, which dies at the end of the line, while the
// task's frame only points at it.
// test: asan-only
// test: exit nonzero
// test: stderr-contains AddressSanitizer:
#include <cstdio>
#include <string>

#include <aio/aio.hpp>

// [snippet]
aio::Coro<> main_() {
  std::string label = "a label too long for the small-string buffer";
  aio::Task<> task = aio::create_task([label]() -> aio::Coro<> {
    co_await aio::sleep(0.1);
    std::printf("%s\n", label.c_str());   // reads the dead lambda's copy
  }());
  co_await task;
}
// [/snippet]

int main() { aio::run(main_()); }
