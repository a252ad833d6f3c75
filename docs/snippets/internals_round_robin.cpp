// docs/internals.md, "A scheduler made of generators": seed c.ex2's idea (workers that
// yield after every step, a loop that resumes each in turn), with a queue for the loop.
// test: stdout One step 1
// test: stdout Two step 1
// test: stdout One step 2
// test: stdout Two step 2
// test: stdout One step 3
// test: stdout Two done
// test: stdout One done
// test: stderr-empty
#include <cstdio>
#include <deque>
#include <string>

#include <aio/aio.hpp>

// [snippet]
aio::Generator<> worker(std::string name, int steps) {  // def worker(name, steps):
  for (int i = 1; i <= steps; ++i) {
    std::printf("%s step %d\n", name.c_str(), i);
    co_yield aio::None{};                               //     yield
  }
  std::printf("%s done\n", name.c_str());
}

int main() {
  std::deque<aio::Generator<>> ready;                   // the scheduler's ready queue
  ready.push_back(worker("One", 3));
  ready.push_back(worker("Two", 2));
  while (!ready.empty()) {
    aio::Generator<> g = std::move(ready.front());
    ready.pop_front();
    try {
      aio::next(g);                                     // run it up to its next yield
      ready.push_back(std::move(g));                    // then to the back of the line
    } catch (const aio::StopIteration&) {
      // it returned: drop it
    }
  }
}
// [/snippet]
