// Pitfalls, "g++ 12 and aggregates made inside co_await": name the struct, then await.
// test: env AIO_CLOCK=virtual
// test: stdout fetching https://example.org/a/path/long/enough/to/be/on/the/heap (3 tries)
// test: stdout fetching https://example.org/a/path/long/enough/to/be/on/the/heap (3 tries)
#include <cstdio>
#include <string>
#include <utility>

#include <aio/aio.hpp>

// [snippet]
struct Request {
  std::string url;
  int retries;
};

aio::Coro<> fetch(Request request) {
  co_await aio::sleep(0.1);
  std::printf("fetching %s (%d tries)\n", request.url.c_str(), request.retries);
}

aio::Coro<> main_() {
  const std::string url = "https://example.org/a/path/long/enough/to/be/on/the/heap";
  // co_await fetch(Request{url, 3});        // g++ 12: the Request is destroyed twice
  Request request{url, 3};                   // named first: one object, one destructor
  co_await fetch(std::move(request));

  aio::Coro<> call = fetch(Request{url, 3});  // or: make the coroutine first
  co_await std::move(call);
}
// [/snippet]

int main() { aio::run(main_()); }
