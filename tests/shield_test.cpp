// shield(): the inner work survives the cancellation of whoever awaits it.
#include <stdexcept>
#include <string>
#include <vector>

#include "support/aio_test.hpp"

namespace aio {
namespace {

Coro<int> value_after(double s, int v) {
  co_await sleep(s);
  co_return v;
}

TEST(Shield, CancellingTheAwaiterDoesNotCancelTheInnerTask) {
  auto waiter = [](Task<int> inner) -> Coro<int> { co_return co_await shield(inner); };
  auto main_ = [&]() -> Coro<> {
    Task<int> inner = create_task(value_after(2, 5));
    Task<int> outer = create_task(waiter(inner));
    co_await sleep(1);
    outer.cancel();
    EXPECT_THROW(co_await outer, CancelledError);
    EXPECT_FALSE(inner.done());
    EXPECT_EQ(co_await inner, 5);  // it finished on its own
    EXPECT_DOUBLE_EQ(get_running_loop().time(), 2.0);
  };
  test::run_virtual(main_());
}

TEST(Shield, CancellingTheShieldFutureLeavesTheInnerRunning) {
  auto main_ = []() -> Coro<> {
    Task<int> inner = create_task(value_after(1, 1));
    Future<int> shielded = shield(inner);
    co_await sleep(0.2);
    EXPECT_TRUE(shielded.cancel());
    EXPECT_THROW(co_await shielded, CancelledError);
    co_await sleep(1);
    EXPECT_EQ(shielded.repr(), "<Future cancelled>");
    EXPECT_EQ(inner.result(), 1);
  };
  test::run_virtual(main_());
}

TEST(Shield, ADoneInnerIsReturnedAsItIs) {
  auto main_ = []() -> Coro<> {
    Task<int> inner = create_task(value_after(0, 3));
    co_await sleep(0.1);
    Future<int> shielded = shield(inner);
    EXPECT_TRUE(shielded == inner);
    EXPECT_EQ(co_await shielded, 3);
  };
  test::run_virtual(main_());
}

TEST(Shield, TheInnerResultAndExceptionComeThrough) {
  auto fail = []() -> Coro<int> {
    co_await sleep(1);
    throw std::runtime_error("inner failed");
  };
  auto main_ = [&]() -> Coro<> {
    EXPECT_EQ(co_await shield(value_after(1, 9)), 9);
    EXPECT_THROW(co_await shield(fail()), std::runtime_error);
  };
  test::run_virtual(main_());
}

TEST(Shield, AnInnerCancelCancelsTheShield) {
  auto main_ = []() -> Coro<> {
    Task<int> inner = create_task(value_after(5, 1));
    Future<int> shielded = shield(inner);
    co_await sleep(1);
    inner.cancel();
    EXPECT_THROW(co_await shielded, CancelledError);
    EXPECT_TRUE(shielded.cancelled());
  };
  test::run_virtual(main_());
}

}  // namespace
}  // namespace aio
