// aio_pipe_read [--in-place [--copy]] [--socketpair | --pipe-size=BYTES] MODE N CMD [ARG...]:
// the subprocess pipe benchmark (docs/benchmarks.md, "Subprocess pipes"). Spawns CMD
// with create_subprocess_exec, its stdout a PIPE, and reads proc.stdout:
//
//   bulk:  `co_await read(65536)` to EOF (a new string per read, as asyncio's bytes),
//          counting the bytes, then wait(); N is the number of bytes expected (exit
//          status 1 when another number came).
//   lines: N `co_await readline()` (a string per line), then kill() and wait().
//
// --in-place reads from the reader's buffer instead (fill, buffered, consume: no
// string, no copy), as a protocol parser works: bulk counts and consumes each fill,
// lines counts the newlines in it with memchr and consumes up to the last one.
// --copy adds back the string read() and readline() return: in place, each chunk
// (bulk) or line (lines) is copied into a new std::string, so what is left between
// this and read() / readline() is their coroutines (docs/benchmarks.md, "Subprocess
// pipes", the side rows).
//
// --socketpair gives the child one end of a Unix stream socketpair as its stdout
// (SubprocessOptions{.stdout = fd}) and reads the other through open_stream: the
// transport libuv's uv_spawn gives a child for a pipe (uvloop's and Node's), for the
// comparison with them on the same transport. --pipe-size=BYTES makes the pipe itself
// (pipe2, then F_SETPIPE_SZ: the capacity, 64 KiB by default) and gives the child its
// write end the same way.
//
// Prints one line: mode=... [lines=...] bytes=... wall_s=... cpu_s=... user_s=...
// sys_s=..., the wall time from before the spawn to after the wait and this process's
// own CPU time (getrusage RUSAGE_SELF, every thread of ours: not the child's) over the
// same span.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aio/aio.hpp"

namespace {

struct Args {
  bool in_place = false, copy = false, socket_pair = false, lines = false;
  int pipe_size = 0;  // --pipe-size: the capacity of a pipe of our own
  unsigned long long want = 0;
  std::string program;
  std::vector<std::string> args;
};

struct Usage {
  double user = 0, sys = 0;
};

Usage usage_now() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto s = [](timeval tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
  return {s(ru.ru_utime), s(ru.ru_stime)};
}

const char* volatile g_copy_seen;  // where --copy's strings escape, so they are made

// Reads everything to EOF; returns the bytes read.
aio::Coro<unsigned long long> read_bulk(aio::StreamReader& out, bool in_place, bool copy) {
  unsigned long long bytes = 0;
  if (in_place) {
    while (co_await out.fill()) {
      const std::size_t n = out.buffered().size();
      if (copy) {
        const std::string chunk(out.buffered());
        g_copy_seen = chunk.data();
      }
      bytes += n;
      out.consume(n);
    }
  } else {
    for (;;) {
      const std::string chunk = co_await out.read(64 * 1024);
      if (chunk.empty()) break;  // EOF
      bytes += chunk.size();
    }
  }
  co_return bytes;
}

// Reads `want` lines (fewer if the child ends first); counts them in `lines` and
// returns the bytes they took.
aio::Coro<unsigned long long> read_lines(aio::StreamReader& out, bool in_place, bool copy, unsigned long long want,
                                         unsigned long long& lines) {
  unsigned long long bytes = 0;
  if (in_place) {
    while (lines < want && co_await out.fill()) {
      const std::string_view buf = out.buffered();
      std::size_t at = 0;
      while (lines < want) {
        const void* nl = std::memchr(buf.data() + at, '\n', buf.size() - at);
        if (nl == nullptr) break;
        const std::size_t end = static_cast<std::size_t>(static_cast<const char*>(nl) - buf.data()) + 1;
        if (copy) {
          const std::string line(buf.substr(at, end - at));
          g_copy_seen = line.data();
        }
        at = end;
        ++lines;
      }
      bytes += at;
      out.consume(at);  // the partial line stays for the next fill
    }
  } else {
    while (lines < want) {
      const std::string line = co_await out.readline();
      if (line.empty()) break;  // EOF: the child ended early
      bytes += line.size();
      ++lines;
    }
  }
  co_return bytes;
}

aio::Coro<int> run(const Args& a) {
  const Usage u0 = usage_now();
  const auto t0 = std::chrono::steady_clock::now();
  std::optional<aio::StreamReader> out;
  aio::SubprocessOptions options{.stdout = aio::PIPE};
  int pair[2] = {-1, -1};  // ours, the child's stdout
  const bool own = a.socket_pair || a.pipe_size > 0;
  if (a.socket_pair && ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
    std::perror("socketpair");
    co_return 1;
  }
  if (a.pipe_size > 0 && (::pipe2(pair, O_CLOEXEC) < 0 || ::fcntl(pair[0], F_SETPIPE_SZ, a.pipe_size) < 0)) {
    std::perror("pipe2 / F_SETPIPE_SZ");
    co_return 1;
  }
  if (own) options.stdout = pair[1];
  aio::Process proc = co_await aio::create_subprocess_exec(a.program, a.args, options);
  if (own) {
    ::close(pair[1]);  // the child has it: EOF comes when the child's copy closes
    out = aio::open_stream(aio::Socket::from_fd(pair[0])).first;
  } else {
    out = proc.stdout;
  }
  unsigned long long bytes = 0, lines = 0;
  if (a.lines) {
    bytes = co_await read_lines(*out, a.in_place, a.copy, a.want, lines);
    proc.kill();
  } else {
    bytes = co_await read_bulk(*out, a.in_place, a.copy);
  }
  co_await proc.wait();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const Usage u1 = usage_now();
  const double user = u1.user - u0.user, sys = u1.sys - u0.sys;
  if (a.lines) {
    std::printf("mode=lines lines=%llu bytes=%llu wall_s=%.4f cpu_s=%.4f user_s=%.4f sys_s=%.4f\n", lines, bytes, wall,
                user + sys, user, sys);
    co_return lines == a.want ? 0 : 1;
  }
  std::printf("mode=bulk bytes=%llu wall_s=%.4f cpu_s=%.4f user_s=%.4f sys_s=%.4f\n", bytes, wall, user + sys, user, sys);
  co_return bytes == a.want ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  int i = 1;
  for (; i < argc && std::string_view(argv[i]).starts_with("--"); ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--in-place") {
      a.in_place = true;
    } else if (flag == "--copy") {
      a.copy = true;
    } else if (flag == "--socketpair") {
      a.socket_pair = true;
    } else if (flag.starts_with("--pipe-size=")) {
      a.pipe_size = std::atoi(argv[i] + std::strlen("--pipe-size="));
      if (a.pipe_size <= 0) i = argc;  // usage
    } else {
      i = argc;  // usage
    }
  }
  const std::string_view mode = i < argc ? argv[i] : "";
  if (argc - i < 3 || (mode != "bulk" && mode != "lines") || (a.copy && !a.in_place) ||
      (a.socket_pair && a.pipe_size > 0)) {
    std::fprintf(stderr, "usage: %s [--in-place [--copy]] [--socketpair | --pipe-size=BYTES] bulk|lines N CMD [ARG...]\n",
                 argv[0]);
    return 2;
  }
  a.lines = mode == "lines";
  a.want = std::strtoull(argv[i + 1], nullptr, 10);
  a.program = argv[i + 2];
  a.args.assign(argv + i + 3, argv + argc);
  return aio::run(run(a));
}
