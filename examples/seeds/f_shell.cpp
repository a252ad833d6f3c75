// Seed f.shell (000_77fea42500069c72.txt, lines 8622-8671): run `echo Hello World`
// through the shell (/bin/sh -c) and report the Process; as in f.exec, the child's
// `Hello World` and our `subprocess: <Process PID>` come in either order.
#include <cstdio>

#include "aio/aio.hpp"

// main coroutine
aio::Coro<> main_coro() {
  // start executing a shell command in a subprocess
  aio::Process process = co_await aio::create_subprocess_shell("echo Hello World");
  // report the details of the subprocess
  std::printf("subprocess: %s\n", process.repr().c_str());
}

// entry point
int main() { aio::run(main_coro()); }
