// aio/events.hpp: the event loop (asyncio.events / base_events).
//
// One loop iteration runs exactly the callbacks that were ready when it began, then
// the timers that were due, in deadline order (ties in scheduling order); what they
// schedule runs in the next iteration. Callbacks are called from one place only,
// EventLoop::run_once(); every other place appends to the ready queue.
//
// A loop belongs to the thread that runs it: only call_soon_threadsafe() and stop()
// via call_soon_threadsafe may be used from other threads.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "aio/clock.hpp"
#include "aio/contextvars.hpp"
#include "aio/detail/executor.hpp"
#include "aio/detail/io_event.hpp"
#include "aio/detail/loop_item.hpp"
#include "aio/errors.hpp"

namespace aio {

template <class T>
class Coro;
template <class T>
class Future;
template <class T>
class Task;
class EventLoop;
class Socket;
class SockAddr;

namespace detail {
class Backend;
class TaskStateBase;

/// What the running thread is doing: the loop it runs and the task being stepped.
struct ThreadState {
  EventLoop* running_loop = nullptr;
  TaskStateBase* current_task = nullptr;
};
inline thread_local ThreadState tls_state{};

/// Whether `loop` still exists (any thread): what outlives a loop checks before
/// touching it.
bool loop_is_alive(const EventLoop* loop);

/// A loop-wide facility of a higher layer, made on first use and closed with the
/// loop (unix_events.cpp: signal handlers and the child-process watcher).
class LoopService {
 public:
  virtual ~LoopService() = default;
  /// The loop is closing (after its pending tasks were destroyed).
  virtual void close() noexcept = 0;
};

struct TimerEntry {
  std::int64_t when;
  std::uint64_t seq;
  LoopItem* target;
};
}  // namespace detail

/// A scheduled callback (asyncio.Handle): cancel() stops it from running.
class Handle {
 public:
  Handle() = default;
  Handle(const Handle& o) noexcept : h_(o.h_) {
    if (h_) h_->add_ref();
  }
  Handle(Handle&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  Handle& operator=(Handle o) noexcept {
    std::swap(h_, o.h_);
    return *this;
  }
  ~Handle() {
    if (h_) h_->release();
  }

  /// Stops the callback from running; no effect once it ran.
  void cancel() noexcept;
  bool cancelled() const noexcept { return h_ && h_->cancelled(); }
  explicit operator bool() const noexcept { return h_ != nullptr; }
  std::string repr() const { return h_ ? h_->repr() : "<Handle None>"; }

  /// Adopts a reference (internal).
  explicit Handle(detail::HandleBase* h) noexcept : h_(h) {}

 protected:
  detail::HandleBase* h_ = nullptr;
};

/// A callback scheduled for a loop time (asyncio.TimerHandle).
class TimerHandle : public Handle {
 public:
  using Handle::Handle;
  /// The loop time at which it runs.
  double when() const noexcept { return h_ ? h_->when() : 0.0; }
};

/// What went wrong, for the loop's exception handler (asyncio's context dict). Fields
/// that asyncio would leave out are empty.
struct ExceptionContext {
  std::string message;
  std::exception_ptr exception;
  std::string future;  // repr() of the future or task concerned
  std::string task;
  std::string handle;
};

struct LoopOptions {
  /// The loop's clock; empty: the process clock (monotonic unless AIO_CLOCK=virtual).
  std::shared_ptr<Clock> clock{};
  /// Debug mode; empty: on when AIO_DEBUG is set to a non-empty value other than 0.
  std::optional<bool> debug{};
};

class EventLoop {
 public:
  explicit EventLoop(LoopOptions options = {});
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // --- running and stopping
  /// Runs until stop() is called.
  void run_forever();
  /// Runs until the coroutine, task or future is done and returns its result or
  /// rethrows its exception (a coroutine is wrapped in a task). Defined in tasks.hpp.
  template <class T>
  T run_until_complete(Coro<T> coro);
  template <class T>
  T run_until_complete(Future<T> future);
  /// Stops run_forever() at the end of the current iteration.
  void stop() noexcept { stopping_ = true; }
  bool is_running() const noexcept { return running_; }
  /// "<EventLoop running=False closed=False debug=False>", as asyncio shows a loop.
  std::string repr() const;
  bool is_closed() const noexcept { return closed_; }
  /// Closes the loop: drops pending callbacks and timers; tasks still pending are
  /// destroyed and reported ("Task was destroyed but it is pending!").
  /// Throws RuntimeError when the loop is running.
  void close();

