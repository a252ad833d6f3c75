// The kernel's interfaces for child processes and signals, behind a narrow surface:
// pidfds (a descriptor readable once a child exits) and signalfds (a descriptor to
// read blocked signals from). Only the platform layer includes their headers.
#pragma once

#include <signal.h>

namespace aio::detail {

/// pidfd_open(pid, 0): a close-on-exec descriptor for the child, or -errno
/// (-ENOSYS on kernels older than 5.3).
int pidfd_open(int pid) noexcept;

/// Reaps the child if it has exited, without blocking: 1 and `*returncode` set (the
/// exit status, or minus the signal that killed it, as Python reports it), 0 while
/// it still runs, -errno on failure (-ECHILD: someone else reaped it). With a pidfd
/// (>= 0) it waits on that (waitid(P_PIDFD)), else on the pid (waitid(P_PID)).
int reap_child(int pid, int pidfd, int* returncode) noexcept;

/// A non-blocking, close-on-exec signalfd for `mask`, or -errno.
int signalfd_open(const sigset_t& mask) noexcept;
/// Changes the signals `fd` reports; 0 or -errno.
int signalfd_set(int fd, const sigset_t& mask) noexcept;
/// The next pending signal read from `fd`; 0 when none is pending; -errno.
int signalfd_next(int fd) noexcept;

/// Records that a loop's thread blocked `sig` to read it from its signalfd (`blocked`),
/// or unblocked it again. Only the blocking aio did itself: not a signal the thread had
/// blocked already.
void note_loop_signal(int sig, bool blocked) noexcept;
/// Unblocks, in the calling thread, the signals aio's loops block. A thread aio starts
/// (an executor's worker) inherits its creator's mask, the loop thread's perhaps; with
/// this, a signal that lands in it runs the handler that forwards it to its loop.
void unblock_loop_signals() noexcept;

}  // namespace aio::detail
