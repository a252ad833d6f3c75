// Seed a2.1 (000_77fea42500069c72.txt, lines 35-63): two functions with a blocking
// 3 s sleep each, called in turn: 6 s in all. No event loop involved.
#include <cmath>
#include <cstdio>

#include "aio/aio.hpp"

void fun1(int x) {
  std::printf("%d\n", x * x);
  aio::time::sleep(3);  // time.sleep(3): blocks the whole thread
  std::printf("fun1 завершена\n");
}

void fun2(int x) {
  std::printf("%.1f\n", std::sqrt(x));
  aio::time::sleep(3);
  std::printf("fun2 завершена\n");
}

void main_() {
  fun1(4);
  fun2(4);
}

int main() {
  std::printf("%s\n", aio::time::strftime("%X").c_str());
  main_();
  std::printf("%s\n", aio::time::strftime("%X").c_str());
}