  // --- scheduling callbacks
  // Each callback runs in a copy of the context current when it was scheduled, or in
  // the Context given first (asyncio's context=; contextvars.hpp).
  /// Calls fn(args...) on the next iteration.
  template <class F, class... A>
    requires(!std::is_same_v<std::remove_cvref_t<F>, Context>)
  Handle call_soon(F&& fn, A&&... args) {
    check_closed();
    auto* h = new detail::CallbackHandle<std::decay_t<F>, std::decay_t<A>...>(2, std::forward<F>(fn),
                                                                              std::forward<A>(args)...);
    push_ready(h);
    return Handle(h);
  }
  template <class F, class... A>
  Handle call_soon(const Context& context, F&& fn, A&&... args) {
    check_closed();
    auto* h = new detail::CallbackHandle<std::decay_t<F>, std::decay_t<A>...>(2, std::forward<F>(fn),
                                                                              std::forward<A>(args)...);
    context.impl()->add_ref();
    h->set_context(context.impl());
    push_ready(h);
    return Handle(h);
  }
  /// call_soon from any thread; wakes the loop.
  template <class F, class... A>
    requires(!std::is_same_v<std::remove_cvref_t<F>, Context>)
  Handle call_soon_threadsafe(F&& fn, A&&... args) {
    auto* h = new detail::CallbackHandle<std::decay_t<F>, std::decay_t<A>...>(2, std::forward<F>(fn),
                                                                              std::forward<A>(args)...);
    push_threadsafe(h);
    return Handle(h);
  }
  template <class F, class... A>
  Handle call_soon_threadsafe(const Context& context, F&& fn, A&&... args) {
    auto* h = new detail::CallbackHandle<std::decay_t<F>, std::decay_t<A>...>(2, std::forward<F>(fn),
                                                                              std::forward<A>(args)...);
    context.impl()->add_ref();
    h->set_context(context.impl());
    push_threadsafe(h);
    return Handle(h);
  }
  /// call_soon_threadsafe(fn) for a loop that may have closed or been destroyed since
  /// (a worker thread finishing late): false, and fn dropped, when it is gone.
  template <class F>
  static bool call_soon_threadsafe_if_alive(EventLoop* loop, F&& fn) {
    return post_if_alive(loop, new detail::CallbackHandle<std::decay_t<F>>(1, std::forward<F>(fn)));
  }
  /// Calls fn(args...) after `delay` (seconds or a duration).
  template <class F, class... A>
    requires(!std::is_same_v<std::remove_cvref_t<F>, Context>)
  TimerHandle call_later(Delay delay, F&& fn, A&&... args) {
    return call_at_ns(now_ns() + delay.ns(), nullptr, std::forward<F>(fn), std::forward<A>(args)...);
  }
  template <class F, class... A>
  TimerHandle call_later(Delay delay, const Context& context, F&& fn, A&&... args) {
    return call_at_ns(now_ns() + delay.ns(), &context, std::forward<F>(fn), std::forward<A>(args)...);
  }
  /// Calls fn(args...) at loop time `when` (seconds, as time() returns).
  template <class F, class... A>
    requires(!std::is_same_v<std::remove_cvref_t<F>, Context>)
  TimerHandle call_at(double when, F&& fn, A&&... args) {
    return call_at_ns(seconds_to_ns(when), nullptr, std::forward<F>(fn), std::forward<A>(args)...);
  }
  template <class F, class... A>
  TimerHandle call_at(double when, const Context& context, F&& fn, A&&... args) {
    return call_at_ns(seconds_to_ns(when), &context, std::forward<F>(fn), std::forward<A>(args)...);
  }
  /// The loop's time in seconds (monotonic, or virtual).
  double time() const noexcept { return static_cast<double>(now_ns()) / 1e9; }
  std::int64_t now_ns() const noexcept { return clock_->now_ns(); }
  Clock& clock() const noexcept { return *clock_; }

  // --- futures and tasks (defined in futures.hpp and tasks.hpp)
  template <class T = void>
  Future<T> create_future();
  /// The task runs in a copy of the current context, or in `context` (shared).
  template <class T>
  Task<T> create_task(Coro<T> coro, std::string name = {});
  template <class T>
  Task<T> create_task(Coro<T> coro, std::string name, const Context& context);

