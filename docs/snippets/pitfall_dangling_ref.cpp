// Pitfalls, "Dangling references in coroutine parameters": the task outlives the
// temporary string its reference parameter points at. AddressSanitizer stops the
// program at the read (the temporary's storage was reused: a wild read).
// test: asan-only
// test: exit nonzero
// test: stderr-contains ERROR: AddressSanitizer:
#include <cstdio>
#include <string>

#include <aio/aio.hpp>

// [snippet]
aio::Coro<> greet(const std::string& name) {   // a reference, kept in the frame
  co_await aio::sleep(0.1);
  std::printf("hello %s\n", name.c_str());      // the string is gone by now
}

aio::Coro<> main_() {
  aio::Task<> task = aio::create_task(greet("a name too long for the small-string buffer"));
  // the temporary std::string died at the end of the line above
  co_await task;
}
// [/snippet]

int main() { aio::run(main_()); }
