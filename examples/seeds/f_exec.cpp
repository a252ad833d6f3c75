// Seed f.exec (000_77fea42500069c72.txt, lines 8425-8474): run `echo Hello World` as a
// subprocess and report the Process; the child prints `Hello World` on the inherited
// stdout, before or after `subprocess: <Process PID>` depending on who runs first.
#include <cstdio>

#include "aio/aio.hpp"

// main coroutine
aio::Coro<> main_coro() {
  // start executing a command in a subprocess
  aio::Process process = co_await aio::create_subprocess_exec("echo", "Hello World");
  // report the details of the subprocess
  std::printf("subprocess: %s\n", process.repr().c_str());
}

// entry point
int main() { aio::run(main_coro()); }
