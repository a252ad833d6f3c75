// Child processes: pidfd_open(2) and waitid(2).
#include <errno.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "platform/process.hpp"

namespace aio::detail {

int pidfd_open(int pid) noexcept {
#ifdef SYS_pidfd_open
  const long fd = ::syscall(SYS_pidfd_open, pid, 0);  // pidfds are close-on-exec
  return fd >= 0 ? static_cast<int>(fd) : -errno;
#else
  (void)pid;
  return -ENOSYS;
#endif
}

int reap_child(int pid, int pidfd, int* returncode) noexcept {
  for (;;) {
    siginfo_t info{};
    int r;
    if (pidfd >= 0) {
      r = ::waitid(P_PIDFD, static_cast<id_t>(pidfd), &info, WEXITED | WNOHANG);
    } else {
      r = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG);
    }
    if (r < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (info.si_pid == 0) return 0;  // still running
    *returncode = info.si_code == CLD_EXITED ? info.si_status : -info.si_status;
    return 1;
  }
}

}  // namespace aio::detail
