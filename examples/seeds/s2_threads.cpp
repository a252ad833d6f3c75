// Seed s2.threads (002_9eae5cc975999e1e.txt, lines 195-225): one event loop per
// thread. Two threads each make a loop (new_event_loop, set_event_loop) and run a
// coroutine on it; the main thread's loop is not running. Python names threads
// MainThread, Thread-1, Thread-2; so does this port.
#include <cstdio>
#include <string>
#include <thread>

#include "aio/aio.hpp"
#include "py_random.hpp"

thread_local std::string thread_name = "MainThread";

aio::Coro<> do_something_important(int sleep_for) {
  std::printf("Is event loop running in thread %s = %s\n\n", thread_name.c_str(),
              aio::get_event_loop().is_running() ? "True" : "False");
  co_await aio::sleep(sleep_for);
}

void launch_event_loops(std::string name, int sleep_for) {
  thread_name = std::move(name);
  // get a new event loop and set it for the current thread
  auto loop = aio::new_event_loop();
  aio::set_event_loop(loop);
  // run a coroutine on the event loop
  loop->run_until_complete(do_something_important(sleep_for));
  // remember to close the loop
  loop->close();
  aio::set_event_loop(nullptr);
}

int main() {
  PyRandom random_;
  std::thread t1(launch_event_loops, "Thread-1", random_.randint(1, 5));
  std::thread t2(launch_event_loops, "Thread-2", random_.randint(1, 5));
  std::printf("Is event loop running in thread %s = %s\n\n", thread_name.c_str(),
              aio::get_event_loop().is_running() ? "True" : "False");
  t1.join();
  t2.join();
}
