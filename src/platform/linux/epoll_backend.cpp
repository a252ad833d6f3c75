// The epoll backend: level-triggered epoll for add_reader/add_writer, edge-triggered
// for attached sockets and pipes, an eventfd for wake-ups, and
// epoll_pwait2 for nanosecond timeouts where the kernel has it.
#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <system_error>
#include <vector>

#include "platform/backend.hpp"

namespace aio::detail {
namespace {

[[noreturn]] void throw_errno(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), what);
}

class EpollBackend final : public Backend {
 public:
  EpollBackend() {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epfd_ < 0) throw_errno(errno, "epoll_create1");
    wakefd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wakefd_ < 0) {
      int err = errno;
      ::close(epfd_);
      throw_errno(err, "eventfd");
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wakefd_;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, wakefd_, &ev) < 0) {
      int err = errno;
      ::close(wakefd_);
      ::close(epfd_);
      throw_errno(err, "epoll_ctl(ADD, eventfd)");
    }
    events_.resize(256);
  }
  ~EpollBackend() override {
    ::close(wakefd_);
    ::close(epfd_);
  }

  void watch(int fd, bool readable, bool writable) override {
    if (fd < 0) throw_errno(EBADF, "watch fd " + std::to_string(fd));
    if (static_cast<std::size_t>(fd) >= registered_.size()) registered_.resize(static_cast<std::size_t>(fd) + 1, 0);
    const std::uint32_t want = (readable ? EPOLLIN : 0u) | (writable ? EPOLLOUT : 0u);
    std::uint32_t& have = registered_[static_cast<std::size_t>(fd)];
    if (want == have) return;
    // Counts the fd in or out once `have` changes, whichever way the change goes.
    struct Count {
      std::uint32_t& have;
      std::size_t& watched;
      const bool before = have != 0;
      ~Count() {
        if (before && have == 0) --watched;
        if (!before && have != 0) ++watched;
      }
    } count{have, watched_};
    epoll_event ev{};
    ev.events = want;
    ev.data.fd = fd;
    int op = have == 0 ? EPOLL_CTL_ADD : (want == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD);
    if (::epoll_ctl(epfd_, op, fd, &ev) < 0) {
      int err = errno;
      if (op == EPOLL_CTL_DEL && (err == EBADF || err == ENOENT)) {
        have = 0;  // the fd was closed before it was unwatched: nothing left to remove
        return;
      }
      if (op == EPOLL_CTL_MOD && err == ENOENT) {  // closed and reused: register anew
        if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) == 0) {
          have = want;
          return;
        }
        err = errno;
      }
      throw_errno(err, "epoll_ctl on fd " + std::to_string(fd));
    }
    have = want;
  }

  void attach(int fd) override {
    if (fd < 0) throw_errno(EBADF, "attach fd " + std::to_string(fd));
    if (static_cast<std::size_t>(fd) >= registered_.size()) registered_.resize(static_cast<std::size_t>(fd) + 1, 0);
    std::uint32_t& have = registered_[static_cast<std::size_t>(fd)];
    if (have != 0) throw_errno(EEXIST, "attach fd " + std::to_string(fd) + ": already watched");
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.fd = fd;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) < 0) throw_errno(errno, "epoll_ctl(ADD) on fd " + std::to_string(fd));
    have = ev.events;
    ++watched_;
  }

  void detach(int fd) noexcept override {
    if (fd < 0 || static_cast<std::size_t>(fd) >= registered_.size()) return;
    std::uint32_t& have = registered_[static_cast<std::size_t>(fd)];
    if (have == 0) return;
    ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);  // ENOENT/EBADF: already closed
    have = 0;
    --watched_;
  }

  std::size_t watched() const noexcept override { return watched_; }

  int poll(std::int64_t timeout_ns, std::vector<IoEvent>& out) override {
    out.clear();
    int n = wait(timeout_ns);
    if (n < 0) {
      if (errno == EINTR) return 0;
      throw_errno(errno, "epoll_wait");
    }
    int count = 0;
    for (int i = 0; i < n; ++i) {
      const epoll_event& ev = events_[static_cast<std::size_t>(i)];
      if (ev.data.fd == wakefd_) {
        std::uint64_t v;
        while (::read(wakefd_, &v, sizeof v) > 0) {
        }
        ++count;
        continue;
      }
      const bool err = (ev.events & (EPOLLERR | EPOLLHUP)) != 0;
      const std::uint32_t have = registered_[static_cast<std::size_t>(ev.data.fd)];
      const bool r = (ev.events & (EPOLLIN | EPOLLRDHUP)) != 0 || (err && (have & EPOLLIN));
      const bool w = (ev.events & EPOLLOUT) != 0 || (err && (have & EPOLLOUT));
      if (r || w) {
        // Hang-up and EOF stay; an error alone may not (a datagram socket's ICMP error
        // is gone once a call returned it), so it is an edge like any other.
        out.push_back(IoEvent{ev.data.fd, r, w, (ev.events & (EPOLLHUP | EPOLLRDHUP)) != 0});
        ++count;
      }
    }
    if (static_cast<std::size_t>(n) == events_.size() && events_.size() < 65536) events_.resize(events_.size() * 2);
    return count;
  }

  void wakeup() noexcept override {
    const std::uint64_t one = 1;
    ssize_t r = ::write(wakefd_, &one, sizeof one);  // EAGAIN: a wake-up is already pending
    (void)r;
  }

 private:
  int wait(std::int64_t timeout_ns) {
    const int max = static_cast<int>(events_.size());
    if (timeout_ns < 0) return ::epoll_wait(epfd_, events_.data(), max, -1);
    if (timeout_ns == 0) return ::epoll_wait(epfd_, events_.data(), max, 0);
#ifdef SYS_epoll_pwait2
    if (have_pwait2_) {
      timespec ts{static_cast<time_t>(timeout_ns / 1000000000), static_cast<long>(timeout_ns % 1000000000)};
      int n = ::epoll_pwait2(epfd_, events_.data(), max, &ts, nullptr);
      if (n >= 0 || errno != ENOSYS) return n;
      have_pwait2_ = false;
    }
#endif
    // Round up, so that a timer is never polled for just before it is due.
    std::int64_t ms = (timeout_ns + 999999) / 1000000;
    if (ms > 24 * 3600 * 1000) ms = 24 * 3600 * 1000;
    return ::epoll_wait(epfd_, events_.data(), max, static_cast<int>(ms));
  }

  int epfd_ = -1;
  int wakefd_ = -1;
  bool have_pwait2_ = true;
  std::vector<epoll_event> events_;
  std::vector<std::uint32_t> registered_;
  std::size_t watched_ = 0;
};

}  // namespace

std::unique_ptr<Backend> make_backend() { return std::make_unique<EpollBackend>(); }

}  // namespace aio::detail
