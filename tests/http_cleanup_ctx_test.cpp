// Application::cleanup_ctx (aiohttp's cleanup contexts): set-up and clean-up as one
// async generator, run around the on_startup and on_cleanup hooks. The whole story is
// played by aio and by aiohttp (python3-aiohttp) and the two logs compared.
#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "aio/http.hpp"
#include "support/aio_test.hpp"
#include "support/python_peer.hpp"

namespace aio::http {
namespace {

using Log = std::vector<std::string>;

enum class Ends { well, failing_setup, failing_cleanup, without_yield, yielding_twice };

// A cleanup context's body: notes its set-up and its clean-up in `log`.
AsyncGenerator<int> noted(Log* log, std::string name, Ends ends, Application&) {
  log->push_back("setup " + name);
  if (ends == Ends::failing_setup) throw ValueError(name + " at setup");
  if (ends == Ends::without_yield) co_return;
  co_yield 0;
  log->push_back("cleanup " + name);
  if (ends == Ends::failing_cleanup) throw ValueError(name + " at cleanup");
  if (ends == Ends::yielding_twice) co_yield 1;
}

// The callable cleanup_ctx takes: the arguments copied into the generator's frame.
auto ctx(Log& log, std::string name, Ends ends = Ends::well) {
  return [&log, name, ends](Application& app) { return noted(&log, name, ends, app); };
}

AppHook hook(Log& log, std::string what) {
  return [&log, what](Application&) -> Coro<void> {
    log.push_back(what);
    co_return;
  };
}

// "TypeName: what" for the exceptions the story meets, as the Python side prints them.
std::string describe(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const CleanupError& x) {
    std::string s = "CleanupError:";
    for (const std::exception_ptr& inner : x.exceptions()) s += " [" + describe(inner) + "]";
    return s;
  } catch (const ValueError& x) {
    return std::string("ValueError: ") + x.what();
  } catch (const RuntimeError& x) {
    return std::string("RuntimeError: ") + x.what();
  } catch (const std::exception& x) {
    return std::string("other: ") + x.what();
  }
}

// Runs `co_await step`, noting its exception if it throws one.
Coro<void> noting(Log& log, Coro<void> step) {
  std::exception_ptr failed;
  try {
    co_await std::move(step);
  } catch (const std::exception&) {
    failed = std::current_exception();
  }
  if (failed) log.push_back(describe(failed));
}

Coro<Log> ours() {
  Log log;
  {
    log.push_back("-- in order, with a sub-application");
    Application root, sub;
    root.on_startup.push_back(hook(log, "on_startup root"));
    root.cleanup_ctx.append(ctx(log, "a"));
    root.cleanup_ctx.append(ctx(log, "b"));
    root.on_cleanup.push_back(hook(log, "on_cleanup root"));
    sub.cleanup_ctx.append(ctx(log, "sub"));
    sub.on_startup.push_back(hook(log, "on_startup sub"));
    sub.on_cleanup.push_back(hook(log, "on_cleanup sub"));
    root.add_subapp("/sub", sub);
    AppRunner runner(root, {.access_log = nullptr});
    co_await runner.setup();
    try {
      root.cleanup_ctx.append(ctx(log, "late"));
    } catch (const RuntimeError& e) {
      log.push_back(std::string("RuntimeError: ") + e.what());
    }
    co_await runner.cleanup();
  }
  {
    log.push_back("-- errors at cleanup");
    Application app;
    app.cleanup_ctx.append(ctx(log, "a"));
    app.cleanup_ctx.append(ctx(log, "b", Ends::failing_cleanup));
    app.cleanup_ctx.append(ctx(log, "c", Ends::yielding_twice));
    app.on_cleanup.push_back(hook(log, "on_cleanup"));
    AppRunner runner(app, {.access_log = nullptr});
    co_await runner.setup();
    co_await noting(log, runner.cleanup());
  }
  {
    log.push_back("-- one error at cleanup");
    Application app;
    app.cleanup_ctx.append(ctx(log, "a"));
    app.cleanup_ctx.append(ctx(log, "b", Ends::failing_cleanup));
    AppRunner runner(app, {.access_log = nullptr});
    co_await runner.setup();
    co_await noting(log, runner.cleanup());
  }
  {
    log.push_back("-- an error at setup");
    Application app;
    app.cleanup_ctx.append(ctx(log, "a"));
    app.cleanup_ctx.append(ctx(log, "b", Ends::failing_setup));
    app.cleanup_ctx.append(ctx(log, "c"));
    app.on_startup.push_back(hook(log, "on_startup"));
    AppRunner runner(app, {.access_log = nullptr});
    co_await noting(log, runner.setup());
    co_await runner.cleanup();
  }
  co_return log;
}

const char* const kAiohttp = R"(
import asyncio
from aiohttp import web

log = []

def ctx(name, ends='well'):
    async def gen(app):
        log.append('setup ' + name)
        if ends == 'failing_setup':
            raise ValueError(name + ' at setup')
        yield
        log.append('cleanup ' + name)
        if ends == 'failing_cleanup':
            raise ValueError(name + ' at cleanup')
        if ends == 'yielding_twice':
            yield
    return gen

def hook(what):
    async def h(app):
        log.append(what)
    return h

def describe(e):
    if isinstance(e, web.CleanupError):
        return 'CleanupError:' + ''.join(' [' + describe(x) + ']' for x in e.exceptions)
    text = str(e)
    if isinstance(e, RuntimeError):  # the generator's repr differs: keep what follows it
        text = text[text.index(' has more'):] if ' has more' in text else text
    return type(e).__name__ + ': ' + text

async def noting(step):
    try:
        await step
    except Exception as e:
        log.append(describe(e))

async def main():
    log.append('-- in order, with a sub-application')
    root, sub = web.Application(), web.Application()
    root.on_startup.append(hook('on_startup root'))
    root.cleanup_ctx.append(ctx('a'))
    root.cleanup_ctx.append(ctx('b'))
    root.on_cleanup.append(hook('on_cleanup root'))
    sub.cleanup_ctx.append(ctx('sub'))
    sub.on_startup.append(hook('on_startup sub'))
    sub.on_cleanup.append(hook('on_cleanup sub'))
    root.add_subapp('/sub', sub)
    runner = web.AppRunner(root)
    await runner.setup()
    try:
        root.cleanup_ctx.append(ctx('late'))
    except RuntimeError as e:
        log.append('RuntimeError: ' + str(e))
    await runner.cleanup()

