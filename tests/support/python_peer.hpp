// Python peers of the HTTP tests: aiohttp and websockets run by /usr/bin/python3
// (python3-aiohttp and python3-websockets, from scripts/setup). A client script runs
// to its end against our server (run_python); a server script prints the port it
// listens on and runs until stopped (PythonServer). Both are bounded: 20 s for a
// script, 30 s for a server.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "aio/aio.hpp"

namespace aio::test {

/// How a peer program ended and what it printed.
struct PeerRun {
  int status = -1;
  std::string out, err;
};

/// Runs `python3 -c script args...` to its end and gives its exit status and output.
inline Coro<PeerRun> run_python(std::string script, std::vector<std::string> args = {}) {
  SubprocessOptions options;
  options.stdout = PIPE;
  options.stderr = PIPE;
  args.insert(args.begin(), std::move(script));
  args.insert(args.begin(), "-c");
  Process p = co_await create_subprocess_exec("/usr/bin/python3", args, options);
  auto [out, err] = co_await wait_for(p.communicate(), 20);
  co_return PeerRun{*p.returncode(), out.value_or(""), err.value_or("")};
}

/// A server script: started by start(), which gives it once it printed its first line
/// (its port, or its ports), kept in `line` without the "\n". stop() ends it by its PID.
struct PythonServer {
  Process process;
  std::string line;

  static Coro<PythonServer> start(std::string script, std::vector<std::string> args = {}) {
    SubprocessOptions options;
    options.stdout = PIPE;
    args.insert(args.begin(), std::move(script));
    args.insert(args.begin(), "-c");
    Process p = co_await create_subprocess_exec("/usr/bin/python3", args, options);
    std::string line = co_await wait_for(p.stdout->readline(), 20);
    while (!line.empty() && line.back() == '\n') line.pop_back();
    co_return PythonServer{std::move(p), std::move(line)};
  }

  Coro<void> stop() {
    process.kill();
    (void)co_await wait_for(process.wait(), 20);
  }
};

/// Python for server scripts: `await serve_forever(app)` serves an aiohttp
/// application on 127.0.0.1 (a free port), prints the port, and runs for 30 s.
inline constexpr const char* kServeAiohttp = R"(
import asyncio
from aiohttp import web
async def serve_forever(app):
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)
    await asyncio.sleep(30)
)";

}  // namespace aio::test
