// Guide, "Subprocesses": run a program, read its output (seeds f.exec, f.shell).
// test: stdout [echo exited with 0]
// test: stdout Hello World
// test: stdout [sh exited with 3] 'HELLO'
#include <cstdio>
#include <string>

#include <aio/aio.hpp>

// [snippet]
aio::Coro<> main_() {
  aio::Process proc = co_await aio::create_subprocess_exec(
      "echo", "Hello World", aio::SubprocessOptions{.stdout = aio::PIPE});
  auto [out, err] = co_await proc.communicate();
  std::printf("[echo exited with %d]\n%s", *proc.returncode(), out->c_str());

  aio::Process sh = co_await aio::create_subprocess_shell(
      "tr a-z A-Z; exit 3", {.stdin = aio::PIPE, .stdout = aio::PIPE});
  auto [upper, none] = co_await sh.communicate("hello");
  std::printf("[sh exited with %d] '%s'\n", *sh.returncode(), upper->c_str());
}
// [/snippet]

int main() { aio::run(main_()); }
