// Generator<T>: a synchronous generator, as Python's `def` with `yield`.
#include <stdexcept>
#include <string>
#include <vector>

#include "support/aio_test.hpp"

namespace aio {
namespace {

Generator<int> count(int n, std::vector<std::string>* log = nullptr) {
  if (log) log->push_back("started");
  for (int i = 0; i < n; ++i) co_yield i;
  if (log) log->push_back("finished");
}

TEST(Generator, YieldsInOrderThenStopIteration) {
  Generator<int> g = count(3);
  EXPECT_EQ(g.next(), 0);
  EXPECT_EQ(next(g), 1);
  EXPECT_EQ(g.next(), 2);
  EXPECT_THROW(g.next(), StopIteration);
  EXPECT_TRUE(g.done());
  EXPECT_THROW(g.next(), StopIteration);  // stays exhausted
}

TEST(Generator, IsLazyUntilTheFirstNext) {
  std::vector<std::string> log;
  Generator<int> g = count(1, &log);
  EXPECT_TRUE(log.empty());
  EXPECT_EQ(g.next(), 0);
  EXPECT_EQ(log, (std::vector<std::string>{"started"}));
  EXPECT_THROW(g.next(), StopIteration);
  EXPECT_EQ(log, (std::vector<std::string>{"started", "finished"}));
}

TEST(Generator, RangeFor) {
  std::vector<int> seen;
  for (int v : count(5)) seen.push_back(v);
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 3, 4}));
  for (int v : count(0)) seen.push_back(v);  // empty
  EXPECT_EQ(seen.size(), 5u);
}

Generator<std::string> failing() {
  co_yield "one";
  throw std::runtime_error("inside the generator");
}

TEST(Generator, AnExceptionInTheBodyComesOutOfNext) {
  Generator<std::string> g = failing();
  EXPECT_EQ(g.next(), "one");
  EXPECT_THROW(g.next(), std::runtime_error);
  EXPECT_THROW(g.next(), StopIteration);
}

Generator<> worker(std::string name, int steps, std::vector<std::string>* log) {
  for (int i = 0; i < steps; ++i) {
    log->push_back(name + std::to_string(i));
    co_yield None{};  // a bare `yield`
  }
}

TEST(Generator, ARoundRobinSchedulerInterleavesWorkers) {
  std::vector<std::string> log;
  std::vector<Generator<>> tasks;
  tasks.push_back(worker("A", 2, &log));
  tasks.push_back(worker("B", 3, &log));
  while (!tasks.empty()) {
    for (std::size_t i = 0; i < tasks.size();) {
      try {
        tasks[i].next();
        ++i;
      } catch (const StopIteration&) {
        tasks.erase(tasks.begin() + static_cast<std::ptrdiff_t>(i));
      }
    }
  }
  EXPECT_EQ(log, (std::vector<std::string>{"A0", "B0", "A1", "B1", "B2"}));
}

TEST(Generator, DestroyingASuspendedGeneratorRunsItsDestructors) {
  struct Guard {
    bool* flag;
    ~Guard() { *flag = true; }
  };
  bool destroyed = false;
  {
    auto gen = [](bool* flag) -> Generator<int> {
      Guard g{flag};
      co_yield 1;
      co_yield 2;
    };
    Generator<int> g = gen(&destroyed);
    EXPECT_EQ(g.next(), 1);
  }
  EXPECT_TRUE(destroyed);
}

}  // namespace
}  // namespace aio
