// Signal handlers on the loop and the child-process watcher (asyncio.unix_events).
//
// Signals. signalfd only reports a signal that is blocked in every thread that could
// take it, and executor threads may already exist with it unblocked. So the loop's
// thread blocks the signal and reads it from a signalfd, and a sigaction handler,
// which only runs in a thread where the signal is not blocked, forwards it to the
// loop's thread with tgkill(2); there it is blocked, stays pending and is read from
// the signalfd. The executor's workers unblock such signals when they start, even when
// a loop's thread made them (note_loop_signal, unblock_loop_signals). Callbacks run on the loop as call_soon callbacks, never in signal
// context. One loop at a time may handle a given signal (signals are per process).
//
// Children. Each child gets a pidfd, watched by the loop: readable once the child
// exits, it is then reaped with waitid(P_PIDFD). Where pidfd_open fails with ENOSYS
// (or AIO_CHILD_WATCHER=sigchld), a SIGCHLD watcher on the same signalfd polls each
// of the loop's children with waitid(WNOHANG). The watcher holds every child until it
// is reaped, so a Process dropped without wait() leaves no zombie. When the loop
// closes, children still running are left running, and a detached thread waits for
// each one (as asyncio's ThreadedChildWatcher does), so none stays a zombie.
#include "unix_events.hpp"

#include <errno.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#include <time.h>

#include "aio/socket.hpp"
#include "platform/process.hpp"

