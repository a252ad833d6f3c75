// The event loop: one iteration at a time, as asyncio's BaseEventLoop._run_once.
#include "aio/events.hpp"

#include <signal.h>

#include <algorithm>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <set>

#include "aio/detail/virtual_time.hpp"
#include "format.hpp"
#include "platform/backend.hpp"

namespace aio {

namespace detail {
namespace {

// Live loops, so that a future destroyed after its loop closed does not use it.
std::mutex g_loops_mu;
std::set<const EventLoop*>& live_loops() {
  static auto* s = new std::set<const EventLoop*>;
  return *s;
}

struct TimerLater {
  bool operator()(const TimerEntry& a, const TimerEntry& b) const noexcept {
    return a.when != b.when ? a.when > b.when : a.seq > b.seq;
  }
};

bool env_debug() {
  const char* v = std::getenv("AIO_DEBUG");
  return v != nullptr && *v != '\0' && std::string(v) != "0";
}

double real_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

bool loop_is_alive(const EventLoop* loop) {
  std::lock_guard lock(g_loops_mu);
  return live_loops().count(loop) != 0;
}

void HandleBase::invoke_guarded() noexcept {
  try {
    ContextScope scope(context_);  // asyncio's Handle._run: self._context.run(callback)
    invoke();
  } catch (...) {
    ExceptionContext ctx;
    ctx.message = "Exception in callback " + callback_name() + "()";
    ctx.exception = std::current_exception();
    ctx.handle = repr();
    if (EventLoop* loop = tls_state.running_loop) {
      loop->call_exception_handler(ctx);
    } else {
      write_stderr(ctx.message + "\n" + exception_str(ctx.exception));
    }
  }
}

}  // namespace detail

void Handle::cancel() noexcept {
  if (h_) h_->cancel();
}

namespace {
// As the Python interpreter does at start: a write to a pipe or socket whose reader is
// gone fails with EPIPE (BrokenPipeError) instead of killing the process. A program
// that installed its own SIGPIPE handler keeps it; child processes get the default
// back (subprocess.cpp).
void ignore_sigpipe_once() noexcept {
  static const bool done = [] {
    struct sigaction old {};
    if (::sigaction(SIGPIPE, nullptr, &old) == 0 && old.sa_handler == SIG_DFL && !(old.sa_flags & SA_SIGINFO)) {
      ::signal(SIGPIPE, SIG_IGN);
    }
    return true;
  }();
  (void)done;
}
}  // namespace

EventLoop::EventLoop(LoopOptions options)
    : backend_(detail::make_backend()), clock_(options.clock ? std::move(options.clock) : process_clock()) {
  debug_ = options.debug ? *options.debug : detail::env_debug();
  ignore_sigpipe_once();
  std::lock_guard lock(detail::g_loops_mu);
  detail::live_loops().insert(this);
}

EventLoop::~EventLoop() {
  if (!closed_) {
    try {
      close();
    } catch (...) {
      // close() only throws for a running loop, which cannot be destroyed.
    }
  }
  std::lock_guard lock(detail::g_loops_mu);
  detail::live_loops().erase(this);
}

std::int64_t EventLoop::seconds_to_ns(double when) {
  if (when != when) throw ValueError("Invalid loop time: NaN");
  const double ns = when * 1e9;
  if (ns >= static_cast<double>(Delay::forever)) return Delay::forever;
  if (ns <= -static_cast<double>(Delay::forever)) return -Delay::forever;
  return std::llround(ns);  // nearest, so that loop.time() + 0.3 lands on the same ns as a 0.3 s delay
}

// --- running

void EventLoop::run_forever() {
  check_closed();
  if (running_) throw RuntimeError("This event loop is already running");
  if (detail::tls_state.running_loop != nullptr) {
    throw RuntimeError("Cannot run the event loop while another loop is running");
  }
  running_ = true;
  detail::tls_state.running_loop = this;
  struct Reset {
    EventLoop* loop;
    ~Reset() {
      loop->stopping_ = false;
      loop->running_ = false;
      detail::tls_state.running_loop = nullptr;
    }
  } reset{this};
  for (;;) {
    run_once();
    if (stopping_) break;
  }
}

void EventLoop::drop_cancelled_timers() {
  // asyncio: rebuild the heap when more than half of a large heap is cancelled,
  // otherwise pop cancelled entries from its top.
  if (cancelled_timers_ > 100 && cancelled_timers_ * 2 > timers_.size()) {
    std::vector<detail::TimerEntry> live;
    live.reserve(timers_.size() - std::min(cancelled_timers_, timers_.size()));
    for (const detail::TimerEntry& e : timers_) {
      if (e.target->timer_pending(e.seq)) {
        live.push_back(e);
      } else {
        e.target->release();
      }
    }
    timers_.swap(live);
    std::make_heap(timers_.begin(), timers_.end(), detail::TimerLater{});
    cancelled_timers_ = 0;
    return;
  }
  while (!timers_.empty() && !timers_.front().target->timer_pending(timers_.front().seq)) {
    std::pop_heap(timers_.begin(), timers_.end(), detail::TimerLater{});
    timers_.back().target->release();
    timers_.pop_back();
    if (cancelled_timers_ > 0) --cancelled_timers_;
  }
}

std::uint64_t EventLoop::add_timer(std::int64_t when_ns, detail::LoopItem* target) {
  target->add_ref();
  const std::uint64_t seq = ++timer_seq_;
  timers_.push_back({when_ns, seq, target});
  std::push_heap(timers_.begin(), timers_.end(), detail::TimerLater{});
  return seq;
}

void EventLoop::pop_due_timers(std::int64_t now) {
  while (!timers_.empty() && timers_.front().when <= now) {
    std::pop_heap(timers_.begin(), timers_.end(), detail::TimerLater{});
    detail::TimerEntry e = timers_.back();
    timers_.pop_back();
    if (e.target->timer_pending(e.seq)) {
      due_.push_back(e);
    } else {
      e.target->release();
      if (cancelled_timers_ > 0) --cancelled_timers_;
    }
  }
}

void EventLoop::run_once() {
  drop_cancelled_timers();

  std::int64_t timeout;
  if (ready_head_ != nullptr || stopping_) {
    timeout = 0;
  } else if (!timers_.empty()) {
    timeout = std::max<std::int64_t>(0, timers_.front().when - now_ns());
  } else {
    timeout = -1;
  }

  if (clock_->is_virtual() && timeout != 0) {
    // Virtual time: see whether anything real is ready; if not, jump to the next
    // timer instead of waiting for it. With no timer, wait for real events.
    int n = poll_io(0);
    if (n == 0 && ready_head_ == nullptr && !inbox_nonempty_.load(std::memory_order_acquire)) {
      const bool shares_time = detail::process_clock_is_virtual() && clock_ == process_clock();
      const bool calls_out = executor_jobs_ > threadsafe_coros_.load(std::memory_order_acquire);
      if (timeout > 0 && !calls_out && !(shares_time && detail::virtual_sleepers())) {
        clock_->advance_to(timers_.front().when);
      } else if (shares_time) {
        // Threads sleep on this clock too: time moves when all of them are idle.
        detail::VirtualParking parking;
        parking.deadline = timeout > 0 ? timers_.front().when : detail::VirtualParking::never;
        parking.ctx = this;
        parking.wake = [](void* loop) noexcept { static_cast<EventLoop*>(loop)->backend_->wakeup(); };
        parking.busy = [](void* loop) noexcept {
          return static_cast<EventLoop*>(loop)->inbox_nonempty_.load(std::memory_order_acquire);
        };
        if (!detail::park_loop(parking)) {
          poll_io(-1);
          detail::unpark_loop(parking);
        }
      } else {
        poll_io(-1);
      }
    }
  } else if (timeout != 0 || backend_->watched() > 0) {
    poll_io(timeout);
  }
  // else: work is ready and no fd is watched: nothing to poll for. Calls from other
  // threads and signals are seen through their flags below, without a system call.

  if (interrupted_.exchange(false, std::memory_order_acq_rel) && on_interrupt_) call_soon(on_interrupt_);
  drain_threadsafe();
  if (!timers_.empty()) pop_due_timers(now_ns());

  // Run exactly what was ready when the iteration began; what it schedules goes to
  // the next iteration. Due timers come after, in deadline order.
  detail::LoopItem* item = ready_head_;
  ready_head_ = ready_tail_ = nullptr;
  while (item != nullptr) {
    detail::LoopItem* next = item->next_ready_;
    run_item(item);
    item = next;
  }
  for (std::size_t i = 0; i < due_.size(); ++i) {
    const detail::TimerEntry e = due_[i];
    if (debug_) {
      const double t0 = detail::real_seconds();
      e.target->on_timer(e.seq);
      const double dt = detail::real_seconds() - t0;
      if (dt >= slow_callback_duration) report_slow(e.target->repr(), dt);
    } else {
      e.target->on_timer(e.seq);
    }
    e.target->release();
  }
  due_.clear();
}

void EventLoop::run_item(detail::LoopItem* item) {
  if (!debug_) {
    item->run();
    return;
  }
  item->add_ref();
  const double t0 = detail::real_seconds();
  item->run();
  const double dt = detail::real_seconds() - t0;
  if (dt >= slow_callback_duration) report_slow(item->repr(), dt);
  item->release();
}

void EventLoop::report_slow(const std::string& what, double seconds) {
  char buf[64];
  std::snprintf(buf, sizeof buf, " took %.3f seconds", seconds);
  detail::write_stderr("Executing " + what + buf);
}

std::string EventLoop::repr() const {
  auto py = [](bool b) { return b ? "True" : "False"; };
  return std::string("<EventLoop running=") + py(running_) + " closed=" + py(closed_) + " debug=" + py(debug_) + ">";
}

// --- async generators

void EventLoop::track_asyncgen(detail::AsyncGenLink* g) noexcept {
  g->tracked_by_ = this;
  g->prev_gen_ = nullptr;
  g->next_gen_ = asyncgens_;
  if (asyncgens_ != nullptr) asyncgens_->prev_gen_ = g;
  asyncgens_ = g;
}

void EventLoop::untrack_asyncgen(detail::AsyncGenLink* g) noexcept {
  EventLoop* loop = g->tracked_by_;
  if (loop == nullptr) return;
  (g->prev_gen_ ? g->prev_gen_->next_gen_ : loop->asyncgens_) = g->next_gen_;
  if (g->next_gen_ != nullptr) g->next_gen_->prev_gen_ = g->prev_gen_;
  g->prev_gen_ = g->next_gen_ = nullptr;
  g->tracked_by_ = nullptr;
}

// --- closing

void EventLoop::close() {
  if (running_) throw RuntimeError("Cannot close a running event loop");
  if (closed_) return;
  {
    std::lock_guard lock(inbox_mu_);
    closed_ = true;
  }
  // The ready queue first: a task in it may be freed once abandoned below. An item's
  // discard() may queue more (a connection that closes wakes its server's waiters):
  // those are discarded in turn.
  while (ready_head_ != nullptr) {
    detail::LoopItem* item = std::exchange(ready_head_, nullptr);
    ready_tail_ = nullptr;
    while (item != nullptr) {
      detail::LoopItem* next = item->next_ready_;
      item->discard();
      item = next;
    }
  }
  // asyncio's close() calls shutdown(wait=False); the executor's destructor then
  // joins its threads, as Python joins them at exit (docs/asyncio-to-aio.md).
  if (auto executor = std::exchange(default_executor_, nullptr)) executor->shutdown(false);
  // Generators outlive the loop's knowledge of them.
  while (asyncgens_ != nullptr) untrack_asyncgen(asyncgens_);
  // Then pending tasks, while timers and watchers still exist: destroying a suspended
  // frame runs its awaiters' destructors, which may touch them.
  while (tasks_head_ != nullptr) {
    detail::LoopItem* t = tasks_head_;
    ExceptionContext ctx;
    ctx.message = "Task was destroyed but it is pending!";
    ctx.task = t->repr();
    call_exception_handler(ctx);
    t->abandon();
  }
  // Signal handlers and child watchers go while their descriptors are still watched.
  if (unix_events_) unix_events_->close();
  for (std::vector<detail::TimerEntry>* heap : {&timers_, &due_}) {
    for (const detail::TimerEntry& e : *heap) {
      e.target->timer_dropped();
      e.target->release();
    }
    heap->clear();
  }
  for (std::size_t fd = 0; fd < watches_.size(); ++fd) {
    for (detail::IoWaiter*& x : watches_[fd].io) {
      if (x != nullptr) std::exchange(x, nullptr)->on_io_abandoned();
    }
  }
  for (std::size_t fd = 0; fd < watches_.size(); ++fd) {
    for (detail::HandleBase* h : {watches_[fd].reader, watches_[fd].writer}) {
      if (h != nullptr) {
        h->cancel();
        h->release();
      }
    }
  }
  watches_.clear();
  std::vector<detail::HandleBase*> inbox;
  {
    std::lock_guard lock(inbox_mu_);
    inbox.swap(inbox_);
  }
  for (detail::HandleBase* h : inbox) h->discard();
  on_interrupt_ = nullptr;
}

// --- other threads

void EventLoop::push_threadsafe(detail::HandleBase* h) {
  if (!try_push_threadsafe(h)) {
    h->release();
    h->release();
    throw RuntimeError("Event loop is closed");
  }
}

bool EventLoop::try_push_threadsafe(detail::HandleBase* h) {
  std::lock_guard lock(inbox_mu_);
  if (closed_) return false;
  inbox_.push_back(h);
  if (!inbox_nonempty_.exchange(true, std::memory_order_acq_rel)) backend_->wakeup();
  return true;
}

bool EventLoop::post_if_alive(EventLoop* loop, detail::HandleBase* h) noexcept {
  // Lock order: the registry of live loops, then the loop's inbox. The destructor
  // unregisters under the first lock, so a registered loop cannot go away here.
  {
    std::lock_guard alive(detail::g_loops_mu);
    if (detail::live_loops().count(loop) != 0 && loop->try_push_threadsafe(h)) return true;
  }
  h->release();  // outside the locks: what it frees may check whether its loop lives
  return false;
}

void EventLoop::drain_threadsafe() {
  if (!inbox_nonempty_.load(std::memory_order_acquire)) return;
  std::vector<detail::HandleBase*> items;
  {
    std::lock_guard lock(inbox_mu_);
    items.swap(inbox_);
    inbox_nonempty_.store(false, std::memory_order_release);
  }
  for (detail::HandleBase* h : items) push_ready(h);
}

void EventLoop::interrupt_from_signal() noexcept {
  interrupted_.store(true, std::memory_order_release);
  backend_->wakeup();
}

// --- file descriptors

void EventLoop::set_watcher(int fd, bool write, detail::HandleBase* h) {
  if (fd < 0) {
    h->release();
    throw ValueError("Invalid file descriptor: " + std::to_string(fd));
  }
  const auto index = static_cast<std::size_t>(fd);
  const FdWatch current = index < watches_.size() ? watches_[index] : FdWatch{};
  try {
    // The kernel first: a bad fd fails here, before anything changed.
    backend_->watch(fd, !write || current.reader != nullptr, write || current.writer != nullptr);
  } catch (...) {
    h->release();
    throw;
  }
  if (index >= watches_.size()) watches_.resize(index + 1);
  detail::HandleBase*& slot = write ? watches_[index].writer : watches_[index].reader;
  if (detail::HandleBase* old = std::exchange(slot, h)) {
    old->cancel();
    old->release();
  }
}

bool EventLoop::clear_watcher(int fd, bool write) {
  if (fd < 0 || static_cast<std::size_t>(fd) >= watches_.size()) return false;
  detail::HandleBase*& slot = write ? watches_[static_cast<std::size_t>(fd)].writer
                                    : watches_[static_cast<std::size_t>(fd)].reader;
  if (slot == nullptr) return false;
  detail::HandleBase* old = std::exchange(slot, nullptr);
  old->cancel();
  old->release();
  if (!closed_) update_interest(fd);
  return true;
}

void EventLoop::update_interest(int fd) {
  const FdWatch& w = watches_[static_cast<std::size_t>(fd)];
  backend_->watch(fd, w.reader != nullptr, w.writer != nullptr);
}

void EventLoop::attach_io(int fd, bool watch) {
  check_closed();
  if (fd < 0) throw ValueError("Invalid file descriptor: " + std::to_string(fd));
  const auto index = static_cast<std::size_t>(fd);
  if (index < watches_.size() && (watches_[index].reader != nullptr || watches_[index].writer != nullptr)) {
    throw RuntimeError("File descriptor " + std::to_string(fd) + " is used by add_reader/add_writer");
  }
  if (watch) backend_->attach(fd);  // detach_io's backend_->detach is a no-op without it
  if (index >= watches_.size()) watches_.resize(index + 1);
  FdWatch& w = watches_[index];
  w.attached = true;
  w.ready[0] = w.ready[1] = true;  // nothing known yet: try the call first
  w.io[0] = w.io[1] = nullptr;
}

void EventLoop::detach_io(int fd) noexcept {
  if (!is_attached(fd)) return;
  FdWatch& w = watches_[static_cast<std::size_t>(fd)];
  detail::IoWaiter* waiting[2] = {w.io[0], w.io[1]};
  w = FdWatch{};
  if (closed_) return;
  backend_->detach(fd);
  // Whoever waited on it wakes and finds it closed.
  for (detail::IoWaiter* x : waiting) {
    if (x != nullptr) x->on_io_ready();
  }
}

int EventLoop::poll_io(std::int64_t timeout_ns) {
  const int n = backend_->poll(timeout_ns, io_events_);
  for (const detail::IoEvent& ev : io_events_) on_fd_event(ev);
  return n;
}

void EventLoop::on_fd_event(const detail::IoEvent& ev) {
  const auto fd = static_cast<std::size_t>(ev.fd);
  if (fd >= watches_.size()) return;
  FdWatch& w = watches_[fd];
  if (w.attached) {
    if (ev.hangup) w.hangup = true;
    if (ev.readable) {
      w.ready[0] = true;
      if (detail::IoWaiter* x = std::exchange(w.io[0], nullptr)) x->on_io_ready();
    }
    // The read waiter may have detached the fd, or attached another one and so moved
    // the table: look the watch up again.
    FdWatch& again = watches_[fd];
    if (ev.writable && again.attached) {
      again.ready[1] = true;
      if (detail::IoWaiter* x = std::exchange(again.io[1], nullptr)) x->on_io_ready();
    }
    return;
  }
  if (ev.readable && w.reader != nullptr && !w.reader->cancelled()) {
    w.reader->add_ref();  // the ready queue's reference, dropped by run()
    push_ready(w.reader);
  }
  if (ev.writable && w.writer != nullptr && !w.writer->cancelled()) {
    w.writer->add_ref();
    push_ready(w.writer);
  }
}

// --- errors

void EventLoop::default_exception_handler(const ExceptionContext& context) {
  std::string text = context.message.empty() ? "Unhandled exception in event loop" : context.message;
  // Appends, not "literal" + string: g++ 12 -O3 misreports those (-Wrestrict, PR105651).
  const auto add = [&text](const char* label, const std::string& value) {
    if (value.empty()) return;
    text += label;
    text += value;
  };
  add("\nfuture: ", context.future);
  add("\nhandle: ", context.handle);
  add("\ntask: ", context.task);
  if (context.exception) add("\n", exception_str(context.exception));
  detail::write_stderr(text);
}

void EventLoop::call_exception_handler(const ExceptionContext& context) noexcept {
  try {
    if (exception_handler_) {
      try {
        exception_handler_(*this, context);
        return;
      } catch (...) {
        ExceptionContext failed;
        failed.message = "Unhandled error in exception handler";
        failed.exception = std::current_exception();
        default_exception_handler(failed);
      }
    }
    default_exception_handler(context);
  } catch (...) {
    detail::write_stderr("aio: exception handler failed while reporting: " + context.message);
  }
}

// --- the thread's loops

EventLoop& get_running_loop() {
  EventLoop* loop = detail::tls_state.running_loop;
  if (loop == nullptr) throw RuntimeError("no running event loop");
  return *loop;
}

namespace {
thread_local std::shared_ptr<EventLoop> tls_current_loop;
}

std::shared_ptr<EventLoop> new_event_loop(LoopOptions options) { return std::make_shared<EventLoop>(std::move(options)); }

EventLoop& get_event_loop() {
  if (EventLoop* loop = detail::tls_state.running_loop) return *loop;
  if (!tls_current_loop) tls_current_loop = new_event_loop();
  return *tls_current_loop;
}

void set_event_loop(std::shared_ptr<EventLoop> loop) { tls_current_loop = std::move(loop); }

}  // namespace aio
