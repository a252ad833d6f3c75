// errors.hpp: the hierarchy (CancelledError is no std::exception), Python-style repr
// and str of any exception, ExceptionGroup.
#include <stdexcept>
#include <string>
#include <type_traits>

#include "support/aio_test.hpp"

namespace aio {
namespace {

struct NotAnException {};

TEST(Errors, CancellationIsNotAStdException) {
  static_assert(!std::is_base_of_v<std::exception, CancelledError>);
  static_assert(!std::is_base_of_v<std::exception, KeyboardInterrupt>);
  static_assert(std::is_base_of_v<BaseException, CancelledError>);
  static_assert(std::is_base_of_v<std::exception, TimeoutError>);
  static_assert(std::is_base_of_v<std::exception, InvalidStateError>);
  // So a catch-all for errors lets a cancellation through.
  bool passed_through = false;
  try {
    try {
      throw CancelledError("stop");
    } catch (const std::exception&) {
      ADD_FAILURE() << "swallowed";
    }
  } catch (const CancelledError& e) {
    passed_through = e.message() == "stop";
  }
  EXPECT_TRUE(passed_through);
}

TEST(Errors, ACatchAllForErrorsInATaskDoesNotStopItsCancellation) {
  auto careless = []() -> Coro<> {
    try {
      co_await sleep(10);
    } catch (const std::exception&) {  // meant for errors only
    }
    co_await sleep(10);
  };
  auto main_ = [&]() -> Coro<> {
    Task<> t = create_task(careless());
    co_await sleep(1);
    t.cancel();
    EXPECT_THROW(co_await t, CancelledError);
    EXPECT_TRUE(t.cancelled());
  };
  double elapsed = 0;
  test::run_virtual(main_(), &elapsed);
  EXPECT_DOUBLE_EQ(elapsed, 1.0);
}

TEST(Errors, ReprAndStrReadLikePython) {
  EXPECT_EQ(exception_repr(std::make_exception_ptr(std::runtime_error("boom"))), "std::runtime_error('boom')");
  EXPECT_EQ(exception_repr(std::make_exception_ptr(std::runtime_error("it's"))), "std::runtime_error(\"it's\")");
  EXPECT_EQ(exception_repr(std::make_exception_ptr(CancelledError())), "aio::CancelledError()");
  EXPECT_EQ(exception_repr(std::make_exception_ptr(TimeoutError())), "aio::TimeoutError()");
  EXPECT_EQ(exception_repr(std::make_exception_ptr(NotAnException{})), "aio::(anonymous namespace)::NotAnException()");
  EXPECT_EQ(exception_repr(std::make_exception_ptr(42)), "int()");
  EXPECT_EQ(exception_repr(nullptr), "None");
  EXPECT_EQ(exception_str(std::make_exception_ptr(ValueError("bad value"))), "aio::ValueError: bad value");
  EXPECT_EQ(exception_str(std::make_exception_ptr(CancelledError())), "aio::CancelledError");
  EXPECT_EQ(exception_type_name(std::make_exception_ptr(std::logic_error("x"))), "std::logic_error");
}

TEST(Errors, IsCancelledError) {
  EXPECT_TRUE(is_cancelled_error(std::make_exception_ptr(CancelledError("m"))));
  EXPECT_FALSE(is_cancelled_error(std::make_exception_ptr(std::runtime_error("m"))));
  EXPECT_FALSE(is_cancelled_error(nullptr));
}

TEST(Errors, ExceptionGroup) {
  ExceptionGroup one("unhandled errors in a TaskGroup", {std::make_exception_ptr(std::runtime_error("a"))});
  EXPECT_STREQ(one.what(), "unhandled errors in a TaskGroup (1 sub-exception)");
  ExceptionGroup two("oops", {std::make_exception_ptr(std::runtime_error("a")), std::make_exception_ptr(1)});
  EXPECT_STREQ(two.what(), "oops (2 sub-exceptions)");
  EXPECT_EQ(two.message(), "oops");
  EXPECT_EQ(two.exceptions().size(), 2u);
}

}  // namespace
}  // namespace aio
