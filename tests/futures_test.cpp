// Future<T>: results, exceptions, cancellation, done callbacks, awaiting, reports, repr.
#include <stdexcept>
#include <string>
#include <vector>

#include "support/aio_test.hpp"

namespace aio {
namespace {

TEST(Future, SetResultThenResult) {
  test::VirtualLoop v;
  Future<int> f = v.loop.create_future<int>();
  EXPECT_FALSE(f.done());
  EXPECT_FALSE(f.cancelled());
  f.set_result(7);
  EXPECT_TRUE(f.done());
  EXPECT_EQ(f.result(), 7);
  EXPECT_EQ(f.exception(), nullptr);
}

TEST(Future, ResultOfAPendingFutureIsInvalidState) {
  test::VirtualLoop v;
  Future<int> f = v.loop.create_future<int>();
  EXPECT_THROW(f.result(), InvalidStateError);
  EXPECT_THROW(f.exception(), InvalidStateError);
}

TEST(Future, SettingTwiceIsInvalidState) {
  test::VirtualLoop v;
  Future<int> f = v.loop.create_future<int>();
  f.set_result(1);
  EXPECT_THROW(f.set_result(2), InvalidStateError);
  EXPECT_THROW(f.set_exception(std::runtime_error("x")), InvalidStateError);
  EXPECT_EQ(f.result(), 1);
}

TEST(Future, SetAfterCancelIsInvalidState) {
  test::VirtualLoop v;
  Future<> f = v.loop.create_future();
  EXPECT_TRUE(f.cancel());
  EXPECT_THROW(f.set_result(), InvalidStateError);
}

TEST(Future, SetExceptionRethrowsFromResult) {
  test::VirtualLoop v;
  Future<int> f = v.loop.create_future<int>();
  f.set_exception(std::runtime_error("boom"));
  EXPECT_TRUE(f.done());
  EXPECT_THROW(f.result(), std::runtime_error);
  ASSERT_NE(f.exception(), nullptr);
  EXPECT_EQ(exception_str(f.exception()), "std::runtime_error: boom");
}

TEST(Future, CancelWithMessage) {
  test::VirtualLoop v;
  Future<int> f = v.loop.create_future<int>();
  EXPECT_TRUE(f.cancel("stop"));
  EXPECT_TRUE(f.cancelled());
  EXPECT_TRUE(f.done());
  EXPECT_FALSE(f.cancel("again"));  // done: nothing to cancel
  try {
    f.result();
    FAIL() << "result() of a cancelled future must throw";
  } catch (const CancelledError& e) {
    EXPECT_EQ(e.message(), "stop");
  }
  EXPECT_THROW(f.exception(), CancelledError);
}

TEST(Future, CancelOfAFinishedFutureReturnsFalse) {
  test::VirtualLoop v;
  Future<int> f = v.loop.create_future<int>();
  f.set_result(1);
  EXPECT_FALSE(f.cancel());
  EXPECT_FALSE(f.cancelled());
}

TEST(Future, DoneCallbacksAreScheduledInOrderNeverInline) {
  test::VirtualLoop v;
  Future<int> f = v.loop.create_future<int>();
  std::vector<std::string> log;
  f.add_done_callback([&](Future<int>& g) { log.push_back("first " + std::to_string(g.result())); });
  f.add_done_callback([&] { log.push_back("second"); });
  f.set_result(5);
  EXPECT_TRUE(log.empty());  // scheduled with call_soon, not called by set_result
  v.loop.call_soon([&] { v.loop.stop(); });
  v.loop.run_forever();
  EXPECT_EQ(log, (std::vector<std::string>{"first 5", "second"}));
}

TEST(Future, CallbackAddedToADoneFutureRunsOnTheNextIteration) {
  test::VirtualLoop v;
  Future<int> f = v.loop.create_future<int>();
  f.set_result(1);
  bool ran = false;
  f.add_done_callback([&] { ran = true; });
  EXPECT_FALSE(ran);
  v.loop.call_soon([&] { v.loop.stop(); });
  v.loop.run_forever();
  EXPECT_TRUE(ran);
}

TEST(Future, RemoveDoneCallbackReturnsTheCount) {
  test::VirtualLoop v;
  Future<int> f = v.loop.create_future<int>();
  bool ran = false;
  const CallbackId id = f.add_done_callback([&] { ran = true; });
  EXPECT_EQ(f.remove_done_callback(id), 1u);
  EXPECT_EQ(f.remove_done_callback(id), 0u);
  f.set_result(1);
  v.loop.call_soon([&] { v.loop.stop(); });
  v.loop.run_forever();
  EXPECT_FALSE(ran);
}

TEST(Future, ATaskAwaitsAFutureResolvedLater) {
  double elapsed = 0;
  auto main_ = []() -> Coro<int> {
    Future<int> f = get_running_loop().create_future<int>();
    get_running_loop().call_later(2, [f] { f.set_result(9); });
    co_return co_await f;
  };
  EXPECT_EQ(test::run_virtual(main_(), &elapsed), 9);
  EXPECT_DOUBLE_EQ(elapsed, 2.0);
}

TEST(Future, AwaitingAFailedFutureRethrows) {
  auto main_ = []() -> Coro<std::string> {
    Future<> f;  // asyncio.Future(): on the running loop
    get_running_loop().call_soon([f] { f.set_exception(std::logic_error("nope")); });
    try {
      co_await f;
    } catch (const std::logic_error& e) {
      co_return e.what();
    }
    co_return "no exception";
  };
  EXPECT_EQ(test::run_virtual(main_()), "nope");
}

TEST(Future, AwaitingACancelledFutureThrowsCancelledError) {
  auto main_ = []() -> Coro<std::string> {
    Future<> f;
    get_running_loop().call_soon([f] { f.cancel("gone"); });
    try {
      co_await f;
    } catch (const CancelledError& e) {
      co_return e.message();
    }
    co_return "not cancelled";
  };
  EXPECT_EQ(test::run_virtual(main_()), "gone");
}

TEST(Future, NeverRetrievedExceptionIsReported) {
  test::VirtualLoop v;
  std::vector<std::string> messages;
  v.loop.set_exception_handler([&](EventLoop&, const ExceptionContext& ctx) {
    messages.push_back(ctx.message);
    EXPECT_EQ(exception_str(ctx.exception), "std::runtime_error: lost");
  });
  {
    Future<int> f = v.loop.create_future<int>();
    f.set_exception(std::runtime_error("lost"));
  }
  EXPECT_EQ(messages, (std::vector<std::string>{"Future exception was never retrieved"}));
}

TEST(Future, RetrievedExceptionIsNotReported) {
  test::VirtualLoop v;
  int reports = 0;
  v.loop.set_exception_handler([&](EventLoop&, const ExceptionContext&) { ++reports; });
  {
    Future<int> f = v.loop.create_future<int>();
    f.set_exception(std::runtime_error("seen"));
    (void)f.exception();
  }
  EXPECT_EQ(reports, 0);
}

TEST(Future, PendingFutureWithCallbacksIsFreed) {
  // A callback holds no reference on a pending future: dropping the last handle frees
  // both (LeakSanitizer checks this test).
  test::VirtualLoop v;
  Future<int> f = v.loop.create_future<int>();
  f.add_done_callback([](Future<int>&) {});
}

TEST(Future, UntypedViewOfATypedFuture) {
  test::VirtualLoop v;
  Future<int> f = v.loop.create_future<int>();
  Future<> any = f;
  EXPECT_THROW(any.set_result(), InvalidStateError);  // it needs a value
  f.set_result(3);
  EXPECT_TRUE(any.done());
  EXPECT_NO_THROW(any.result());
  EXPECT_TRUE(any == f);
}

TEST(Future, Repr) {
  test::VirtualLoop v;
  Future<int> f = v.loop.create_future<int>();
  EXPECT_EQ(f.repr(), "<Future pending>");
  f.add_done_callback([](Future<int>&) {});
  EXPECT_NE(f.repr().find("<Future pending cb=["), std::string::npos) << f.repr();
  f.set_result(42);
  EXPECT_EQ(f.repr(), "<Future finished result=42>");
  Future<std::string> s = v.loop.create_future<std::string>();
  s.set_result("hi");
  EXPECT_EQ(s.repr(), "<Future finished result='hi'>");
  Future<> c = v.loop.create_future();
  c.cancel();
  EXPECT_EQ(c.repr(), "<Future cancelled>");
  Future<> e = v.loop.create_future();
  e.set_exception(std::runtime_error("x"));
  EXPECT_EQ(e.repr(), "<Future finished exception=std::runtime_error('x')>");
  (void)e.exception();
  v.loop.call_soon([&] { v.loop.stop(); });
  v.loop.run_forever();
}

TEST(Future, NullptrMakesAnEmptyHandle) {
  // No loop is needed (and none is used): an empty handle has no state at all.
  Future<int> typed(nullptr);
  Future<> untyped(nullptr);
  Task<int> task;
  EXPECT_FALSE(static_cast<bool>(typed));
  EXPECT_FALSE(static_cast<bool>(untyped));
  EXPECT_FALSE(static_cast<bool>(task));
  EXPECT_EQ(typed.repr(), "None");
}

TEST(Future, IsFutureTrait) {
  static_assert(isfuture<Future<int>>);
  static_assert(isfuture<Task<int>>);
  static_assert(!isfuture<Coro<int>>);
  SUCCEED();
}

}  // namespace
}  // namespace aio
