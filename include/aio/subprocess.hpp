// aio/subprocess.hpp: child processes (asyncio.subprocess).
//
//   aio::Process p = co_await aio::create_subprocess_exec(
//       "ls", "-l", aio::SubprocessOptions{.stdout = aio::PIPE});
//   auto [out, err] = co_await p.communicate();   // *out: what ls printed
//   int status = *p.returncode();                  // 0, or -N when killed by signal N
//
// A child is spawned with posix_spawn: its signal mask cleared, SIGPIPE and SIGXFSZ
// back to their default disposition (the loop ignores SIGPIPE, as Python does), and
// every descriptor of ours close-on-exec, so it inherits only 0, 1 and 2. The loop
// reaps it when it exits (a pidfd, or a SIGCHLD watcher where there is none), whether
// or not anyone waits: a Process dropped early leaves no zombie. When the loop closes,
// children still running are left running and a thread reaps each when it exits.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "aio/coro.hpp"
#include "aio/streams.hpp"

namespace aio {

/// What a standard stream of the child is connected to (subprocess.PIPE, .STDOUT,
/// .DEVNULL); any other value >= 0 is a descriptor of ours.
inline constexpr int PIPE = -1;
inline constexpr int STDOUT = -2;  // stderr only: where stdout goes
inline constexpr int DEVNULL = -3;

struct SubprocessOptions {
  /// PIPE, DEVNULL or a descriptor; none: inherited from this process.
  std::optional<int> stdin{};
  std::optional<int> stdout{};
  /// Also STDOUT: merged into the child's stdout.
  std::optional<int> stderr{};
  /// The child's working directory; none: ours. Read when the call is made.
  std::optional<std::string_view> cwd{};
  /// The child's whole environment (points at the caller's map, read when the call is
  /// made); null: ours. The program is looked up in our PATH.
  const std::map<std::string, std::string>* env = nullptr;
  /// The buffer limit of the stdout and stderr readers.
  std::size_t limit = DEFAULT_LIMIT;
};

// SubprocessOptions owns nothing (it points at the caller's strings, copied when the
// call is made): g++ 12 destroys an aggregate made in a co_await expression twice,
// which is harmless only for what has a trivial destructor.
static_assert(std::is_trivially_destructible_v<SubprocessOptions>);

namespace detail {
struct ChildProcess;
struct ProcessAccess;
}

/// A child process (asyncio.subprocess.Process): a handle, copyable, to the process
/// and its pipes. The pipes close when the last handle goes; the process is reaped by
/// the loop either way.
class Process {
 public:
  Process(std::shared_ptr<detail::ChildProcess> child, std::optional<StreamWriter> in,
          std::optional<StreamReader> out, std::optional<StreamReader> err) noexcept;

  int pid() const noexcept;
  /// None while it runs; the exit status, or -N when signal N killed it.
  std::optional<int> returncode() const noexcept;

  /// Waits until the process exits and returns returncode. Cancelling it stops the
  /// waiting only: the process runs on and is still reaped. With stdout=PIPE, read
  /// the pipe too (or use communicate): a child blocked on a full pipe never exits.
  Coro<int> wait();
  /// Writes `input` to stdin (if given) and closes it, reads stdout and stderr to EOF
  /// concurrently, then waits for the process; returns what was read (none for a
  /// stream that is not a PIPE). A child that stops reading its stdin early
  /// (BrokenPipeError) is not an error. Cancelling it leaves the process running.
  Coro<std::pair<std::optional<std::string>, std::optional<std::string>>> communicate(
      std::optional<std::string> input = std::nullopt);

  /// Sends signal `sig`; nothing once the process was reaped. ProcessLookupError if
  /// it cannot be signalled (its loop closed and it was handed to a reaper thread).
  void send_signal(int sig);
  void terminate();  // SIGTERM
  void kill();       // SIGKILL

  /// "<Process 1234>", as asyncio shows one.
  std::string repr() const;

  /// The pipes, when PIPE was asked for.
  std::optional<StreamWriter> stdin;
  std::optional<StreamReader> stdout;
  std::optional<StreamReader> stderr;

 private:
  friend struct detail::ProcessAccess;  // the protocol API watches the child (subprocess.cpp)
  std::shared_ptr<detail::ChildProcess> c_;
};

namespace detail {
/// Spawns argv (argv[0] looked up in PATH unless it has a '/'). Throws
/// FileNotFoundError / PermissionError / OSError naming the program.
Coro<Process> spawn_process(std::vector<std::string> argv, SubprocessOptions options);

inline void exec_arg(std::vector<std::string>&, SubprocessOptions& o, const SubprocessOptions& x) { o = x; }
inline void exec_arg(std::vector<std::string>& argv, SubprocessOptions&, std::string_view s) { argv.emplace_back(s); }
template <class A>
constexpr bool exec_arg_v = std::is_convertible_v<A, std::string_view> || std::is_same_v<std::decay_t<A>, SubprocessOptions>;
}  // namespace detail

/// Runs `program` with `args` (asyncio.create_subprocess_exec):
/// create_subprocess_exec("echo", "Hello World", SubprocessOptions{.stdout = PIPE}).
/// The options, if any, come last. Throws FileNotFoundError naming a program that
/// does not exist.
template <class... A>
  requires(sizeof...(A) > 0 && (detail::exec_arg_v<A> && ...))
Coro<Process> create_subprocess_exec(std::string program, A&&... args) {
  std::vector<std::string> argv{std::move(program)};
  SubprocessOptions options;
  (detail::exec_arg(argv, options, std::forward<A>(args)), ...);
  return detail::spawn_process(std::move(argv), std::move(options));
}
/// The same with the arguments in a vector: create_subprocess_exec("cat", {}, {.stdin = PIPE}).
Coro<Process> create_subprocess_exec(std::string program, std::vector<std::string> args = {},
                                     SubprocessOptions options = {});

/// Runs `cmd` with /bin/sh -c (asyncio.create_subprocess_shell).
Coro<Process> create_subprocess_shell(std::string cmd, SubprocessOptions options = {});

}  // namespace aio
