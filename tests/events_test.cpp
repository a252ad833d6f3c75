// The event loop: iteration order, timers, handles, threadsafe calls, I/O watchers,
// exception handler, debug mode, closing.
#include <sys/socket.h>
#include <unistd.h>

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

}  // namespace
}  // namespace aio
