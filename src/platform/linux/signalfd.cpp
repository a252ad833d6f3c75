// Signals read from a descriptor: signalfd(2).
#include <errno.h>
#include <pthread.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

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

namespace {
// Bit sig - 1 for each signal that aio's loops block (Linux has 64 signals).
std::atomic<std::uint64_t> g_loop_signals{0};
}  // namespace

void note_loop_signal(int sig, bool blocked) noexcept {
  if (sig < 1 || sig > 64) return;
  const std::uint64_t bit = std::uint64_t{1} << (sig - 1);
  if (blocked) {
    g_loop_signals.fetch_or(bit, std::memory_order_relaxed);
  } else {
    g_loop_signals.fetch_and(~bit, std::memory_order_relaxed);
  }
}

void unblock_loop_signals() noexcept {
  const std::uint64_t bits = g_loop_signals.load(std::memory_order_relaxed);
  if (bits == 0) return;
  sigset_t set;
  sigemptyset(&set);
  for (int sig = 1; sig <= 64; ++sig) {
    if (bits & (std::uint64_t{1} << (sig - 1))) sigaddset(&set, sig);
  }
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

}  // namespace aio::detail
