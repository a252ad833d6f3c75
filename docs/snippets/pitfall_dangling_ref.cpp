// Pitfalls, "Dangling references in coroutine parameters": the task outlives the
// temporary string its reference parameter points at. The temporary lives in main_'s
// stack frame, gone once main_ suspends: with detect_stack_use_after_return,
// AddressSanitizer stops the program at the read every time (without it the dead
// frame's memory is some other call's by then, and the read finds whatever is there).
// test: asan-only
// test: env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1
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
