// contextvars: ContextVar, Token, Context, copy_context, and asyncio's use of them
// (tasks, gather, callbacks, to_thread), against Python's own contextvars.
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/aio_test.hpp"
#include "support/python_peer.hpp"

namespace aio {
namespace {

using Str = ContextVar<std::string>;

/// Python's reprs without their addresses (and without the module of Context's).
std::string clean(const std::string& s) {
  return std::regex_replace(s, std::regex(" at 0x[0-9a-fA-F]+"), "");
}

// --- the story, told by aio and by Python

Str g_var("var", "-");
Str g_rid("rid");
std::string g_out;

void say(const std::vector<std::string>& words) {
  std::string line;
  for (const std::string& w : words) line += (line.empty() ? "" : " ") + w;
  g_out += line + "\n";
}

Coro<std::string> child(std::string name) {
  say({name, "sees", g_var.get()});
  g_var.set(name);
  co_await sleep(0);
  say({name, "after sleep", g_var.get()});
  co_return g_var.get();
}

Coro<> set_inline() {
  g_var.set("inline");
  co_return;
}

Coro<> writer() {
  g_var.set("shared");
  co_return;
}

Coro<> reader() {
  say({"reader sees", g_var.get()});
  co_return;
}

std::string blocking(std::string tag) {
  std::string v = g_var.get();
  g_var.set("thread");
  return tag + ":" + v;
}

Coro<> story() {
  say({"main start", g_var.get()});
  try {
    g_rid.get();
  } catch (const LookupError& e) {
    say({"LookupError", clean(e.what())});
  }
  say({"rid default", g_rid.get("none")});
  Token<std::string> tok = g_var.set("main");
  say({"token old", tok.old_value() == Token<std::string>::MISSING ? "True" : "False"});
  Task<std::string> t = create_task(child("t1"));
  g_var.set("main2");
  std::string r = co_await t;
  say({"task result", r, "main sees", g_var.get()});
  auto [g1, g2] = co_await gather(child("g1"), child("g2"));
  say({"gather", g1 + "," + g2, g_var.get()});
  co_await set_inline();
  say({"after inline", g_var.get()});
  get_running_loop().call_soon([] { say({"callback", "soon", g_var.get()}); });
  g_var.set("later");
  co_await sleep(0);

  Context ctx = copy_context();
  auto in_ctx = [] {
    g_var.set("in ctx");
    return g_var.get();
  };
  std::string ran = ctx.run(in_ctx);
  say({"ctx.run", ran, "outside", g_var.get(), "ctx has", ctx[g_var], std::to_string(ctx.size())});
  try {
    ctx.run([&] { return ctx.run(in_ctx); });
  } catch (const RuntimeError& e) {
    say({"RuntimeError", clean(e.what())});
  }
  std::string th = co_await to_thread(blocking, std::string("x"));
  say({"to_thread", th, g_var.get()});

  Token<std::string> tok2 = g_var.set("again");
  g_var.reset(tok2);
  say({"after reset", g_var.get()});
  try {
    g_var.reset(tok2);
  } catch (const RuntimeError& e) {
    say({"RuntimeError", clean(e.what())});
  }
  Token<std::string> tok3 = ctx.run([] { return g_var.set("other"); });
  try {
    g_var.reset(tok3);
  } catch (const ValueError& e) {
    say({"ValueError", clean(e.what())});
  }
  g_var.reset(tok);
  say({"reset to", g_var.get()});

  Context shared = copy_context();
  co_await create_task(writer(), shared);
  co_await create_task(reader(), shared);
  say({"main end", g_var.get()});
}

const char* const kStory = R"(
import asyncio, contextvars, re
var = contextvars.ContextVar('var', default='-')
rid = contextvars.ContextVar('rid')
def say(*words): print(' '.join(str(w) for w in words))
def clean(s): return re.sub(r' at 0x[0-9a-fA-F]+', '', s).replace('_contextvars.', '')

async def child(name):
    say(name, 'sees', var.get())
    var.set(name)
    await asyncio.sleep(0)
    say(name, 'after sleep', var.get())
    return var.get()

async def set_inline():
    var.set('inline')

async def writer():
    var.set('shared')

async def reader():
    say('reader sees', var.get())

def blocking(tag):
    v = var.get()
    var.set('thread')
    return tag + ':' + v

async def main():
    say('main start', var.get())
    try:
        rid.get()
    except LookupError as e:
        say('LookupError', clean(str(e)))
    say('rid default', rid.get('none'))
    tok = var.set('main')
    say('token old', tok.old_value is contextvars.Token.MISSING)
    t = asyncio.create_task(child('t1'))
    var.set('main2')
    r = await t
    say('task result', r, 'main sees', var.get())
    g1, g2 = await asyncio.gather(child('g1'), child('g2'))
    say('gather', g1 + ',' + g2, var.get())
    await set_inline()
    say('after inline', var.get())
    asyncio.get_running_loop().call_soon(lambda: say('callback', 'soon', var.get()))
    var.set('later')
    await asyncio.sleep(0)

