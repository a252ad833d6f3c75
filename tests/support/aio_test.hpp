// Shared helpers for aio's tests: run a coroutine on a fresh loop with a virtual
// clock, capture what goes to stderr, and read the simulated time.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>

#include "aio/aio.hpp"

// ASSERT_* expand to `return;`, which a coroutine cannot use: this ends a Coro<>.
#define CO_ASSERT_TRUE(cond)                           \
  do {                                                 \
    if (!(cond)) {                                     \
      ADD_FAILURE() << "Assertion failed: " #cond;     \
      co_return;                                       \
    }                                                  \
  } while (0)

namespace aio::test {

/// A loop on its own virtual clock, closed at the end of the test.
struct VirtualLoop {
  std::shared_ptr<VirtualClock> clock = std::make_shared<VirtualClock>();
  EventLoop loop{LoopOptions{.clock = clock}};
  ~VirtualLoop() {
    if (!loop.is_closed()) loop.close();
  }
  /// Runs `coro` as a task until it is done and returns its result.
  template <class T>
  T run(Coro<T> coro) {
    return loop.run_until_complete(std::move(coro));
  }
  /// Simulated seconds since the loop was made.
  double now() const { return loop.time(); }
};

/// Runs `coro` with aio::run on a fresh virtual clock; `elapsed` gets the simulated time.
template <class T>
T run_virtual(Coro<T> coro, double* elapsed = nullptr) {
  auto clock = std::make_shared<VirtualClock>();
  struct Report {
    std::shared_ptr<VirtualClock> clock;
    double* out;
    ~Report() {
      if (out) *out = clock->now();
    }
  } report{clock, elapsed};
  return aio::run(std::move(coro), RunOptions{.clock = clock});
}

/// Captures everything written to stderr (fd 2) while alive.
class StderrCapture {
 public:
  StderrCapture() { testing::internal::CaptureStderr(); }
  ~StderrCapture() {
    if (!taken_) testing::internal::GetCapturedStderr();
  }
  std::string take() {
    taken_ = true;
    return testing::internal::GetCapturedStderr();
  }

 private:
  bool taken_ = false;
};

}  // namespace aio::test
