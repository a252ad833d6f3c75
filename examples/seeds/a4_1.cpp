// Seed a4.1 (000_77fea42500069c72.txt, lines 256-286): a task's type and its base:
// a Task is a Future. Python prints <class '_asyncio.Task'> and
// (<class '_asyncio.Future'>,); the port prints the C++ types.
#include <cxxabi.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <type_traits>
#include <typeinfo>

#include "aio/aio.hpp"

template <class T>
const char* type_name() {
  int status = 0;
  static char* name = abi::__cxa_demangle(typeid(T).name(), nullptr, nullptr, &status);
  return name;
}

aio::Coro<> fun1(int x) {
  std::printf("%d\n", x * x);
  co_await aio::sleep(3);
  std::printf("fun1 завершена\n");
}

aio::Coro<> fun2(int x) {
  std::printf("%.1f\n", std::sqrt(x));
  co_await aio::sleep(3);
  std::printf("fun2 завершена\n");
}

aio::Coro<> main_() {
  auto task1 = aio::create_task(fun1(4));
  auto task2 = aio::create_task(fun2(4));
  using TaskType = decltype(task1);
  std::printf("<class '%s'>\n", type_name<TaskType>());
  static_assert(std::is_base_of_v<aio::Future<>, TaskType>, "a Task is a Future");
  std::printf("(<class '%s'>,)\n", type_name<aio::Future<>>());
  co_await task1;
  co_await task2;
}

int main() { aio::run(main_()); }