    log.append('-- errors at cleanup')
    app = web.Application()
    app.cleanup_ctx.append(ctx('a'))
    app.cleanup_ctx.append(ctx('b', 'failing_cleanup'))
    app.cleanup_ctx.append(ctx('c', 'yielding_twice'))
    app.on_cleanup.append(hook('on_cleanup'))
    runner = web.AppRunner(app)
    await runner.setup()
    await noting(runner.cleanup())

    log.append('-- one error at cleanup')
    app = web.Application()
    app.cleanup_ctx.append(ctx('a'))
    app.cleanup_ctx.append(ctx('b', 'failing_cleanup'))
    runner = web.AppRunner(app)
    await runner.setup()
    await noting(runner.cleanup())

    log.append('-- an error at setup')
    app = web.Application()
    app.cleanup_ctx.append(ctx('a'))
    app.cleanup_ctx.append(ctx('b', 'failing_setup'))
    app.cleanup_ctx.append(ctx('c'))
    app.on_startup.append(hook('on_startup'))
    runner = web.AppRunner(app)
    await noting(runner.setup())
    await runner.cleanup()

asyncio.run(main())
print('\n'.join(log))
)";

Log lines(const std::string& text) {
  Log out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// aio's generator repr differs from Python's; the rest of the message is aiohttp's.
std::string without_repr(std::string line) {
  const std::size_t at = line.find("<async_generator");
  const std::size_t more = line.find(" has more");
  if (at != std::string::npos && more != std::string::npos) line.erase(at, more - at);
  return line;
}

TEST(HttpCleanupCtx, RunsAroundTheHooksAsAiohttpsDoes) {
  Log mine, theirs;
  auto main_ = [&]() -> Coro<> {
    mine = co_await ours();
    test::PeerRun run = co_await test::run_python(kAiohttp);
    EXPECT_EQ(run.status, 0) << run.err;
    theirs = lines(run.out);
  };
  aio::run(main_());
  for (std::string& line : mine) line = without_repr(line);
  EXPECT_EQ(mine, theirs);
  // Not two empty logs: the order spelled out for the first story.
  const Log first(mine.begin(), mine.begin() + std::min<std::size_t>(mine.size(), 11));
  EXPECT_EQ(first, (Log{"-- in order, with a sub-application", "setup a", "setup b", "on_startup root", "setup sub",
                        "on_startup sub", "RuntimeError: Cannot modify frozen list.", "cleanup b", "cleanup a",
                        "on_cleanup root", "cleanup sub"}));
}

// A generator that ends before its yield fails the startup with a RuntimeError that
// names it; what started before it is still cleaned up.
TEST(HttpCleanupCtx, AGeneratorWithoutAYieldFailsTheStartup) {
  Log log;
  auto main_ = [&]() -> Coro<> {
    Application app;
    app.cleanup_ctx.append(ctx(log, "a"));
    app.cleanup_ctx.append(ctx(log, "none", Ends::without_yield));
    AppRunner runner(app, {.access_log = nullptr});
    std::string error;
    try {
      co_await runner.setup();
    } catch (const RuntimeError& e) {
      error = e.what();
    }
    EXPECT_NE(error.find("<async_generator object noted"), std::string::npos) << error;
    EXPECT_NE(error.find("ended without a yield"), std::string::npos) << error;
    co_await runner.cleanup();
  };
  aio::run(main_());
  EXPECT_EQ(log, (Log{"setup a", "setup none", "cleanup a"}));
}

// serve_app (run_app) cleans up after a failed start, as aiohttp's run_app does in its
// finally: the cleanup contexts that started are closed, and the error comes out.
TEST(HttpCleanupCtx, ServeAppCleansUpAfterAFailedStart) {
  Log log;
  auto main_ = [&]() -> Coro<> {
    Application app;
    app.cleanup_ctx.append(ctx(log, "a"));
    app.cleanup_ctx.append(ctx(log, "b", Ends::failing_setup));
    app.on_cleanup.push_back(hook(log, "on_cleanup"));
    bool raised = false;
    RunAppOptions options{.runner = {.access_log = nullptr}, .print = false};  // named first: g++ 12
    try {
      co_await serve_app(app, "127.0.0.1", 0, std::move(options));
    } catch (const ValueError& e) {
      raised = std::string(e.what()) == "b at setup";
    }
    EXPECT_TRUE(raised);
  };
  aio::run(main_());
  EXPECT_EQ(log, (Log{"setup a", "setup b", "cleanup a", "on_cleanup"}));
}

}  // namespace
}  // namespace aio::http
