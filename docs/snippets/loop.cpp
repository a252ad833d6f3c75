// Guide, "The event loop": callbacks, timers, and driving the loop by hand
// (seeds a2.3, s1.speak, f.loop).
// test: env AIO_CLOCK=virtual
// test: stdout no running event loop
// test: stdout soon: 1
// test: stdout soon: 2
// test: stdout later, at 0.5
// test: stdout speak, at 0.5
// test: stdout spoke
#include <cstdio>

#include <aio/aio.hpp>

// [snippet]
void report(const char* what, int n) { std::printf("%s: %d\n", what, n); }

aio::Coro<> speak() {
  aio::EventLoop& loop = aio::get_running_loop();
  loop.call_soon(report, "soon", 1);         // loop.call_soon(report, "soon", 1)
  loop.call_soon(report, "soon", 2);
  loop.call_later(0.5, [&loop] { std::printf("later, at %.1f\n", loop.time()); });
  co_await aio::sleep(0.5);
  std::printf("speak, at %.1f\n", loop.time());
}

int main() {
  try {
    aio::get_running_loop();                 // outside a loop: RuntimeError
  } catch (const aio::RuntimeError& e) {
    std::puts(e.what());
  }
  std::shared_ptr<aio::EventLoop> loop = aio::new_event_loop();
  loop->run_until_complete(speak());         // loop.run_until_complete(speak())
  loop->close();                             // loop.close()
  std::puts("spoke");
}
// [/snippet]
