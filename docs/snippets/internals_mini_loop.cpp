// docs/internals.md: a toy event loop in plain C++20 (no aio): a lazy coroutine type
// with symmetric transfer, a ready queue of callbacks, a timer heap on virtual time,
// a future whose callbacks are scheduled, never called inline, and tasks.
// test: stdout 1.0 A 1
// test: stdout 1.5 B 1
// test: stdout 2.0 A 2
// test: stdout 2.5 main got 42
// test: stdout 3.0 B 2
// test: stdout 3.0 A 3
// test: stdout 3.5 main 1
// test: stdout 3.5 main done
// test: stderr-empty
#include <algorithm>
#include <coroutine>
#include <cstdio>
#include <deque>
#include <exception>
#include <functional>
#include <queue>
#include <utility>
#include <vector>

namespace toy {

// [snippet coro]
// A lazy coroutine: calling it runs nothing; `co_await` runs it inline and, when it
// ends, hands control straight back to the awaiting coroutine (symmetric transfer).
struct Coro {
  struct promise_type {
    std::coroutine_handle<> continuation;  // who awaits us; null for a task's root
    Coro get_return_object() { return Coro(std::coroutine_handle<promise_type>::from_promise(*this)); }
    std::suspend_always initial_suspend() noexcept { return {}; }  // lazy
    struct FinalAwaiter {
      bool await_ready() noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> h) noexcept {
        std::coroutine_handle<> next = h.promise().continuation;
        return next ? next : std::noop_coroutine();  // back to the awaiter, or to the loop
      }
      void await_resume() noexcept {}
    };
    FinalAwaiter final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }
  };

  explicit Coro(std::coroutine_handle<promise_type> h) : h_(h) {}
  Coro(Coro&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  ~Coro() {
    if (h_) h_.destroy();
  }

  // The awaiter protocol: never ready; on suspension, remember the caller and
  // resume the child in its place (no stack frame is added).
  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) noexcept {
    h_.promise().continuation = caller;
    return h_;
  }
  void await_resume() const noexcept {}

  std::coroutine_handle<promise_type> h_;
};
// [/snippet]

// [snippet loop]
class Loop {
 public:
  double time() const { return now_; }
  void call_soon(std::function<void()> fn) { ready_.push_back(std::move(fn)); }
  void call_later(double delay, std::function<void()> fn) { timers_.push({now_ + delay, seq_++, std::move(fn)}); }
  // A task: the loop owns the coroutine; its first step is a callback, every later
  // step is scheduled by whatever it awaits.
  void create_task(Coro coro) {
    std::coroutine_handle<> h = coro.h_;
    tasks_.push_back(std::move(coro));
    call_soon([h] { h.resume(); });
  }
  void run() {
    while (!ready_.empty() || !timers_.empty()) {
      // Nothing to run: a real loop blocks in epoll_wait until the next timer;
      // on virtual time we jump there.
      if (ready_.empty()) now_ = std::max(now_, timers_.top().when);
      while (!timers_.empty() && timers_.top().when <= now_) {
        ready_.push_back(timers_.top().fn);
        timers_.pop();
      }
      // Run exactly what is ready now; what it schedules runs on the next turn.
      std::deque<std::function<void()>> batch;
      batch.swap(ready_);
      for (std::function<void()>& fn : batch) fn();
    }
  }

 private:
  struct Timer {
    double when;
    unsigned long seq;  // ties fire in the order they were scheduled
    std::function<void()> fn;
    bool operator>(const Timer& o) const { return when != o.when ? when > o.when : seq > o.seq; }
  };
  std::deque<std::function<void()>> ready_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;  // a min-heap
  std::vector<Coro> tasks_;
  double now_ = 0;
  unsigned long seq_ = 0;
};

Loop loop;
// [/snippet]

// [snippet awaitables]
// `co_await sleep(d)`: a timer resumes the coroutine that suspended.
struct Sleep {
  double delay;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) const { loop.call_later(delay, [h] { h.resume(); }); }
  void await_resume() const noexcept {}
};
Sleep sleep(double delay) { return Sleep{delay}; }

// A future: a result and the callbacks waiting for it, scheduled when it is set.
struct Future {
  bool done = false;
  int result = 0;
  std::vector<std::function<void()>> callbacks;
  void set_result(int v) {
    done = true;
    result = v;
    for (std::function<void()>& cb : callbacks) loop.call_soon(std::move(cb));
    callbacks.clear();
  }
  bool await_ready() const noexcept { return done; }
  void await_suspend(std::coroutine_handle<> h) { callbacks.push_back([h] { h.resume(); }); }
  int await_resume() const noexcept { return result; }
};
// [/snippet]

}  // namespace toy

// [snippet main]
using toy::loop;

toy::Coro worker(const char* name, int n, double delay) {
  for (int i = 1; i <= n; ++i) {
    co_await toy::sleep(delay);
    std::printf("%.1f %s %d\n", loop.time(), name, i);
  }
}

toy::Coro main_() {
  loop.create_task(worker("A", 3, 1.0));  // two tasks, running concurrently
  loop.create_task(worker("B", 2, 1.5));
  toy::Future answer;
  loop.call_later(2.5, [&answer] { answer.set_result(42); });
  const int v = co_await answer;          // suspended until the callback runs
  std::printf("%.1f main got %d\n", loop.time(), v);
  co_await worker("main", 1, 1.0);        // awaited: runs inline, in main_'s task
  std::printf("%.1f main done\n", loop.time());
}

int main() {
  loop.create_task(main_());
  loop.run();
}
// [/snippet]
