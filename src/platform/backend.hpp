// The narrow interface between the loop and the kernel's readiness machinery.
// epoll implements it today; an io_uring backend (POLL_ADD) can implement it later
// without the loop changing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "aio/detail/io_event.hpp"

namespace aio::detail {

class Backend {
 public:
  virtual ~Backend() = default;

  /// Sets the readiness `fd` is watched for; both false stops watching it.
  /// Throws std::system_error naming the fd.
  virtual void watch(int fd, bool readable, bool writable) = 0;

  /// Watches `fd` for both directions, edge-triggered (EPOLLET), until detach():
  /// one registration for the life of a socket or pipe. Throws std::system_error.
  virtual void attach(int fd) = 0;
  /// Stops watching an attached fd; a closed fd is fine.
  virtual void detach(int fd) noexcept = 0;

  /// How many fds are watched (the wake-up fd not counted).
  virtual std::size_t watched() const noexcept = 0;

  /// Waits up to `timeout_ns` (-1: forever, 0: don't block) and stores an event for
  /// each ready fd in `out` (cleared first; hangup: the peer closed or reset, or an
  /// error is pending: reading will not block again). Errors and hang-ups count as
  /// both readable and writable, as asyncio's selectors report them. Returns the
  /// number of events, counting a wake-up (which is not stored).
  virtual int poll(std::int64_t timeout_ns, std::vector<IoEvent>& out) = 0;

  /// Interrupts a poll() in progress, or the next one. Thread-safe and
  /// async-signal-safe.
  virtual void wakeup() noexcept = 0;
};

/// The best backend for this platform.
std::unique_ptr<Backend> make_backend();

}  // namespace aio::detail
