// Queue, LifoQueue, PriorityQueue: order, bounds, task_done/join, shutdown, and that
// no item is lost or duplicated when getters and putters are cancelled at any point.
#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "support/aio_test.hpp"

namespace aio {
namespace {

template <class Q>
Coro<std::vector<int>> drain(Q& q) {
  std::vector<int> out;
  while (!q.empty()) out.push_back(co_await q.get());
  co_return out;
}

TEST(Queue, TheThreeOrders) {
  auto main_ = []() -> Coro<> {
    Queue<int> fifo;
    LifoQueue<int> lifo;
    PriorityQueue<int> prio;
    for (int v : {3, 1, 2}) {
      co_await fifo.put(v);
      lifo.put_nowait(v);
      prio.put_nowait(v);
    }
    EXPECT_EQ(fifo.qsize(), 3u);
    // (g++ 12 cannot put a braced list and a co_await in one expression.)
    const std::vector<int> fifo_order{3, 1, 2}, lifo_order{2, 1, 3}, prio_order{1, 2, 3};
    EXPECT_EQ(co_await drain(fifo), fifo_order);
    EXPECT_EQ(co_await drain(lifo), lifo_order);
    EXPECT_EQ(co_await drain(prio), prio_order);
    PriorityQueue<std::pair<int, std::string>> jobs;
    jobs.put_nowait({2, "low"});
    jobs.put_nowait({0, "urgent"});
    jobs.put_nowait({1, "normal"});
    EXPECT_EQ(jobs.get_nowait().second, "urgent");
    EXPECT_EQ(jobs.get_nowait().second, "normal");
    PriorityQueue<int, std::greater<int>> largest_first;
    for (int v : {3, 1, 2}) largest_first.put_nowait(v);
    EXPECT_EQ(largest_first.get_nowait(), 3);
  };
  test::run_virtual(main_());
}

TEST(Queue, NowaitErrorsAndBounds) {
  Queue<int> q(2);
  EXPECT_EQ(q.maxsize(), 2u);
  EXPECT_TRUE(q.empty());
  EXPECT_THROW(q.get_nowait(), QueueEmpty);
  q.put_nowait(1);
  q.put_nowait(2);
  EXPECT_TRUE(q.full());
  EXPECT_THROW(q.put_nowait(3), QueueFull);
  EXPECT_EQ(q.get_nowait(), 1);
  EXPECT_FALSE(q.full());
  Queue<int> unbounded(0);
  for (int i = 0; i < 1000; ++i) unbounded.put_nowait(i);
  EXPECT_FALSE(unbounded.full());
}

TEST(Queue, PutWaitsWhileFullAndGetWaitsWhileEmpty) {
  auto main_ = []() -> Coro<> {
    Queue<int> q(1);
    std::vector<std::pair<double, int>> got;
    auto consumer = [&]() -> Coro<> {
      for (int i = 0; i < 3; ++i) {
        co_await sleep(1);
        got.emplace_back(get_running_loop().time(), co_await q.get());
      }
    };
    auto producer = [&]() -> Coro<> {
      for (int i = 0; i < 3; ++i) co_await q.put(i);
      co_return;
    };
    co_await gather(consumer(), producer());
    EXPECT_EQ(got, (std::vector<std::pair<double, int>>{{1, 0}, {2, 1}, {3, 2}}));
    Queue<int> empty;
    auto late = [&]() -> Coro<> {
      co_await sleep(5);
      empty.put_nowait(42);
    };
    Task<> t = create_task(late());
    EXPECT_EQ(co_await empty.get(), 42);
    EXPECT_DOUBLE_EQ(get_running_loop().time(), 8.0);
    co_await t;
  };
  test::run_virtual(main_());
}

TEST(Queue, GettersAreServedInArrivalOrder) {
  auto main_ = []() -> Coro<> {
    Queue<int> q;
    std::vector<std::string> log;
    auto getter = [&](std::string name) -> Coro<> {
      int v = co_await q.get();
      log.push_back(name + "=" + std::to_string(v));
    };
    std::vector<Task<>> tasks;
    for (const char* name : {"a", "b", "c"}) tasks.push_back(create_task(getter(name)));
    co_await sleep(0);
    for (int i = 1; i <= 3; ++i) q.put_nowait(i);
    co_await gather(tasks);
    EXPECT_EQ(log, (std::vector<std::string>{"a=1", "b=2", "c=3"}));
  };
  test::run_virtual(main_());
}

TEST(Queue, TaskDoneAndJoin) {
  auto main_ = []() -> Coro<> {
    Queue<int> q;
    co_await q.join();  // nothing put: returns at once
    EXPECT_THROW(q.task_done(), ValueError);
    for (int i = 0; i < 3; ++i) q.put_nowait(i);
    auto worker = [&]() -> Coro<> {
      for (;;) {
        (void)co_await q.get();
        co_await sleep(1);
        q.task_done();
      }
    };
    Task<> w = create_task(worker());
    co_await q.join();
    EXPECT_DOUBLE_EQ(get_running_loop().time(), 3.0);
    w.cancel();
    EXPECT_THROW(co_await w, CancelledError);
    try {
      q.task_done();
      ADD_FAILURE() << "no error";
    } catch (const ValueError& e) {
      EXPECT_STREQ(e.what(), "task_done() called too many times");
    }
  };
  test::run_virtual(main_());
}

TEST(Queue, ShutdownWakesGettersAndPuttersWithQueueShutDown) {
  auto main_ = []() -> Coro<> {
    Queue<int> q(1);
    auto getter = [&](Queue<int>& from) -> Coro<int> { co_return co_await from.get(); };
    Queue<int> empty;
    Task<int> g = create_task(getter(empty));
    q.put_nowait(1);
    auto putter = [&]() -> Coro<> { co_await q.put(2); };
    Task<> p = create_task(putter());
    co_await sleep(1);
    empty.shutdown();
    q.shutdown();
    EXPECT_THROW(co_await g, QueueShutDown);
    EXPECT_THROW(co_await p, QueueShutDown);
    EXPECT_THROW(q.put_nowait(3), QueueShutDown);
    EXPECT_THROW(co_await q.put(3), QueueShutDown);
    // Items already in the queue can still be taken, then get raises.
    EXPECT_EQ(co_await q.get(), 1);
    EXPECT_THROW(co_await q.get(), QueueShutDown);
    EXPECT_THROW(q.get_nowait(), QueueShutDown);
    EXPECT_TRUE(q.is_shutdown());
  };
  test::run_virtual(main_());
}

TEST(Queue, ImmediateShutdownDropsItemsAndReleasesJoin) {
  auto main_ = []() -> Coro<> {
    Queue<int> q;
    for (int i = 0; i < 3; ++i) q.put_nowait(i);
    (void)q.get_nowait();  // one taken, not marked done
    auto joiner = [&]() -> Coro<> { co_await q.join(); };
    Task<> j = create_task(joiner());
    co_await sleep(1);
    EXPECT_FALSE(j.done());
    q.shutdown(true);
    EXPECT_TRUE(q.empty());
    co_await sleep(0);
    EXPECT_FALSE(j.done());  // the item taken is still unfinished
    q.task_done();
    co_await j;
    EXPECT_THROW(q.get_nowait(), QueueShutDown);
  };
  test::run_virtual(main_());
}

TEST(Queue, AGetterCancelledWhileWaitingTakesNothing) {
  auto main_ = []() -> Coro<> {
    Queue<int> q;
    auto getter = [&]() -> Coro<int> { co_return co_await q.get(); };
    Task<int> a = create_task(getter());
    Task<int> b = create_task(getter());
    co_await sleep(1);
    a.cancel();
    co_await sleep(0);
    q.put_nowait(7);
    EXPECT_EQ(co_await b, 7);
    EXPECT_TRUE(a.cancelled());
    EXPECT_TRUE(q.empty());
  };
  test::run_virtual(main_());
}

TEST(Queue, AGetterWokenAndThenCancelledHandsTheItemToTheNext) {
  auto main_ = []() -> Coro<> {
    Queue<int> q;
    auto getter = [&]() -> Coro<int> { co_return co_await q.get(); };
    Task<int> a = create_task(getter());
    Task<int> b = create_task(getter());
    co_await sleep(1);
    q.put_nowait(7);  // wakes a
    a.cancel();       // before a runs
    EXPECT_EQ(co_await b, 7);
    EXPECT_TRUE(a.cancelled());
    EXPECT_TRUE(q.empty());
  };
  test::run_virtual(main_());
}

TEST(Queue, APutterCancelledWhileWaitingAddsNothingAndAWokenOneHandsOn) {
  auto main_ = []() -> Coro<> {
    Queue<int> q(1);
    q.put_nowait(0);
    auto putter = [&](int v) -> Coro<> { co_await q.put(v); };
    Task<> a = create_task(putter(1));
    Task<> b = create_task(putter(2));
    Task<> c = create_task(putter(3));
    co_await sleep(1);
    a.cancel();  // waiting: nothing added
    co_await sleep(0);
    EXPECT_EQ(q.get_nowait(), 0);  // wakes b
    b.cancel();                    // woken, then cancelled: hands on to c
    co_await c;
    EXPECT_TRUE(a.cancelled());
    EXPECT_TRUE(b.cancelled());
    EXPECT_EQ(q.get_nowait(), 3);
    EXPECT_TRUE(q.empty());
  };
  test::run_virtual(main_());
}

TEST(Queue, AWokenGetterOvertakenByANewcomerWaitsAgain) {
  // asyncio's order: get() does not reserve the item for the woken getter; one that
  // arrives with get_nowait() before it runs takes it, and the woken one waits again.
  auto main_ = []() -> Coro<> {
    Queue<int> q;
    auto getter = [&]() -> Coro<int> { co_return co_await q.get(); };
    Task<int> a = create_task(getter());
    co_await sleep(0);
    q.put_nowait(1);
    EXPECT_EQ(q.get_nowait(), 1);
    co_await sleep(0);
    co_await sleep(0);
    EXPECT_FALSE(a.done());
    q.put_nowait(2);
    EXPECT_EQ(co_await a, 2);
  };
  test::run_virtual(main_());
}

TEST(Queue, NoItemIsLostOrDuplicatedUnderRandomCancellation) {
  // Bounded producers and consumers; a chaos task cancels random ones at random
  // moments. Every item is either still in the queue, received once, or belongs to a
  // put that raised CancelledError.
  auto main_ = []() -> Coro<> {
    Queue<int> q(3);
    std::mt19937 rng(12345);
    std::map<int, int> received;
    std::vector<int> put_ok;
    std::vector<int> put_cancelled;
    int next_item = 0;
    auto producer = [&]() -> Coro<> {
      for (int i = 0; i < 50; ++i) {
        int item = next_item++;
        try {
          co_await q.put(item);
          put_ok.push_back(item);
        } catch (const CancelledError&) {
          put_cancelled.push_back(item);
          throw;
        }
        co_await sleep(static_cast<double>(rng() % 3) / 10);
      }
    };
    auto consumer = [&]() -> Coro<> {
      for (;;) {
        int item = co_await q.get();
        ++received[item];
        co_await sleep(static_cast<double>(rng() % 4) / 10);
      }
    };
    std::vector<Task<>> producers;
    std::vector<Task<>> consumers;
    for (int i = 0; i < 4; ++i) producers.push_back(create_task(producer()));
    for (int i = 0; i < 4; ++i) consumers.push_back(create_task(consumer()));
    for (int round = 0; round < 200; ++round) {
      co_await sleep(static_cast<double>(rng() % 5) / 20);
      std::vector<Task<>>& group = (rng() % 2) ? producers : consumers;
      Task<>& victim = group[rng() % group.size()];
      if (!victim.done()) victim.cancel();
      if (victim.done() && &group == &consumers) victim = create_task(consumer());
    }
    co_await gather(return_exceptions, producers);
    co_await sleep(5);  // consumers drain what is left
    for (Task<>& c : consumers) c.cancel();
    co_await gather(return_exceptions, consumers);
    std::vector<int> left;
    while (!q.empty()) left.push_back(q.get_nowait());
    for (const auto& [item, count] : received) EXPECT_EQ(count, 1) << "item " << item;
    std::vector<int> accounted;
    for (const auto& [item, count] : received) accounted.push_back(item);
    accounted.insert(accounted.end(), left.begin(), left.end());
    std::sort(accounted.begin(), accounted.end());
    std::sort(put_ok.begin(), put_ok.end());
    EXPECT_EQ(accounted, put_ok);
    EXPECT_FALSE(put_cancelled.empty());
    EXPECT_GT(put_ok.size(), 20u);
  };
  test::run_virtual(main_());
}

}  // namespace
}  // namespace aio
