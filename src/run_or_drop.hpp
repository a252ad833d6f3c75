// detail::run_or_drop: a callback handed to the loop (call_soon, a future's
// done-callback) that must not simply vanish. The loop drops what is still queued
// when it closes; a callback that would have let a protocol go (connection_lost)
// leaves a cycle behind then. Wrapped, `on_drop` runs instead, once, when the last
// copy of a callback that never ran is destroyed.
#pragma once

#include <memory>
#include <utility>

namespace aio::detail {

template <class Run, class OnDrop>
auto run_or_drop(Run run, OnDrop on_drop) {
  struct State {
    State(Run r, OnDrop d) : run(std::move(r)), on_drop(std::move(d)) {}
    State(const State&) = delete;
    State& operator=(const State&) = delete;
    ~State() {
      if (!ran) on_drop();
    }
    Run run;
    OnDrop on_drop;
    bool ran = false;
  };
  auto state = std::make_shared<State>(std::move(run), std::move(on_drop));
  return [state](auto&&... args) {
    state->ran = true;
    state->run(std::forward<decltype(args)>(args)...);
  };
}

}  // namespace aio::detail