namespace aio {
namespace detail {
namespace {

// Per signal: the thread of the loop that handles it (0: none), for the forwarding
// handler, and what was installed before. Changed under g_mu, read by the handler.
std::atomic<pid_t> g_tid[NSIG];
UnixEvents* g_owner[NSIG];
struct sigaction g_prev[NSIG];
std::mutex g_mu;

pid_t gettid_() noexcept { return static_cast<pid_t>(::syscall(SYS_gettid)); }

extern "C" void forward_signal(int sig, siginfo_t*, void*) {
  const int saved = errno;
  const pid_t tid = g_tid[sig].load(std::memory_order_relaxed);
  // In the loop's thread the signal is blocked, so this runs elsewhere; the loop's
  // thread keeps it pending for its signalfd.
  if (tid > 0 && tid != gettid_()) ::syscall(SYS_tgkill, ::getpid(), tid, sig);
  errno = saved;
}

bool is_ours(const struct sigaction& sa) noexcept {
  return (sa.sa_flags & SA_SIGINFO) && sa.sa_sigaction == forward_signal;
}

void check_signal(int sig) {
  // Python's signal.valid_signals(): 1..NSIG-1 without glibc's reserved 32 and 33.
  if (sig < 1 || sig >= NSIG || (sig > 31 && sig < SIGRTMIN)) {
    throw ValueError("invalid signal number " + std::to_string(sig));
  }
}

std::atomic<bool> g_pidfd_unavailable{false};

[[noreturn]] void throw_errno(int err, const std::string& what) { throw_os_error(err, what); }

}  // namespace

bool use_sigchld_watcher() noexcept {
  if (g_pidfd_unavailable.load(std::memory_order_relaxed)) return true;
  const char* v = std::getenv("AIO_CHILD_WATCHER");
  return v != nullptr && std::strcmp(v, "sigchld") == 0;
}

UnixEvents& UnixEvents::of(EventLoop& loop) {
  auto& slot = loop.unix_events_slot();
  if (!slot) slot = std::make_unique<UnixEvents>(loop);
  return static_cast<UnixEvents&>(*slot);
}

UnixEvents::~UnixEvents() { close(); }

// --- signals

void UnixEvents::watch_signal(int sig) {
  if (watched_[sig]) return;
  if (sig == SIGKILL || sig == SIGSTOP) throw RuntimeError("sig " + std::to_string(sig) + " cannot be caught");
  std::lock_guard lock(g_mu);
  if (g_owner[sig] != nullptr && g_owner[sig] != this) {
    throw RuntimeError("signal " + std::to_string(sig) + " is handled by another event loop");
  }
  if (!mask_init_) {
    sigemptyset(&mask_);
    mask_init_ = true;
  }
  // Blocked here first, so that from the moment the handler forwards it, the signal
  // waits for the signalfd.
  sigset_t one, old;
  sigemptyset(&one);
  sigaddset(&one, sig);
  pthread_sigmask(SIG_BLOCK, &one, &old);
  was_blocked_[sig] = sigismember(&old, sig) == 1;
  sigaddset(&mask_, sig);
  if (sfd_ < 0) {
    const int fd = signalfd_open(mask_);
    if (fd < 0) {
      sigdelset(&mask_, sig);
      if (!was_blocked_[sig]) pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
      throw_errno(-fd, "signalfd");
    }
    sfd_ = fd;
    try {
      loop_.add_reader(sfd_, [this] { on_signals(); });
    } catch (...) {
      ::close(std::exchange(sfd_, -1));
      sigdelset(&mask_, sig);
      if (!was_blocked_[sig]) pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
      throw;
    }
  } else if (const int r = signalfd_set(sfd_, mask_); r < 0) {
    sigdelset(&mask_, sig);
    if (!was_blocked_[sig]) pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
    throw_errno(-r, "signalfd");
  }
  g_tid[sig].store(gettid_(), std::memory_order_relaxed);
  if (!was_blocked_[sig]) note_loop_signal(sig, true);  // the executor's new workers unblock it
  struct sigaction sa {};
  sa.sa_sigaction = forward_signal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  ::sigaction(sig, &sa, &g_prev[sig]);
  g_owner[sig] = this;
  watched_[sig] = true;
}

void UnixEvents::unwatch_signal(int sig) noexcept {
  if (!watched_[sig] || handlers_[sig] != nullptr || (sig == SIGCHLD && sigchld_watch_)) return;
  std::lock_guard lock(g_mu);
  // The disposition from before, unless someone replaced ours meanwhile (aio::run
  // restores its own SIGINT disposition when its run() ends).
  struct sigaction current {};
  if (::sigaction(sig, nullptr, &current) == 0 && is_ours(current)) ::sigaction(sig, &g_prev[sig], nullptr);
  g_tid[sig].store(0, std::memory_order_relaxed);
  g_owner[sig] = nullptr;
  watched_[sig] = false;
  sigdelset(&mask_, sig);
  if (sfd_ >= 0) signalfd_set(sfd_, mask_);
  if (!was_blocked_[sig]) {
    note_loop_signal(sig, false);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    // One that arrived and was not read yet was meant for the handler: consume it
    // rather than let the restored disposition (often: terminate) take it.
    const timespec zero{0, 0};
    while (::sigtimedwait(&one, nullptr, &zero) == sig) {
    }
    pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
  }
}

void UnixEvents::set_handler(int sig, HandleBase* h) {
  try {
    check_signal(sig);
    if (closed_) throw RuntimeError("Event loop is closed");
    // The signal is blocked in, and forwarded to, the calling thread.
    if (loop_.is_running() && _get_running_loop() != &loop_) {
      throw RuntimeError("add_signal_handler() must be called from the thread that runs the loop");
    }
    watch_signal(sig);
  } catch (...) {
    h->release();
    throw;
  }
  if (HandleBase* old = std::exchange(handlers_[sig], h)) {
    old->cancel();
    old->release();
  }
}

bool UnixEvents::remove_handler(int sig) {
  check_signal(sig);
  HandleBase* h = std::exchange(handlers_[sig], nullptr);
  if (h == nullptr) return false;
  h->cancel();
  h->release();
  unwatch_signal(sig);
  return true;
}

void UnixEvents::on_signals() {
  for (;;) {
    const int sig = signalfd_next(sfd_);
    if (sig <= 0) return;
    if (sig == SIGCHLD && sigchld_watch_) poll_children();
    if (sig < NSIG) {
      if (HandleBase* h = handlers_[sig]; h != nullptr && !h->cancelled()) {
        h->add_ref();  // the ready queue's reference, dropped when it runs
        loop_.push_ready(h);
      }
    }
  }
}

// --- children

void UnixEvents::prepare_spawn() {
  if (closed_) throw RuntimeError("Event loop is closed");
  if (use_sigchld_watcher() && !sigchld_watch_) {
    watch_signal(SIGCHLD);
    sigchld_watch_ = true;
  }
}

void UnixEvents::watch_child(const std::shared_ptr<ChildProcess>& child) {
  children_.push_back(child);
  if (!use_sigchld_watcher()) {
    const int fd = pidfd_open(child->pid);
    if (fd >= 0) {
      child->pidfd = fd;
      ChildProcess* c = child.get();
      try {
        loop_.add_reader(fd, [this, c] { on_child_ready(c); });
        return;
      } catch (...) {
        ::close(fd);
        child->pidfd = -1;
      }
    } else if (fd == -ENOSYS) {
      g_pidfd_unavailable.store(true, std::memory_order_relaxed);
    }
  }
  // The SIGCHLD watcher; the child may have exited before it was on, so look once.
  if (!sigchld_watch_) {
    watch_signal(SIGCHLD);
    sigchld_watch_ = true;
  }
  loop_.call_soon([this] { poll_children(); });
}

void UnixEvents::on_child_ready(ChildProcess* c) {
  int rc = 0;
  const int r = reap_child(c->pid, c->pidfd, &rc);
  if (r == 0) return;
  // ECHILD: reaped by someone else; asyncio then reports 255 too.
  reaped(c, r > 0 ? rc : 255);
}

void UnixEvents::poll_children() {
  for (std::size_t i = 0; i < children_.size();) {
    ChildProcess* c = children_[i].get();
    if (c->pidfd < 0) {
      int rc = 0;
      const int r = reap_child(c->pid, -1, &rc);
      if (r != 0) {
        reaped(c, r > 0 ? rc : 255);  // removes it from children_
        continue;
      }
    }
    ++i;
  }
}

void UnixEvents::reaped(ChildProcess* c, int returncode) {
  std::shared_ptr<ChildProcess> keep;
  for (auto it = children_.begin(); it != children_.end(); ++it) {
    if (it->get() == c) {
      keep = std::move(*it);
      children_.erase(it);
      break;
    }
  }
  c->returncode = returncode;
  if (c->pidfd >= 0) {
    loop_.remove_reader(c->pidfd);
    ::close(std::exchange(c->pidfd, -1));
  }
  for (Future<int>& f : c->waiters) {
    if (!f.done()) f.set_result(returncode);
  }
  c->waiters.clear();
}

void UnixEvents::close() noexcept {
  if (closed_) return;
  closed_ = true;
  // Children first: one that has exited is reaped now, the others by a thread each.
  std::vector<std::shared_ptr<ChildProcess>> children;
  children.swap(children_);
  for (const std::shared_ptr<ChildProcess>& c : children) {
    int rc = 0;
    if (reap_child(c->pid, c->pidfd, &rc) > 0) {
      c->returncode = rc;
    } else {
      c->abandoned = true;
      try {
        std::thread([pid = c->pid] {
          int status;
          while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
          }
        }).detach();
      } catch (...) {
        // no thread: the child becomes a zombie until this process exits
      }
    }
    if (c->pidfd >= 0) {
      loop_.remove_reader(c->pidfd);
      ::close(std::exchange(c->pidfd, -1));
    }
    c->waiters.clear();
  }
  sigchld_watch_ = false;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (HandleBase* h = std::exchange(handlers_[sig], nullptr)) {
      h->cancel();
      h->release();
    }
    unwatch_signal(sig);
  }
  if (sfd_ >= 0) {
    loop_.remove_reader(sfd_);
    ::close(std::exchange(sfd_, -1));
  }
}

}  // namespace detail

void EventLoop::set_signal_handler(int sig, detail::HandleBase* h) {
  detail::UnixEvents* ev;
  try {
    ev = &detail::UnixEvents::of(*this);
  } catch (...) {
    h->release();
    throw;
  }
  ev->set_handler(sig, h);
}

bool EventLoop::remove_signal_handler(int sig) {
  if (!unix_events_) {
    detail::UnixEvents::of(*this);  // validates sig the same way below
  }
  return static_cast<detail::UnixEvents&>(*unix_events_).remove_handler(sig);
}

}  // namespace aio
