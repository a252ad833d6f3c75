// The loop's Unix services (asyncio.unix_events): signal handlers read from a
// signalfd, and the watcher that reaps the loop's child processes.
#pragma once

#include <signal.h>

#include <memory>
#include <optional>
#include <vector>

#include "aio/events.hpp"
#include "aio/futures.hpp"

namespace aio::detail {

/// One child process of a loop, from its spawn until it is reaped. Shared by the
/// Process handles and the watcher, which keeps it until the child exits, so a
/// Process dropped early is still reaped.
struct ChildProcess {
  EventLoop* loop = nullptr;
  int pid = -1;
  int pidfd = -1;                  // -1: the SIGCHLD watcher reaps it
  std::optional<int> returncode;   // set once reaped
  bool abandoned = false;          // the loop closed first: a thread reaps it
  std::vector<Future<int>> waiters;  // wait() calls, resolved when it is reaped
};

class UnixEvents final : public LoopService {
 public:
  explicit UnixEvents(EventLoop& loop) : loop_(loop) {}
  ~UnixEvents() override;
  /// The loop's service, made on first use.
  static UnixEvents& of(EventLoop& loop);

  // --- signals
  /// Installs `h` (taking its reference) for `sig`; see EventLoop::add_signal_handler.
  void set_handler(int sig, HandleBase* h);
  bool remove_handler(int sig);
  /// The signals this loop handles (the child gets their default disposition back).
  const sigset_t& handled() const noexcept { return mask_; }

  // --- children
  /// Call before spawning: sets the SIGCHLD watcher up when it will be needed.
  void prepare_spawn();
  /// Watches a child just spawned: through a pidfd, or the SIGCHLD watcher where
  /// pidfds are unavailable (or AIO_CHILD_WATCHER=sigchld, for tests).
  void watch_child(const std::shared_ptr<ChildProcess>& child);

  void close() noexcept override;

 private:
  void watch_signal(int sig);
  void unwatch_signal(int sig) noexcept;
  void on_signals();
  void on_child_ready(ChildProcess* child);
  void poll_children();
  void reaped(ChildProcess* child, int returncode);

  EventLoop& loop_;
  HandleBase* handlers_[NSIG] = {};
  bool watched_[NSIG] = {};
  bool was_blocked_[NSIG] = {};
  sigset_t mask_{};  // what the signalfd reads (initialised in set-up)
  bool mask_init_ = false;
  int sfd_ = -1;
  bool sigchld_watch_ = false;  // the SIGCHLD watcher is on
  bool closed_ = false;
  std::vector<std::shared_ptr<ChildProcess>> children_;  // not reaped yet
};

/// Whether new children are reaped by the SIGCHLD watcher (pidfds unavailable, or
/// AIO_CHILD_WATCHER=sigchld).
bool use_sigchld_watcher() noexcept;

}  // namespace aio::detail
