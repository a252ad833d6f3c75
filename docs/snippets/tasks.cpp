// Guide, "Tasks": create_task runs coroutines concurrently (seed a2.2, f.tasks).
// test: env AIO_CLOCK=virtual
// test: stdout 16
// test: stdout 2.0
// test: stdout fun1 done
// test: stdout fun2 done
// test: stdout took 3.0 s
// test: stdout Task-2 done=True result=16
#include <cmath>
#include <cstdio>

#include <aio/aio.hpp>

// [snippet]
aio::Coro<int> fun1(int x) {
  std::printf("%d\n", x * x);
  co_await aio::sleep(3);
  std::puts("fun1 done");
  co_return x * x;
}

aio::Coro<> fun2(int x) {
  std::printf("%.1f\n", std::sqrt(x));
  co_await aio::sleep(3);
  std::puts("fun2 done");
}

aio::Coro<> main_() {
  const double start = aio::time::perf_counter();
  aio::Task<int> t1 = aio::create_task(fun1(4));
  aio::Task<> t2 = aio::create_task(fun2(4));
  co_await t1;
  co_await t2;
  std::printf("took %.1f s\n", aio::time::perf_counter() - start);
  std::printf("%s done=%s result=%d\n", t1.get_name().c_str(), t1.done() ? "True" : "False", t1.result());
}
// [/snippet]

int main() { aio::run(main_()); }