  // --- threads (defined in threads.hpp)
  /// Calls fn(args...) on `executor` (null: the default executor) and returns a
  /// future of its result. Cancelling the future stops waiting for the call; a call
  /// that has not started then never starts.
  template <class F, class... A>
  auto run_in_executor(Executor* executor, F&& fn, A&&... args);
  /// The executor run_in_executor(nullptr, ...) uses: a ThreadPoolExecutor with
  /// min(32, cores + 4) workers, created on first use.
  Executor& default_executor();
  void set_default_executor(std::shared_ptr<Executor> executor);
  /// Shuts the default executor down and waits for its threads without blocking the
  /// loop (asyncio's shutdown_default_executor); aio::run awaits it at the end.
  Coro<void> shutdown_default_executor();

  // --- watching file descriptors
  /// Calls fn(args...) whenever fd is readable, until remove_reader(fd).
  template <class F, class... A>
  void add_reader(int fd, F&& fn, A&&... args) {
    check_closed();
    set_watcher(fd, false, new detail::CallbackHandle<std::decay_t<F>, std::decay_t<A>...>(
                               1, std::forward<F>(fn), std::forward<A>(args)...));
  }
  template <class F, class... A>
  void add_writer(int fd, F&& fn, A&&... args) {
    check_closed();
    set_watcher(fd, true, new detail::CallbackHandle<std::decay_t<F>, std::decay_t<A>...>(
                              1, std::forward<F>(fn), std::forward<A>(args)...));
  }
  /// Stops watching; returns whether fd was watched.
  bool remove_reader(int fd) { return clear_watcher(fd, false); }
  bool remove_writer(int fd) { return clear_watcher(fd, true); }

  // --- low-level socket operations (asyncio's loop.sock_*; socket.hpp, socket.cpp).
  // The socket is non-blocking; the loop watches it from the first call on.
  Coro<void> sock_connect(Socket& sock, SockAddr address);
  /// A connection and its peer's address.
  Coro<std::pair<Socket, SockAddr>> sock_accept(Socket& sock);
  /// Up to nbytes; "" at EOF.
  Coro<std::string> sock_recv(Socket& sock, std::size_t nbytes);
  Coro<std::size_t> sock_recv_into(Socket& sock, std::span<char> buf);
  Coro<void> sock_sendall(Socket& sock, std::string data);
  Coro<std::pair<std::string, SockAddr>> sock_recvfrom(Socket& sock, std::size_t bufsize);
  Coro<std::size_t> sock_sendto(Socket& sock, std::string data, SockAddr address);
  /// Sends `count` bytes (none: to the end) of the open file `file_fd` from `offset`
  /// with sendfile(2); returns the bytes sent.
  Coro<std::size_t> sock_sendfile(Socket& sock, int file_fd, std::size_t offset = 0,
                                  std::optional<std::size_t> count = std::nullopt);

  // --- aio's own sockets and pipes (not part of the asyncio API; see io_wait.hpp)
  /// Watches fd edge-triggered in both directions until detach_io (before it closes).
  /// watch = false holds it the same way without watching it, for a descriptor epoll
  /// refuses (/dev/null): no edge ever comes, and a waiter set on it is abandoned
  /// when the loop closes, as any other.
  void attach_io(int fd, bool watch = true);
  void detach_io(int fd) noexcept;
  bool is_attached(int fd) const noexcept {
    return fd >= 0 && static_cast<std::size_t>(fd) < watches_.size() && watches_[static_cast<std::size_t>(fd)].attached;
  }
  /// Whether an edge arrived since the flag was cleared (true right after attach).
  bool io_ready(int fd, bool write) const noexcept { return watches_[static_cast<std::size_t>(fd)].ready[write]; }
  /// An operation found fd drained: the next wait needs a new edge. Once the peer
  /// hung up, reading stays ready (the next read returns EOF or the error at once).
  void clear_io_ready(int fd, bool write) noexcept {
    FdWatch& w = watches_[static_cast<std::size_t>(fd)];
    if (write || !w.hangup) w.ready[write] = false;
  }
  /// Who the next edge wakes (null: nobody); one per direction. Set it only with the
  /// flag down (after clear_io_ready, or when io_ready is false): an edge that came
  /// earlier would otherwise never reach it. IoWait's await_ready checks this.
  void set_io_waiter(int fd, bool write, detail::IoWaiter* w) noexcept {
    if (is_attached(fd)) watches_[static_cast<std::size_t>(fd)].io[write] = w;  // else closed while waited on
  }

