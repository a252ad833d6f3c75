// codetiming's Timer, as the c.ex seeds use it: prints its text (a printf format with
// one %f) with the seconds since start() when stop() is called.
#pragma once

#include <cstdio>
#include <string>
#include <utility>

#include "aio/aio.hpp"

class Timer {
 public:
  explicit Timer(std::string text) : text_(std::move(text)) {}
  void start() { start_ = aio::time::perf_counter(); }
  void stop() const { std::printf(text_.c_str(), aio::time::perf_counter() - start_); }

 private:
  std::string text_;
  double start_ = 0;
};
