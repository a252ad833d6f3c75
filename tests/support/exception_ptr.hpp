// What an exception_ptr holds, for tests that check a connection_lost's or a future's
// exception without rethrowing it themselves.
#pragma once

#include <exception>

namespace aio::test {

/// Whether `e` holds an E.
template <class E>
bool holds(const std::exception_ptr& e) {
  if (!e) return false;
  try {
    std::rethrow_exception(e);
  } catch (const E&) {
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace aio::test
