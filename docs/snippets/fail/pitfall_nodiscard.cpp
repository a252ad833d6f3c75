// Must not compile with warnings as errors: a coroutine called as a statement is a
// discarded [[nodiscard]] Coro (docs/pitfalls.md; the test docs.pitfall_nodiscard).
#include <aio/aio.hpp>

aio::Coro<> save() { co_return; }

aio::Coro<> main_() {
  save();  // forgot co_await
  co_return;
}

int main() { aio::run(main_()); }