    ctx = contextvars.copy_context()
    def in_ctx():
        var.set('in ctx')
        return var.get()
    ran = ctx.run(in_ctx)
    say('ctx.run', ran, 'outside', var.get(), 'ctx has', ctx[var], len(ctx))
    try:
        ctx.run(lambda: ctx.run(in_ctx))
    except RuntimeError as e:
        say('RuntimeError', clean(str(e)))
    th = await asyncio.to_thread(blocking, 'x')
    say('to_thread', th, var.get())

    tok2 = var.set('again')
    var.reset(tok2)
    say('after reset', var.get())
    try:
        var.reset(tok2)
    except RuntimeError as e:
        say('RuntimeError', clean(str(e)))
    tok3 = ctx.run(lambda: var.set('other'))
    try:
        var.reset(tok3)
    except ValueError as e:
        say('ValueError', clean(str(e)))
    var.reset(tok)
    say('reset to', var.get())

    shared = contextvars.copy_context()
    await asyncio.create_task(writer(), context=shared)
    await asyncio.create_task(reader(), context=shared)
    say('main end', var.get())

asyncio.run(main())
)";

TEST(ContextVarsPeers, TheStoryPrintsWhatPythonPrints) {
  g_out.clear();
  // In a context of its own: what other tests set in this thread stays out of it.
  Context().run([] { test::run_virtual(story()); });
  std::string ours = g_out;
  test::PeerRun py = aio::run(test::run_python(kStory));
  ASSERT_EQ(py.status, 0) << py.err;
  EXPECT_EQ(ours, py.out);
  // The story passes where it should (not only where both agree).
  EXPECT_NE(ours.find("t1 sees main\n"), std::string::npos) << ours;
  EXPECT_NE(ours.find("task result t1 main sees main2\n"), std::string::npos) << ours;
  EXPECT_NE(ours.find("callback soon inline\n"), std::string::npos) << ours;
  EXPECT_NE(ours.find("to_thread x:later later\n"), std::string::npos) << ours;
  EXPECT_NE(ours.find("reader sees shared\n"), std::string::npos) << ours;
}

// --- ContextVar and Token

TEST(ContextVar, GetWithoutValueUsesTheDefaultsThenRaisesLookupError) {
  Str a("a");
  Str b("b", "dflt");
  EXPECT_EQ(a.name(), "a");
  EXPECT_EQ(b.get(), "dflt");
  EXPECT_EQ(b.get("mine"), "mine");  // the argument wins over the variable's default
  EXPECT_EQ(a.get("mine"), "mine");
  try {
    a.get();
    ADD_FAILURE() << "no LookupError";
  } catch (const LookupError& e) {
    EXPECT_EQ(clean(e.what()), "<ContextVar name='a'>");
  }
  EXPECT_EQ(clean(b.repr()), "<ContextVar name='b' default='dflt'>");
  ContextVar<int> n("n", 0);
  EXPECT_EQ(clean(n.repr()), "<ContextVar name='n' default=0>");
}

TEST(ContextVar, TokenKeepsTheOldValueAndItsVariable) {
  Context().run([] {
    ContextVar<int> n("n");
    Token<int> t1 = n.set(1);
    EXPECT_EQ(t1.old_value(), Token<int>::MISSING);
    Token<int> t2 = n.set(2);
    EXPECT_EQ(t2.old_value(), 1);
    EXPECT_TRUE(t2.var() == n);
    EXPECT_EQ(clean(t2.repr()), "<Token var=<ContextVar name='n'>>");
    n.reset(t2);
    EXPECT_EQ(n.get(), 1);
    EXPECT_EQ(clean(t2.repr()), "<Token used var=<ContextVar name='n'>>");
    n.reset(t1);
    EXPECT_THROW(n.get(), LookupError);
    EXPECT_EQ(copy_context().size(), 0u);
  });
}

TEST(ContextVar, ResetErrorsAreCPythons) {
  Context().run([] {
    Str v("v");
    Str w("w");
    Token<std::string> t = v.set("x");
    try {
      w.reset(t);
      ADD_FAILURE() << "no ValueError";
    } catch (const ValueError& e) {
      EXPECT_EQ(clean(e.what()), "<Token var=<ContextVar name='v'>> was created by a different ContextVar");
    }
    Context other;
    try {
      other.run([&] { v.reset(t); });
      ADD_FAILURE() << "no ValueError";
    } catch (const ValueError& e) {
      EXPECT_EQ(clean(e.what()), "<Token var=<ContextVar name='v'>> was created in a different Context");
    }
    v.reset(t);
    try {
      v.reset(t);
      ADD_FAILURE() << "no RuntimeError";
    } catch (const RuntimeError& e) {
      EXPECT_EQ(clean(e.what()), "<Token used var=<ContextVar name='v'>> has already been used once");
    }
  });
}

// --- Context

TEST(Context, RunIsolatesItsSetsAndKeepsThem) {
  Str v("v", "-");
  Context ctx;
  EXPECT_EQ(ctx.run([&] {
    v.set("inside");
    return v.get();
  }),
            "inside");
  EXPECT_EQ(v.get(), "-");  // the thread's context is untouched
  EXPECT_TRUE(ctx.contains(v));
  EXPECT_EQ(ctx.get(v), std::optional<std::string>("inside"));
  EXPECT_EQ(ctx[v], "inside");
  EXPECT_EQ(ctx.size(), 1u);
  EXPECT_EQ(ctx.run([&] { return v.get(); }), "inside");  // kept for the next run

  Context copy = ctx.copy();  // the same values, its own sets
  copy.run([&] { v.set("copy"); });
  EXPECT_EQ(ctx[v], "inside");
  EXPECT_EQ(copy[v], "copy");
  Context same = ctx;  // a handle: the same context
  EXPECT_TRUE(same == ctx);
  EXPECT_FALSE(copy == ctx);

  Str missing("missing");
  EXPECT_FALSE(ctx.contains(missing));
  EXPECT_EQ(ctx.get(missing), std::nullopt);
  EXPECT_EQ(ctx.get(missing, std::string("d")), "d");
  EXPECT_THROW(ctx[missing], KeyError);
  EXPECT_THROW(ctx[missing], LookupError);
  EXPECT_EQ(Context().size(), 0u);
}

TEST(Context, RunPassesArgumentsAndExceptionsAndRestoresTheContext) {
  Str v("v", "-");
  Context ctx;
  EXPECT_EQ(ctx.run([](int a, int b) { return a + b; }, 2, 3), 5);
  EXPECT_THROW(ctx.run([&] {
    v.set("x");
    throw ValueError("boom");
  }),
               ValueError);
  EXPECT_EQ(v.get(), "-");
  EXPECT_EQ(ctx[v], "x");
  EXPECT_EQ(ctx.run([&] { return v.get(); }), "x");  // not left entered by the throw
}

TEST(Context, EnteringAnEnteredContextRaises) {
  Context ctx;
  try {
    ctx.run([&] { ctx.run([] {}); });
    ADD_FAILURE() << "no RuntimeError";
  } catch (const RuntimeError& e) {
    EXPECT_EQ(clean(e.what()), "cannot enter context: <Context object> is already entered");
  }
  ctx.run([] {});  // usable again
}

TEST(Context, EachThreadHasItsOwnContext) {
  Str v("v", "-");
  std::string seen, own;
  std::thread first([&] {
    v.set("first thread");  // the thread's own context, made by this set()
    std::thread second([&] {
      seen = v.get();
      v.set("second thread");
    });
    second.join();
    own = v.get();
  });
  first.join();
  EXPECT_EQ(seen, "-");
  EXPECT_EQ(own, "first thread");
  EXPECT_EQ(v.get(), "-");
}

// --- tasks

TEST(ContextTasks, NoVariableSetMeansNoContextAnywhere) {
  // The nil-cost path: nothing makes a context until a variable is set.
  std::thread t([] {
    auto main_ = []() -> Coro<> {
      co_await create_task([]() -> Coro<int> { co_return 1; }());
      get_running_loop().call_soon([] {});
      co_await sleep(0);
      EXPECT_EQ(detail::tls_context, nullptr);
      EXPECT_EQ(current_task().state()->is_task_, true);
      EXPECT_EQ(static_cast<detail::TaskStateBase*>(current_task().state())->context(), nullptr);
    };
    test::run_virtual(main_());
    EXPECT_EQ(detail::tls_context, nullptr);
  });
  t.join();
}

TEST(ContextTasks, ASetInATaskStaysInIt) {
  Str v("v", "-");
  auto main_ = [&]() -> Coro<> {
    std::string sibling_saw;
    auto setter = [&]() -> Coro<> {
      v.set("setter");
      co_await sleep(1);
      EXPECT_EQ(v.get(), "setter");  // kept across its steps
    };
    auto sibling = [&]() -> Coro<> {
      co_await sleep(2);
      sibling_saw = v.get();
    };
    Task<> a = create_task(setter());
    Task<> b = create_task(sibling());
    co_await a;
    EXPECT_EQ(v.get(), "-");  // not the creator's
    co_await b;
    EXPECT_EQ(sibling_saw, "-");  // nor a sibling's
  };
  test::run_virtual(main_());
}

TEST(ContextTasks, ASetInATaskInTheEmptyContextLeavesTheThreadAlone) {
  std::thread t([] {  // no context in this thread: the task makes its own on set()
    Str v("v", "-");
    auto main_ = [&]() -> Coro<> {
      auto sets = [&]() -> Coro<> {
        v.set("task");
        co_return;
      };
      co_await create_task(sets());
      EXPECT_EQ(detail::tls_context, nullptr);  // the step gave the context back
      std::string in_callback;
      get_running_loop().call_soon([&] { in_callback = v.get(); });
      co_await sleep(0);
      EXPECT_EQ(in_callback, "-");
      EXPECT_EQ(v.get(), "-");
    };
    test::run_virtual(main_());
    EXPECT_EQ(detail::tls_context, nullptr);
    EXPECT_EQ(v.get(), "-");
  });
  t.join();
}

TEST(ContextTasks, ATaskSeesWhatWasSetBeforeItWasCreatedOnly) {
  Str v("v", "-");
  auto main_ = [&]() -> Coro<> {
    v.set("before");
    auto reads = [&]() -> Coro<std::string> {
      co_await sleep(1);
      co_return v.get();
    };
    Task<std::string> t = create_task(reads());
    v.set("after");
    EXPECT_EQ(co_await t, "before");
    // A coroutine awaited inline shares its caller's context.
    auto sets = [&]() -> Coro<> {
      v.set("inline");
      co_return;
    };
    co_await sets();
    EXPECT_EQ(v.get(), "inline");
  };
  test::run_virtual(main_());
}

TEST(ContextTasks, TasksGivenTheSameContextShareIt) {
  Str v("v", "-");
  auto main_ = [&]() -> Coro<> {
    Context shared;
    auto writer_ = [&]() -> Coro<> {
      v.set("written");
      co_await sleep(1);
      v.set("written again");
    };
    auto reader_ = [&]() -> Coro<std::vector<std::string>> {
      std::vector<std::string> seen{v.get()};
      co_await sleep(2);
      seen.push_back(v.get());
      co_return seen;
    };
    Task<> w = create_task(writer_(), "writer", shared);
    Task<std::vector<std::string>> r = create_task(reader_(), shared);
    co_await w;
    std::vector<std::string> seen = co_await r;
    EXPECT_EQ(seen, (std::vector<std::string>{"written", "written again"}));
    EXPECT_EQ(shared[v], "written again");
    EXPECT_EQ(v.get(), "-");
    // A task running in a context has entered it.
    auto enters = [&]() -> Coro<> {
      EXPECT_THROW(shared.run([] {}), RuntimeError);
      co_return;
    };
    co_await create_task(enters(), shared);
    shared.run([] {});
  };
  test::run_virtual(main_());
}

TEST(ContextTasks, TaskGroupTasksRunInACopyOrTheGivenContext) {
  Str v("v", "-");
  auto main_ = [&]() -> Coro<> {
    v.set("creator");
    Context given;
    std::string copied, in_given;
    // Named: a coroutine lambda's captures live in the lambda, not in its frame.
    auto copies = [&]() -> Coro<> {
      copied = v.get();
      v.set("child");
      co_return;
    };
    auto in_context = [&]() -> Coro<> {
      in_given = v.get();
      co_return;
    };
    co_await async_with(TaskGroup(), [&](TaskGroup& tg) -> Coro<> {
      tg.create_task(copies());
      tg.create_task(in_context(), given);
      co_return;
    });
    EXPECT_EQ(copied, "creator");
    EXPECT_EQ(in_given, "-");
    EXPECT_EQ(v.get(), "creator");
  };
  test::run_virtual(main_());
}

TEST(ContextTasks, GetContextIsTheTasksOwnContext) {
  std::thread t([] {  // a thread with no context yet: the first tasks have none either
    Str v("v", "-");
    auto main_ = [&]() -> Coro<> {
      // Made by a set() in the task's step (it had no context), then asked for there.
      auto sets_then_asks = [&]() -> Coro<bool> {
        v.set("own");
        Context own = current_task().get_context();
        co_await sleep(0);
        co_return own[v] == "own" && own == current_task().get_context() && v.get() == "own";
      };
      Task<bool> lazy = create_task(sets_then_asks());
      auto sets = [&]() -> Coro<> {
        co_await sleep(1);
        v.set("task");
        co_await sleep(1);
      };
      Task<> other = create_task(sets());
      Context of_other = other.get_context();  // made before the task's first step
      Context mine = current_task().get_context();  // made in the task's own step
      EXPECT_TRUE(mine == current_task().get_context());
      v.set("main");
      EXPECT_EQ(mine[v], "main");
      EXPECT_TRUE(co_await lazy);
      co_await other;
      EXPECT_EQ(of_other[v], "task");
      EXPECT_TRUE(of_other == other.get_context());
      Context given;
      Task<> in_given = create_task(sets(), given);
      EXPECT_TRUE(in_given.get_context() == given);
      co_await in_given;
      EXPECT_EQ(given[v], "task");
      EXPECT_EQ(v.get(), "main");
    };
    test::run_virtual(main_());
  });
  t.join();
}

TEST(ContextTasks, RunnerRunsTheMainTaskInTheGivenContext) {
  Str v("v", "-");
  Context ctx;
  auto main_ = [&]() -> Coro<std::string> {
    std::string seen = v.get();
    v.set("main");
    co_return seen;
  };
  ctx.run([&] { v.set("given"); });
  {
    Runner runner(RunOptions{.clock = std::make_shared<VirtualClock>()});
    EXPECT_EQ(runner.run(main_(), ctx), "given");
    EXPECT_EQ(ctx[v], "main");  // the main task ran in ctx itself
    EXPECT_EQ(runner.run(main_()), "-");  // a copy of this thread's context
  }
  EXPECT_EQ(v.get(), "-");
}

// --- callbacks

TEST(ContextCallbacks, CallbacksRunInACopyMadeWhenScheduled) {
  Str v("v", "-");
  auto main_ = [&]() -> Coro<> {
    EventLoop& loop = get_running_loop();
    std::vector<std::string> log;
    v.set("soon");
    loop.call_soon([&] {
      log.push_back("soon " + v.get());
      v.set("changed by the callback");
    });
    v.set("later");
    loop.call_later(1, [&] { log.push_back("later " + v.get()); });
    v.set("at");
    loop.call_at(loop.time() + 2, [&] { log.push_back("at " + v.get()); });
    v.set("threadsafe");
    loop.call_soon_threadsafe([&] { log.push_back("threadsafe " + v.get()); });
    Context given;
    given.run([&] { v.set("given"); });
    loop.call_soon(given, [&] { log.push_back("soon given " + v.get()); });
    loop.call_later(1, given, [&] { log.push_back("later given " + v.get()); });
    loop.call_at(loop.time() + 2, given, [&] { log.push_back("at given " + v.get()); });
    loop.call_soon_threadsafe(given, [&] { log.push_back("threadsafe given " + v.get()); });
    v.set("main");
    co_await sleep(3);
    EXPECT_EQ(log, (std::vector<std::string>{"soon soon", "soon given given", "threadsafe threadsafe",
                                             "threadsafe given given", "later later", "later given given",
                                             "at at", "at given given"}));
    EXPECT_EQ(v.get(), "main");
  };
  test::run_virtual(main_());
}

TEST(ContextCallbacks, DoneCallbacksRunInTheContextOfAddDoneCallback) {
  Str v("v", "-");
  auto main_ = [&]() -> Coro<> {
    std::vector<std::string> log;
    Future<int> f = get_running_loop().create_future<int>();
    v.set("added");
    f.add_done_callback([&](Future<int>&) { log.push_back("cb " + v.get()); });
    Context given;
    given.run([&] { v.set("given"); });
    f.add_done_callback([&] { log.push_back("cb given " + v.get()); }, given);
    v.set("done");
    f.set_result(1);
    co_await sleep(0);
    EXPECT_EQ(log, (std::vector<std::string>{"cb added", "cb given given"}));
  };
  test::run_virtual(main_());
}

TEST(ContextCallbacks, ACallbackSettingInTheEmptyContextLeavesTheThreadAlone) {
  std::thread t([] {
    Str v("v", "-");
    auto main_ = [&]() -> Coro<> {
      std::string second;
      get_running_loop().call_soon([&] { v.set("callback"); });
      get_running_loop().call_soon([&] { second = v.get(); });
      co_await sleep(0);
      EXPECT_EQ(second, "-");
      EXPECT_EQ(v.get(), "-");
      EXPECT_EQ(detail::tls_context, nullptr);
    };
    test::run_virtual(main_());
  });
  t.join();
}

// --- threads

TEST(ContextThreads, ToThreadRunsInACopyOfTheCallersContext) {
  Str v("v", "-");
  auto main_ = [&]() -> Coro<> {
    v.set("caller");
    std::string first = co_await to_thread([&] {
      std::string seen = v.get();
      v.set("worker");
      return seen + "/" + v.get();
    });
    EXPECT_EQ(first, "caller/worker");
    EXPECT_EQ(v.get(), "caller");  // the worker's set stays in its copy
    // Each call gets a fresh copy, even on the same worker thread.
    std::string second = co_await to_thread([&] { return v.get(); });
    EXPECT_EQ(second, "caller");
  };
  test::run_virtual(main_());
}

TEST(ContextThreads, ToThreadFromTheEmptyContextDoesNotLeakBetweenCalls) {
  std::thread t([] {
    Str v("v", "-");
    auto main_ = [&]() -> Coro<> {
      std::string first = co_await to_thread([&] {
        v.set("worker");
        return v.get();
      });
      std::string second = co_await to_thread([&] { return v.get(); });
      EXPECT_EQ(first, "worker");
      EXPECT_EQ(second, "-");
      EXPECT_EQ(v.get(), "-");
    };
    test::run_virtual(main_());
  });
  t.join();
}

TEST(ContextThreads, RunInExecutorDoesNotCopyTheContext) {
  Str v("v", "-");
  auto main_ = [&]() -> Coro<> {
    v.set("caller");
    ThreadPoolExecutor pool(1);
    std::string seen = co_await get_running_loop().run_in_executor(&pool, [&] { return v.get(); });
    EXPECT_EQ(seen, "-");
  };
  test::run_virtual(main_());
}

}  // namespace
}  // namespace aio
