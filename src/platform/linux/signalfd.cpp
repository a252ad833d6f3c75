// Signals read from a descriptor: signalfd(2).
#include <errno.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "platform/process.hpp"

namespace aio::detail {

int signalfd_open(const sigset_t& mask) noexcept {
  const int fd = ::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  return fd >= 0 ? fd : -errno;
}

int signalfd_set(int fd, const sigset_t& mask) noexcept { return ::signalfd(fd, &mask, 0) >= 0 ? 0 : -errno; }

int signalfd_next(int fd) noexcept {
  for (;;) {
    signalfd_siginfo info{};
    const ssize_t n = ::read(fd, &info, sizeof info);
    if (n == static_cast<ssize_t>(sizeof info)) return static_cast<int>(info.ssi_signo);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    return n < 0 ? -errno : -EIO;
  }
}

}  // namespace aio::detail
