// The g++ 12 bug of docs/pitfalls.md: a struct that owns memory, built with braces
// inside a co_await expression, is destroyed twice. Under g++ 12 this program frees
// the url twice (glibc aborts with "free(): double free detected"); under clang it
// prints one line. The test docs.pitfall_aggregate_gcc12 runs it with g++ builds.
#include <cstdio>
#include <string>

#include <aio/aio.hpp>

struct Request {
  std::string url;
  int retries;
};

aio::Coro<> fetch(Request request) {
  co_await aio::sleep(0);
  std::printf("fetching %s (%d tries)\n", request.url.c_str(), request.retries);
}

aio::Coro<> main_() {
  const std::string url = "https://example.org/a/path/long/enough/to/be/on/the/heap";
  co_await fetch(Request{url, 3});
}

int main() { aio::run(main_()); }
