// Guide, "Futures": one coroutine awaits a Future that another resolves (seed s2.future).
// test: env AIO_CLOCK=virtual
// test: stdout foo will await the future
// test: stdout bar will sleep for 3 seconds
// test: stdout bar resolving the future
// test: stdout foo got: future is resolved
// test: stdout at 3.0 s
#include <cstdio>
#include <string>

#include <aio/aio.hpp>

// [snippet]
aio::Coro<> bar(aio::Future<std::string> future) {
  std::puts("bar will sleep for 3 seconds");
  co_await aio::sleep(3);
  std::puts("bar resolving the future");
  future.set_result("future is resolved");
}

aio::Coro<> foo(aio::Future<std::string> future) {
  std::puts("foo will await the future");
  std::string value = co_await future;
  std::printf("foo got: %s\n", value.c_str());
}

aio::Coro<> main_() {
  aio::Future<std::string> future = aio::get_running_loop().create_future<std::string>();
  co_await aio::gather(foo(future), bar(future));
  std::printf("at %.1f s\n", aio::get_running_loop().time());
}
// [/snippet]

int main() { aio::run(main_()); }
