// Seed a3.x (000_77fea42500069c72.txt, lines 180-242): the type of a plain function
// and of its result, then of an async function and of what calling it returns: a
// coroutine object, which does nothing until awaited. Python prints
// <class 'function'> / <class 'NoneType'> and <class 'function'> / <class 'coroutine'>;
// the port prints the C++ types.
#include <cxxabi.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <typeinfo>

#include "aio/aio.hpp"

template <class T>
void print_type() {
  int status = 0;
  char* name = abi::__cxa_demangle(typeid(T).name(), nullptr, nullptr, &status);
  std::printf("<class '%s'>\n", status == 0 ? name : typeid(T).name());
  std::free(name);
}

namespace blocking {  // Example 3.1
void fun1(int x) {
  std::printf("%d\n", x * x);
  aio::time::sleep(3);
  std::printf("fun1 завершена\n");
}
}  // namespace blocking

namespace async {  // Example 3.2
aio::Coro<> fun1(int x) {
  std::printf("%d\n", x * x);
  co_await aio::sleep(3);
  std::printf("fun1 завершена\n");
}
}  // namespace async

int main() {
  print_type<decltype(&blocking::fun1)>();
  blocking::fun1(4);  // type(fun1(4)) calls it first: 16, 3 s, "fun1 завершена"
  print_type<decltype(blocking::fun1(4))>();
  print_type<decltype(&async::fun1)>();
  {
    aio::Coro<> coro = async::fun1(4);  // builds the coroutine; nothing runs
    print_type<decltype(coro)>();
  }  // never awaited: reported on stderr, as Python reports it
}
