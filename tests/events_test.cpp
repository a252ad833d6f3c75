// The event loop: iteration order, timers, handles, threadsafe calls, I/O watchers,
// exception handler, debug mode, closing.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <vector>

#include "support/aio_test.hpp"

namespace aio {
namespace {

using namespace std::chrono_literals;

TEST(EventLoop, CallSoonRunsInFifoOrderOnTheNextIteration) {
  test::VirtualLoop v;
  std::vector<int> order;
  v.loop.call_soon([&] {
    order.push_back(1);
    v.loop.call_soon([&] { order.push_back(3); });  // next iteration
  });
  v.loop.call_soon([&] { order.push_back(2); });
  v.loop.call_soon([&] { v.loop.stop(); });
  v.loop.run_forever();
  // stop() ends run_forever after the iteration in which it ran: 3 did not run yet.
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  v.loop.call_soon([&] { v.loop.stop(); });
  v.loop.run_forever();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(EventLoop, TimersFireInDeadlineOrderTiesInSchedulingOrder) {
  test::VirtualLoop v;
  std::vector<int> order;
  v.loop.call_later(2, [&] { order.push_back(3); });
  v.loop.call_later(1, [&] { order.push_back(1); });
  v.loop.call_later(1, [&] { order.push_back(2); });
  v.loop.call_later(3, [&] { v.loop.stop(); });
  v.loop.run_forever();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_DOUBLE_EQ(v.now(), 3.0);
}

TEST(EventLoop, CancelledHandleDoesNotRun) {
  test::VirtualLoop v;
  bool ran = false;
  Handle h = v.loop.call_soon([&] { ran = true; });
  TimerHandle t = v.loop.call_later(1, [&] { ran = true; });
  EXPECT_FALSE(h.cancelled());
  h.cancel();
  t.cancel();
  EXPECT_TRUE(h.cancelled());
  EXPECT_TRUE(t.cancelled());
  v.loop.call_later(2, [&] { v.loop.stop(); });
  v.loop.run_forever();
  EXPECT_FALSE(ran);
}

// asyncio's rule: a heap of more than 100 cancelled timers, more than half of it, is
// rebuilt, so cancelled timer handles (and what their callbacks hold) do not wait for
// their deadlines. Here 1000 cancelled handles sit behind a live earlier timer.
TEST(EventLoop, CancelledTimerHandlesLeaveTheHeapBeforeTheirDeadline) {
  test::VirtualLoop v;
  auto token = std::make_shared<int>(0);
  std::vector<TimerHandle> handles;
  for (int i = 0; i < 1000; ++i) handles.push_back(v.loop.call_later(1000 + i, [token] {}));
  bool early_ran = false;
  v.loop.call_later(1, [&] { early_ran = true; });  // live, and first: the top of the heap
  EXPECT_EQ(token.use_count(), 1001);
  for (TimerHandle& h : handles) h.cancel();
  handles.clear();
  v.loop.call_soon([&] { v.loop.stop(); });
  v.loop.run_forever();  // one iteration: at most the rebuild, no deadline passed
  EXPECT_FALSE(early_ran);
  EXPECT_DOUBLE_EQ(v.now(), 0.0);
  EXPECT_EQ(token.use_count(), 1);  // every cancelled callback was freed
  // Cancelling a handle that already ran marks it, as asyncio's does, and is harmless.
  TimerHandle ran = v.loop.call_later(0.5, [] {});
  v.loop.call_later(2, [&] { v.loop.stop(); });
  v.loop.run_forever();
  ran.cancel();
  EXPECT_TRUE(ran.cancelled());
  EXPECT_TRUE(early_ran);
}

// A timer handle kept past its loop's life can still be cancelled: the closed loop
// let go of it (ASan would see a write to the freed loop otherwise).
TEST(EventLoop, TimerHandleCancelledAfterItsLoopIsGone) {
  TimerHandle kept;
  {
    test::VirtualLoop v;
    kept = v.loop.call_later(10, [] {});
    TimerHandle copy = kept;  // copies carry the loop too
    EXPECT_FALSE(copy.cancelled());
  }
  kept.cancel();
  EXPECT_TRUE(kept.cancelled());
}

TEST(EventLoop, RunningTwiceIsAnError) {
  test::VirtualLoop v;
  v.loop.call_soon([&] {
    EXPECT_THROW(v.loop.run_forever(), RuntimeError);
    v.loop.stop();
  });
  v.loop.run_forever();
}

TEST(EventLoop, GetRunningLoopOutsideALoopThrows) {
  EXPECT_THROW(get_running_loop(), RuntimeError);
  EXPECT_EQ(_get_running_loop(), nullptr);
}

TEST(EventLoop, CallSoonThreadsafeWakesTheLoop) {
  EventLoop loop;  // real clock: the loop really blocks until the thread calls
  int value = 0;
  std::thread t([&] { loop.call_soon_threadsafe([&] { value = 42; loop.stop(); }); });
  loop.run_forever();
  t.join();
  EXPECT_EQ(value, 42);
}

TEST(EventLoop, ReaderCallbackRunsWhileReadable) {
  test::VirtualLoop v;
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  std::string got;
  v.loop.add_reader(fds[0], [&] {
    char buf[16];
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    got.append(buf, static_cast<std::size_t>(n));
    EXPECT_TRUE(v.loop.remove_reader(fds[0]));
    v.loop.stop();
  });
  ASSERT_EQ(::write(fds[1], "hi", 2), 2);
  v.loop.run_forever();
  EXPECT_EQ(got, "hi");
  EXPECT_FALSE(v.loop.remove_reader(fds[0]));
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(EventLoop, ExceptionInCallbackGoesToTheHandler) {
  test::VirtualLoop v;
  std::string message;
  v.loop.set_exception_handler([&](EventLoop&, const ExceptionContext& ctx) { message = ctx.message; });
  v.loop.call_soon([] { throw std::runtime_error("boom"); });
  v.loop.call_soon([&] { v.loop.stop(); });
  v.loop.run_forever();
  EXPECT_NE(message.find("Exception in callback"), std::string::npos) << message;
}

TEST(EventLoop, CloseWhileRunningThrowsAndClosedLoopRejectsWork) {
  test::VirtualLoop v;
  v.loop.call_soon([&] {
    EXPECT_THROW(v.loop.close(), RuntimeError);
    v.loop.stop();
  });
  v.loop.run_forever();
  v.loop.close();
  EXPECT_TRUE(v.loop.is_closed());
  EXPECT_THROW(v.loop.call_soon([] {}), RuntimeError);
}

TEST(EventLoop, DueTimersRunAfterTheReadyCallbacksOfTheirIteration) {
  // CPython: a timer that is due when an iteration begins is appended to _ready after
  // what was already there: A, B, T.
  test::VirtualLoop v;
  std::vector<std::string> order;
  v.loop.call_soon([&] {
    order.push_back("A");
    v.loop.call_later(0, [&] { order.push_back("T"); });
    v.loop.call_soon([&] { order.push_back("B"); });
  });
  v.loop.call_later(1, [&] { v.loop.stop(); });
  v.loop.run_forever();
  EXPECT_EQ(order, (std::vector<std::string>{"A", "B", "T"}));
}

TEST(EventLoop, CallLaterAndCallAtTakeNumbersAndDurations) {
  using namespace std::chrono_literals;
  test::VirtualLoop v;
  std::vector<double> fired;
  v.loop.call_later(250ms, [&] { fired.push_back(v.loop.time()); });
  v.loop.call_later(0.5, [&] { fired.push_back(v.loop.time()); });
  v.loop.call_later(2, [&] { fired.push_back(v.loop.time()); });
  TimerHandle at = v.loop.call_at(v.loop.time() + 1.5, [&] { fired.push_back(v.loop.time()); });
  EXPECT_DOUBLE_EQ(at.when(), 1.5);
  v.loop.call_later(3, [&] { v.loop.stop(); });
  v.loop.run_forever();
  EXPECT_EQ(fired, (std::vector<double>{0.25, 0.5, 1.5, 2.0}));
}

TEST(EventLoop, CallbackArgumentsAreBound) {
  test::VirtualLoop v;
  int sum = 0;
  v.loop.call_soon([&](int a, int b) { sum = a + b; }, 2, 3);
  v.loop.call_soon([&] { v.loop.stop(); });
  v.loop.run_forever();
  EXPECT_EQ(sum, 5);
}

TEST(EventLoop, TimeIsTheVirtualClocksTime) {
  test::VirtualLoop v;
  EXPECT_DOUBLE_EQ(v.loop.time(), 0.0);
  v.clock->advance(2.5);
  EXPECT_DOUBLE_EQ(v.loop.time(), 2.5);
}

TEST(EventLoop, WriterCallbackRunsWhileWritable) {
  test::VirtualLoop v;
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  int calls = 0;
  v.loop.add_writer(fds[0], [&] {
    if (++calls == 3) {
      EXPECT_TRUE(v.loop.remove_writer(fds[0]));
      v.loop.stop();
    }
  });
  v.loop.run_forever();
  EXPECT_EQ(calls, 3);  // level-triggered: once per iteration while writable
  EXPECT_FALSE(v.loop.remove_writer(fds[0]));
  ::close(fds[0]);
  ::close(fds[1]);
}

// One epoll event can carry both edges of a descriptor. Its read waiter runs first;
// when that attaches another descriptor, the table of watches can move, and the write
// edge must still reach its waiter (under ASan, the old lookup read freed memory).
TEST(EventLoop, AReadWaiterThatAttachesAnotherFdLeavesTheWriteEdgeIntact) {
  test::VirtualLoop v;
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  const int high = ::fcntl(fds[1], F_DUPFD, 1000);  // past the table's end: it grows
  ASSERT_GE(high, 1000);
  struct Attacher final : detail::IoWaiter {
    EventLoop* loop = nullptr;
    int fd = -1;
    bool woke = false;
    void on_io_ready() noexcept override {
      woke = true;
      loop->attach_io(fd);
    }
  } reader;
  struct Flag final : detail::IoWaiter {
    bool woke = false;
    void on_io_ready() noexcept override { woke = true; }
  } writer;
  reader.loop = &v.loop;
  reader.fd = high;
  v.loop.attach_io(fds[0]);
  v.loop.clear_io_ready(fds[0], false);
  v.loop.clear_io_ready(fds[0], true);
  v.loop.set_io_waiter(fds[0], false, &reader);
  v.loop.set_io_waiter(fds[0], true, &writer);
  ASSERT_EQ(::write(fds[1], "x", 1), 1);  // readable and writable: one event, both edges
  for (int i = 0; i < 10 && !(reader.woke && writer.woke); ++i) v.loop.run_once();
  EXPECT_TRUE(reader.woke);
  EXPECT_TRUE(writer.woke);
  EXPECT_TRUE(v.loop.io_ready(fds[0], true));
  EXPECT_TRUE(v.loop.is_attached(high));
  v.loop.detach_io(high);
  v.loop.detach_io(fds[0]);
  ::close(high);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(EventLoop, AddingAReaderReplacesTheOldOne) {
  test::VirtualLoop v;
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  std::string who;
  v.loop.add_reader(fds[0], [&] { who = "old"; });
  v.loop.add_reader(fds[0], [&] {
    who = "new";
    v.loop.remove_reader(fds[0]);
    v.loop.stop();
  });
  ASSERT_EQ(::write(fds[1], "x", 1), 1);
  v.loop.run_forever();
  EXPECT_EQ(who, "new");
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(EventLoop, WatchingAnInvalidFdThrows) {
  test::VirtualLoop v;
  EXPECT_THROW(v.loop.add_reader(-1, [] {}), ValueError);
  EXPECT_THROW(v.loop.add_reader(1000000, [] {}), std::system_error);
}

TEST(EventLoop, DefaultExceptionHandlerPrintsAsAsyncio) {
  test::VirtualLoop v;
  test::StderrCapture capture;
  v.loop.call_soon([] { throw std::runtime_error("boom"); });
  v.loop.call_soon([&] { v.loop.stop(); });
  v.loop.run_forever();
  const std::string err = capture.take();
  EXPECT_NE(err.find("Exception in callback "), std::string::npos) << err;
  EXPECT_NE(err.find("\nhandle: <Handle "), std::string::npos) << err;
  EXPECT_NE(err.find("\nstd::runtime_error: boom\n"), std::string::npos) << err;
}

TEST(EventLoop, CallExceptionHandlerWithAndWithoutHandler) {
  test::VirtualLoop v;
  ExceptionContext ctx;
  ctx.message = "something happened";
  ctx.exception = std::make_exception_ptr(std::logic_error("why"));
  {
    test::StderrCapture capture;
    v.loop.call_exception_handler(ctx);
    EXPECT_EQ(capture.take(), "something happened\nstd::logic_error: why\n");
  }
  std::string seen;
  v.loop.set_exception_handler([&](EventLoop& loop, const ExceptionContext& c) {
    EXPECT_EQ(&loop, &v.loop);
    seen = c.message;
  });
  EXPECT_TRUE(static_cast<bool>(v.loop.get_exception_handler()));
  v.loop.call_exception_handler(ctx);
  EXPECT_EQ(seen, "something happened");
}

TEST(EventLoop, AHandlerThatThrowsFallsBackToTheDefault) {
  test::VirtualLoop v;
  v.loop.set_exception_handler([](EventLoop&, const ExceptionContext&) { throw std::runtime_error("handler broke"); });
  test::StderrCapture capture;
  ExceptionContext ctx;
  ctx.message = "original";
  v.loop.call_exception_handler(ctx);
  const std::string err = capture.take();
  EXPECT_NE(err.find("Unhandled error in exception handler"), std::string::npos) << err;
  EXPECT_NE(err.find("handler broke"), std::string::npos) << err;
  EXPECT_NE(err.find("original"), std::string::npos) << err;
}

TEST(EventLoop, DebugModeReportsSlowCallbacks) {
  // On the virtual clock no time passes while a callback runs, but the slowness is
  // measured on the real clock: a threshold of a nanosecond catches any callback.
  test::VirtualLoop v;
  v.loop.set_debug(true);
  EXPECT_TRUE(v.loop.get_debug());
  v.loop.slow_callback_duration = 1e-9;
  test::StderrCapture capture;
  volatile long sink = 0;
  v.loop.call_soon([&] {
    for (long i = 0; i < 100000; ++i) sink = sink + i;
  });
  v.loop.call_soon([&] { v.loop.stop(); });
  v.loop.run_forever();
  const std::string err = capture.take();
  EXPECT_NE(err.find("Executing <Handle "), std::string::npos) << err;
  EXPECT_NE(err.find(" took "), std::string::npos) << err;
  EXPECT_NE(err.find(" seconds"), std::string::npos) << err;
}

TEST(EventLoop, DebugModeNamesTheSlowTask) {
  test::VirtualLoop v;
  v.loop.set_debug(true);
  v.loop.slow_callback_duration = 1e-9;
  test::StderrCapture capture;
  auto busy = []() -> Coro<> {
    volatile long sink = 0;
    for (long i = 0; i < 100000; ++i) sink = sink + i;
    co_return;
  };
  v.loop.run_until_complete(v.loop.create_task(busy(), "busy-task"));
  const std::string err = capture.take();
  EXPECT_NE(err.find("Executing <Task "), std::string::npos) << err;
  EXPECT_NE(err.find("name='busy-task'"), std::string::npos) << err;
}

TEST(EventLoop, AioDebugEnvironmentTurnsDebugOn) {
  ::setenv("AIO_DEBUG", "1", 1);
  EventLoop on;
  ::setenv("AIO_DEBUG", "0", 1);
  EventLoop off;
  ::unsetenv("AIO_DEBUG");
  EXPECT_TRUE(on.get_debug());
  EXPECT_FALSE(off.get_debug());
}

TEST(EventLoop, ClosingWithPendingTasksReportsThem) {
  auto v = std::make_unique<test::VirtualLoop>();
  std::vector<std::string> messages;
  v->loop.set_exception_handler([&](EventLoop&, const ExceptionContext& ctx) { messages.push_back(ctx.message); });
  auto forever = []() -> Coro<> { co_await sleep(1000); };
  Task<> t = v->loop.create_task(forever());
  v->loop.call_later(1, [&] { v->loop.stop(); });
  v->loop.run_forever();  // the task is now sleeping
  v->loop.close();
  EXPECT_EQ(messages, (std::vector<std::string>{"Task was destroyed but it is pending!"}));
  EXPECT_FALSE(t.done());  // it stays pending; its coroutine is gone
}

TEST(EventLoop, ClosingWithAPendingGatherFreesEverything) {
  // The gather holds its children; the children's callbacks hold the gather. Closing
  // the loop must break that cycle (LeakSanitizer checks this test).
  test::VirtualLoop v;
  v.loop.set_exception_handler([](EventLoop&, const ExceptionContext&) {});
  auto forever = []() -> Coro<> { co_await sleep(1000); };
  auto waiter = [&]() -> Coro<> { co_await gather(forever(), forever()); };
  Task<> t = v.loop.create_task(waiter());
  v.loop.call_later(1, [&] { v.loop.stop(); });
  v.loop.run_forever();
  v.loop.close();
  EXPECT_FALSE(t.done());
}

TEST(EventLoop, AClosedLoopRejectsWork) {
  test::VirtualLoop v;
  v.loop.close();
  v.loop.close();  // closing twice is fine
  EXPECT_THROW(v.loop.call_soon([] {}), RuntimeError);
  EXPECT_THROW(v.loop.call_later(1, [] {}), RuntimeError);
  EXPECT_THROW(v.loop.call_soon_threadsafe([] {}), RuntimeError);
  EXPECT_THROW(v.loop.run_forever(), RuntimeError);
  test::StderrCapture capture;  // the coroutine given is never run
  auto c = []() -> Coro<> { co_return; };
  EXPECT_THROW(v.loop.create_task(c()), RuntimeError);
}

TEST(EventLoop, NewSetAndGetEventLoop) {
  auto loop = new_event_loop();
  set_event_loop(loop);
  EXPECT_EQ(&get_event_loop(), loop.get());
  set_event_loop(nullptr);
  EventLoop& created = get_event_loop();  // none set: one is created
  EXPECT_NE(&created, loop.get());
  EXPECT_EQ(&get_event_loop(), &created);
  set_event_loop(nullptr);
  bool inside = false;
  loop->call_soon([&] {
    inside = &get_event_loop() == loop.get();  // the running loop comes first
    loop->stop();
  });
  loop->run_forever();
  EXPECT_TRUE(inside);
}

TEST(EventLoop, CallSoonThreadsafeFromManyThreads) {
  EventLoop loop;
  std::atomic<int> started{0};
  int calls = 0;
  constexpr int kThreads = 4, kEach = 1000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      ++started;
      for (int i = 0; i < kEach; ++i) loop.call_soon_threadsafe([&] {
          if (++calls == kThreads * kEach) loop.stop();
        });
    });
  }
  loop.run_forever();
  for (auto& t : threads) t.join();
  EXPECT_EQ(calls, kThreads * kEach);
}

TEST(EventLoop, Repr) {
  EventLoop loop;
  EXPECT_EQ(loop.repr(), "<EventLoop running=False closed=False debug=False>");
  loop.close();
  EXPECT_EQ(loop.repr(), "<EventLoop running=False closed=True debug=False>");
}

}  // namespace
}  // namespace aio