  // --- signals (asyncio's unix_events; unix_events.cpp)
  /// Calls fn(args...) on the loop, as call_soon does, whenever signal `sig` arrives
  /// (never in signal context); replaces an earlier handler for `sig`. Call it from
  /// the thread that runs the loop: that thread blocks the signal and reads it from a
  /// signalfd; other threads forward it there. A SIGINT handler replaces aio::run's
  /// cancelling of the main task while it is installed. Throws ValueError for an
  /// invalid signal number, RuntimeError for SIGKILL and SIGSTOP ("sig 9 cannot be
  /// caught") or a signal another loop handles.
  template <class F, class... A>
  void add_signal_handler(int sig, F&& fn, A&&... args) {
    check_closed();
    set_signal_handler(sig, new detail::CallbackHandle<std::decay_t<F>, std::decay_t<A>...>(
                                1, std::forward<F>(fn), std::forward<A>(args)...));
  }
  /// Removes the handler and restores the disposition `sig` had before it (for
  /// SIGINT under aio::run: the runner's); returns whether there was one.
  bool remove_signal_handler(int sig);
  /// The loop's signal and child-process service (internal; unix_events.cpp).
  std::unique_ptr<detail::LoopService>& unix_events_slot() noexcept { return unix_events_; }

  // --- errors
  using ExceptionHandler = std::function<void(EventLoop&, const ExceptionContext&)>;
  void set_exception_handler(ExceptionHandler handler) { exception_handler_ = std::move(handler); }
  const ExceptionHandler& get_exception_handler() const noexcept { return exception_handler_; }
  /// Prints the context to stderr as asyncio's default handler logs it.
  void default_exception_handler(const ExceptionContext& context);
  /// Calls the handler set, or the default one; never throws.
  void call_exception_handler(const ExceptionContext& context) noexcept;

  // --- debug
  void set_debug(bool enabled) noexcept { debug_ = enabled; }
  bool get_debug() const noexcept { return debug_; }
  /// In debug mode, callbacks and task steps slower than this (seconds) are reported.
  double slow_callback_duration = 0.1;

  // --- internals used by aio's own awaitables (not part of the asyncio API)
  /// Appends an item to the ready queue. Loop thread only.
  void push_ready(detail::LoopItem* item) noexcept {
    item->next_ready_ = nullptr;
    if (ready_tail_) {
      ready_tail_->next_ready_ = item;
    } else {
      ready_head_ = item;
    }
    ready_tail_ = item;
  }
  /// Adds a timer entry for `target` at `when_ns`; the heap holds a reference on the
  /// target until the entry is popped. Returns the entry's sequence number.
  std::uint64_t add_timer(std::int64_t when_ns, detail::LoopItem* target);
  /// A timer entry was cancelled: it stays in the heap and is dropped lazily.
  void timer_cancelled() noexcept { ++cancelled_timers_; }
  /// Runs one iteration (asyncio's _run_once).
  void run_once();
  /// Async-signal-safe: makes the loop call `on_interrupt` (set by the runner) from
  /// its next iteration.
  void interrupt_from_signal() noexcept;
  void set_interrupt_callback(std::function<void()> fn) { on_interrupt_ = std::move(fn); }
  static std::int64_t seconds_to_ns(double when);
  /// The oldest pending task (the list continues through next_task_).
  detail::LoopItem* first_pending_task() const noexcept { return tasks_head_; }
  /// Calls running on executor threads for this loop: a virtual clock does not jump
  /// while one is in flight (it is real work the loop waits for).
  void executor_job_started() noexcept { ++executor_jobs_; }
  void executor_job_ended() noexcept { --executor_jobs_; }
  /// A thread handed the loop a coroutine (run_coroutine_threadsafe) and presumably
  /// waits for it: a call in flight that waits on the loop does not hold the clock.
  /// Any thread.
  void threadsafe_coro_started() noexcept { threadsafe_coros_.fetch_add(1, std::memory_order_acq_rel); }
  void threadsafe_coro_ended() noexcept { threadsafe_coros_.fetch_sub(1, std::memory_order_acq_rel); }
  /// Async generators first iterated on this loop and not yet destroyed.
  void track_asyncgen(detail::AsyncGenLink* g) noexcept;
  static void untrack_asyncgen(detail::AsyncGenLink* g) noexcept;
  /// Closes every async generator still suspended (asyncio's shutdown_asyncgens);
  /// aio::run awaits it at the end. Defined with AsyncGenerator (asyncgen.hpp).
  Coro<void> shutdown_asyncgens();
  std::size_t pending_task_count() const noexcept { return tasks_count_; }

