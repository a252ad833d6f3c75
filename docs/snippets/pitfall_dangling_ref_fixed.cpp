// Pitfalls, "Dangling references in coroutine parameters": the fix, a parameter by
// value (the frame keeps its own copy).
// test: env AIO_CLOCK=virtual
// test: stdout hello a name too long for the small-string buffer
// test: stdout hello inline
#include <cstdio>
#include <string>

#include <aio/aio.hpp>

// [snippet]
aio::Coro<> greet(std::string name) {          // by value: the frame owns a copy
  co_await aio::sleep(0.1);
  std::printf("hello %s\n", name.c_str());
}

aio::Coro<> greet_ref(const std::string& name) {
  co_await aio::sleep(0.1);
  std::printf("hello %s\n", name.c_str());
}

aio::Coro<> main_() {
  aio::Task<> task = aio::create_task(greet("a name too long for the small-string buffer"));
  co_await task;
  // Awaited in the same expression, a reference is fine: the temporary lives
  // until the end of the full expression, and the co_await finishes inside it.
  co_await greet_ref(std::string("inline"));
}
// [/snippet]

int main() { aio::run(main_()); }
