// Pitfalls, "Lambda captures": the fixes: parameters instead of captures, or a lambda
// object that outlives the task.
// test: env AIO_CLOCK=virtual
// test: stdout a label too long for the small-string buffer
// test: stdout a label too long for the small-string buffer, again
#include <cstdio>
#include <string>

#include <aio/aio.hpp>

// [snippet]
aio::Coro<> main_() {
  std::string label = "a label too long for the small-string buffer";
  // 1. No captures: parameters are copied into the coroutine frame.
  aio::Task<> task = aio::create_task([](std::string text) -> aio::Coro<> {
    co_await aio::sleep(0.1);
    std::printf("%s\n", text.c_str());
  }(label));
  co_await task;

  // 2. A named lambda that lives as long as the task (here: until main_ ends).
  auto print_again = [label]() -> aio::Coro<> {
    co_await aio::sleep(0.1);
    std::printf("%s, again\n", label.c_str());
  };
  co_await aio::create_task(print_again());
}
// [/snippet]

int main() { aio::run(main_()); }
