// aio::run and Runner: the loop's life around a main coroutine, and SIGINT.
#include "aio/runners.hpp"

#include "aio/asyncgen.hpp"
#include "aio/threads.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <exception>
#include <mutex>

#include "aio/gather.hpp"
#include "format.hpp"

namespace aio {
namespace {

std::atomic<EventLoop*> g_sigint_loop{nullptr};
std::atomic<int> g_sigint_count{0};
struct sigaction g_prev_sigint;

extern "C" void on_sigint(int) {
  const int n = g_sigint_count.fetch_add(1) + 1;
  EventLoop* loop = g_sigint_loop.load();
  if (n > 1 || loop == nullptr) {
    // A second SIGINT ends the process at once, as Python's KeyboardInterrupt would.
    ::signal(SIGINT, SIG_DFL);
    ::raise(SIGINT);
    return;
  }
  loop->interrupt_from_signal();
}

std::terminate_handler g_prev_terminate = nullptr;

[[noreturn]] void on_terminate() {
  if (std::exception_ptr e = std::current_exception()) {
    try {
      std::rethrow_exception(e);
    } catch (const KeyboardInterrupt&) {
      // An uncaught KeyboardInterrupt ends the process by SIGINT, as in Python.
      detail::write_stderr("KeyboardInterrupt");
      ::signal(SIGINT, SIG_DFL);
      ::raise(SIGINT);
      std::_Exit(130);
    } catch (...) {
    }
  }
  if (g_prev_terminate) g_prev_terminate();
  std::abort();
}

bool in_main_thread() { return ::getpid() == static_cast<pid_t>(::syscall(SYS_gettid)); }

void cancel_all_tasks(EventLoop& loop) {
  std::vector<Task<>> to_cancel;
  for (auto* t = detail::TaskStateBase::from_item(loop.first_pending_task()); t != nullptr; t = t->next_task_) {
    t->add_ref();
    to_cancel.emplace_back(t);
  }
  if (to_cancel.empty()) return;
  for (const Task<>& t : to_cancel) t.cancel();
  loop.run_until_complete(gather(return_exceptions, to_cancel));
  for (const Task<>& t : to_cancel) {
    if (t.cancelled()) continue;
    if (std::exception_ptr e = t.exception()) {
      ExceptionContext ctx;
      ctx.message = "unhandled exception during aio::run() shutdown";
      ctx.exception = e;
      ctx.task = t.repr();
      loop.call_exception_handler(ctx);
    }
  }
}

}  // namespace

Runner::~Runner() {
  try {
    close();
  } catch (...) {
    detail::write_stderr("aio: Runner::close() failed in the destructor");
  }
}

void Runner::check_runnable() {
  if (_get_running_loop() != nullptr) throw RuntimeError("Runner.run() cannot be called from a running event loop");
  if (closed_) throw RuntimeError("Runner is closed");
  get_loop();
}

EventLoop& Runner::get_loop() {
  if (closed_) throw RuntimeError("Runner is closed");
  if (!loop_) {
    static std::once_flag once;
    std::call_once(once, [] { g_prev_terminate = std::set_terminate(on_terminate); });
    loop_ = new_event_loop(options_);
    set_event_loop(loop_);
  }
  return *loop_;
}

void Runner::close() {
  if (closed_) return;
  closed_ = true;
  if (!loop_) return;
  struct Finally {
    Runner* r;
    ~Finally() {
      set_event_loop(nullptr);
      r->loop_->close();
      r->loop_.reset();
    }
  } finally{this};
  cancel_all_tasks(*loop_);
  loop_->run_until_complete(loop_->shutdown_asyncgens());
  loop_->run_until_complete(loop_->shutdown_default_executor());
}

Runner::SigintScope::SigintScope(Runner& runner, Task<> main_task) : loop_(runner.loop_.get()) {
  g_sigint_count.store(0);
  if (!in_main_thread()) return;
  struct sigaction current {};
  if (::sigaction(SIGINT, nullptr, &current) != 0 || current.sa_handler != SIG_DFL) return;
  loop_->set_interrupt_callback([main_task] {
    if (!main_task.done()) main_task.cancel();
  });
  g_sigint_loop.store(loop_);
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  installed_ = ::sigaction(SIGINT, &sa, &g_prev_sigint) == 0;
}

Runner::SigintScope::~SigintScope() {
  if (!installed_) return;
  ::sigaction(SIGINT, &g_prev_sigint, nullptr);
  g_sigint_loop.store(nullptr);
  loop_->set_interrupt_callback(nullptr);
}

bool Runner::SigintScope::interrupted() const noexcept { return installed_ && g_sigint_count.load() > 0; }

}  // namespace aio