 private:
  friend class detail::TaskStateBase;
  struct FdWatch {
    detail::HandleBase* reader = nullptr;
    detail::HandleBase* writer = nullptr;
    // attached fds (edge-triggered): readiness flags and waiters, [0] read, [1] write
    detail::IoWaiter* io[2] = {nullptr, nullptr};
    bool ready[2] = {false, false};
    bool hangup = false;  // EOF, reset or error seen: reading never waits again
    bool attached = false;
  };

  template <class F, class... A>
  TimerHandle call_at_ns(std::int64_t when, const Context* context, F&& fn, A&&... args) {
    check_closed();
    auto* h = new detail::CallbackHandle<std::decay_t<F>, std::decay_t<A>...>(1, std::forward<F>(fn),
                                                                              std::forward<A>(args)...);
    if (context != nullptr) {
      context->impl()->add_ref();
      h->set_context(context->impl());
    }
    h->when_ns_ = when;
    h->heap_loop_ = this;  // so that cancel() counts it for drop_cancelled_timers
    add_timer(when, h);    // the heap's reference
    return TimerHandle(h);
  }
  void check_closed() const {
    if (closed_) throw RuntimeError("Event loop is closed");
  }
  /// Takes the handle's reference (unix_events.cpp).
  void set_signal_handler(int sig, detail::HandleBase* h);
  void push_threadsafe(detail::HandleBase* h);
  /// Queues h for the loop thread and wakes it; false when the loop is closed.
  bool try_push_threadsafe(detail::HandleBase* h);
  static bool post_if_alive(EventLoop* loop, detail::HandleBase* h) noexcept;
  void drain_threadsafe();
  void set_watcher(int fd, bool write, detail::HandleBase* h);
  bool clear_watcher(int fd, bool write);
  void update_interest(int fd);
  /// Polls the backend and hands each ready fd to on_fd_event; the count of events,
  /// a wake-up included.
  int poll_io(std::int64_t timeout_ns);
  void on_fd_event(const detail::IoEvent& ev);
  void run_item(detail::LoopItem* item);
  void report_slow(const std::string& what, double seconds);
  void pop_due_timers(std::int64_t now);
  void drop_cancelled_timers();

  // ready queue (intrusive FIFO)
  detail::LoopItem* ready_head_ = nullptr;
  detail::LoopItem* ready_tail_ = nullptr;

  // timers: a binary min-heap on (when, seq); cancelled entries are dropped lazily
  std::vector<detail::TimerEntry> timers_;
  std::vector<detail::TimerEntry> due_;
  std::uint64_t timer_seq_ = 0;
  std::size_t cancelled_timers_ = 0;

  // tasks still pending: an intrusive list holding a reference on each
  // (typed LoopItem so that this layer needs nothing of tasks; tasks.cpp keeps them)
  detail::LoopItem* tasks_head_ = nullptr;
  detail::LoopItem* tasks_tail_ = nullptr;
  std::size_t tasks_count_ = 0;

  // async generators to close at shutdown; the default executor and the calls in
  // flight on executors (the virtual clock waits for those not waiting on the loop)
  detail::AsyncGenLink* asyncgens_ = nullptr;
  std::shared_ptr<Executor> default_executor_;
  bool executor_shutdown_called_ = false;
  std::size_t executor_jobs_ = 0;
  std::atomic<std::size_t> threadsafe_coros_{0};

  // I/O
  std::unique_ptr<detail::Backend> backend_;
  std::vector<FdWatch> watches_;
  std::vector<detail::IoEvent> io_events_;  // what the last poll found

  // other threads
  std::mutex inbox_mu_;
  std::vector<detail::HandleBase*> inbox_;
  std::atomic<bool> inbox_nonempty_{false};
  std::atomic<bool> interrupted_{false};
  std::function<void()> on_interrupt_;
  std::unique_ptr<detail::LoopService> unix_events_;  // signals, child processes

  std::shared_ptr<Clock> clock_;
  ExceptionHandler exception_handler_;
  bool running_ = false;
  bool stopping_ = false;
  bool closed_ = false;
  bool debug_ = false;
};

/// The loop running in this thread; throws RuntimeError("no running event loop").
EventLoop& get_running_loop();
/// The loop running in this thread, or nullptr (asyncio._get_running_loop()).
inline EventLoop* _get_running_loop() noexcept { return detail::tls_state.running_loop; }
/// A new loop (asyncio.new_event_loop()).
std::shared_ptr<EventLoop> new_event_loop(LoopOptions options = {});
/// The running loop, else this thread's current loop, created when there is none.
EventLoop& get_event_loop();
/// Makes `loop` this thread's current loop (nullptr clears it).
void set_event_loop(std::shared_ptr<EventLoop> loop);

}  // namespace aio
