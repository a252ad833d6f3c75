// Locks, events, conditions, semaphores and barriers: FIFO order, every cancellation
// point (before and after the wake-up), and the errors asyncio raises.
#include <algorithm>
#include <string>
#include <vector>

#include "support/aio_test.hpp"

namespace aio {
namespace {

using Log = std::vector<std::string>;

// --- Lock

TEST(Lock, AnUncontendedAcquireDoesNotSuspend) {
  auto main_ = []() -> Coro<> {
    Lock lock;
    Log log;
    auto other = [&]() -> Coro<> {
      log.push_back("other");
      co_return;
    };
    Task<> t = create_task(other());
    EXPECT_TRUE(co_await lock.acquire());
    log.push_back("acquired");
    EXPECT_TRUE(lock.locked());
    lock.release();
    EXPECT_FALSE(lock.locked());
    co_await t;
    EXPECT_EQ(log, (Log{"acquired", "other"}));
  };
  test::run_virtual(main_());
}

TEST(Lock, WaitersGetTheLockInArrivalOrder) {
  auto main_ = []() -> Coro<> {
    Lock lock;
    Log log;
    auto worker = [&](std::string name) -> Coro<> {
      auto held = co_await lock.guard();
      log.push_back(name + " in");
      co_await sleep(1);
      log.push_back(name + " out");
    };
    std::vector<Task<>> tasks;
    for (const char* name : {"a", "b", "c"}) tasks.push_back(create_task(worker(name)));
    co_await gather(tasks);
    EXPECT_EQ(log, (Log{"a in", "a out", "b in", "b out", "c in", "c out"}));
    EXPECT_DOUBLE_EQ(get_running_loop().time(), 3.0);
    EXPECT_FALSE(lock.locked());
  };
  test::run_virtual(main_());
}

TEST(Lock, ReleasingAnUnlockedLockIsARuntimeError) {
  Lock lock;
  try {
    lock.release();
    FAIL() << "no error";
  } catch (const RuntimeError& e) {
    EXPECT_STREQ(e.what(), "Lock is not acquired.");
  }
}

TEST(Lock, AWaiterCancelledBeforeItsTurnLeavesTheQueue) {
  auto main_ = []() -> Coro<> {
    Lock lock;
    Log log;
    co_await lock.acquire();
    auto waiter = [&](std::string name) -> Coro<> {
      co_await lock.acquire();
      log.push_back(name);
      lock.release();
    };
    Task<> a = create_task(waiter("a"));
    Task<> b = create_task(waiter("b"));
    co_await sleep(0);
    EXPECT_NE(lock.repr().find("[locked, waiters:2]"), std::string::npos) << lock.repr();
    a.cancel("not now");
    co_await sleep(0);
    EXPECT_TRUE(a.cancelled());
    EXPECT_NE(lock.repr().find("[locked, waiters:1]"), std::string::npos) << lock.repr();
    lock.release();
    co_await b;
    EXPECT_EQ(log, (Log{"b"}));
    EXPECT_FALSE(lock.locked());
  };
  test::run_virtual(main_());
}

TEST(Lock, AWaiterCancelledAfterItWasWokenPassesTheLockOn) {
  auto main_ = []() -> Coro<> {
    Lock lock;
    Log log;
    co_await lock.acquire();
    auto waiter = [&](std::string name) -> Coro<> {
      co_await lock.acquire();
      log.push_back(name);
      lock.release();
    };
    Task<> a = create_task(waiter("a"));
    Task<> b = create_task(waiter("b"));
    co_await sleep(0);
    lock.release();     // wakes a
    EXPECT_TRUE(a.cancel());  // before a runs
    co_await sleep(0);
    co_await sleep(0);
    EXPECT_TRUE(a.cancelled());
    co_await b;
    EXPECT_EQ(log, (Log{"b"}));
    EXPECT_FALSE(lock.locked());
  };
  test::run_virtual(main_());
}

TEST(Lock, ANewcomerDoesNotOvertakeAWokenWaiter) {
  auto main_ = []() -> Coro<> {
    Lock lock;
    Log log;
    co_await lock.acquire();
    auto waiter = [&](std::string name) -> Coro<> {
      co_await lock.acquire();
      log.push_back(name);
      lock.release();
    };
    Task<> a = create_task(waiter("a"));
    co_await sleep(0);
    lock.release();  // a is woken but has not run
    EXPECT_FALSE(lock.locked());
    Task<> late = create_task(waiter("late"));
    co_await gather(a, late);
    EXPECT_EQ(log, (Log{"a", "late"}));
  };
  test::run_virtual(main_());
}

TEST(Lock, TheGuardReleasesOnErrorsAndOnCancellation) {
  auto main_ = []() -> Coro<> {
    Lock lock;
    auto fails = [&]() -> Coro<> {
      auto held = co_await lock.guard();
      throw ValueError("boom");
    };
    EXPECT_THROW(co_await fails(), ValueError);
    EXPECT_FALSE(lock.locked());
    auto sleeps = [&]() -> Coro<> {
      auto held = co_await lock.guard();
      co_await sleep(10);
    };
    Task<> t = create_task(sleeps());
    co_await sleep(1);
    EXPECT_TRUE(lock.locked());
    t.cancel();
    EXPECT_THROW(co_await t, CancelledError);
    EXPECT_FALSE(lock.locked());
    auto early = [&]() -> Coro<> {
      auto held = co_await lock.guard();
      EXPECT_TRUE(held.owns());
      held.release();
      EXPECT_FALSE(held.owns());
      EXPECT_FALSE(lock.locked());
    };
    co_await early();
  };
  test::run_virtual(main_());
}

TEST(Lock, ACancelRequestedBeforeTheWaitAppliesToIt) {
  auto main_ = []() -> Coro<> {
    Lock lock;
    co_await lock.acquire();
    auto self_cancel = [&]() -> Coro<> {
      current_task().cancel("early");
      try {
        co_await lock.acquire();
        ADD_FAILURE() << "acquired";
      } catch (const CancelledError& e) {
        EXPECT_EQ(e.message(), "early");
        throw;
      }
    };
    Task<> t = create_task(self_cancel());
    EXPECT_THROW(co_await t, CancelledError);
    EXPECT_TRUE(lock.locked());
    lock.release();
    EXPECT_FALSE(lock.locked());
  };
  test::run_virtual(main_());
}

TEST(Lock, ALoopClosedWithTasksWaitingOnALockFreesThem) {
  test::VirtualLoop v;
  v.loop.set_exception_handler([](EventLoop&, const ExceptionContext&) {});
  Lock lock;
  auto holder = [&]() -> Coro<> {
    co_await lock.acquire();
    co_await sleep(100);
  };
  auto waiter = [&]() -> Coro<> { co_await lock.acquire(); };
  Task<> h = v.loop.create_task(holder());
  Task<> w = v.loop.create_task(waiter());
  v.loop.call_later(1, [&] { v.loop.stop(); });
  v.loop.run_forever();
  v.loop.close();
  EXPECT_FALSE(w.done());
  EXPECT_TRUE(lock.locked());
}

// --- Event

TEST(Event, WaitBlocksUntilSetAndSetWakesEveryWaiter) {
  auto main_ = []() -> Coro<> {
    Event event;
    Log log;
    auto waiter = [&](std::string name) -> Coro<> {
      EXPECT_TRUE(co_await event.wait());
      log.push_back(name);
    };
    Task<> a = create_task(waiter("a"));
    Task<> b = create_task(waiter("b"));
    co_await sleep(1);
    EXPECT_TRUE(log.empty());
    EXPECT_NE(event.repr().find("[unset, waiters:2]"), std::string::npos) << event.repr();
    event.set();
    event.set();  // harmless
    EXPECT_TRUE(event.is_set());
    co_await gather(a, b);
    EXPECT_EQ(log, (Log{"a", "b"}));
    EXPECT_TRUE(co_await event.wait());  // set: no wait
    event.clear();
    EXPECT_FALSE(event.is_set());
    EXPECT_NE(event.repr().find("[unset]"), std::string::npos) << event.repr();
  };
  test::run_virtual(main_());
}

TEST(Event, AWaiterCancelledAfterTheSetIsStillCancelled) {
  auto main_ = []() -> Coro<> {
    Event event;
    auto waiter = [&]() -> Coro<> { co_await event.wait(); };
    Task<> a = create_task(waiter());
    Task<> b = create_task(waiter());
    co_await sleep(0);
    event.set();
    a.cancel();
    co_await sleep(0);
    EXPECT_TRUE(a.cancelled());
    EXPECT_TRUE(b.done() && !b.cancelled());
    Event never;
    auto forever = [&]() -> Coro<> { co_await never.wait(); };
    Task<> c = create_task(forever());
    co_await sleep(1);
    c.cancel("stop");
    try {
      co_await c;
    } catch (const CancelledError& e) {
      EXPECT_EQ(e.message(), "stop");
    }
    EXPECT_TRUE(c.cancelled());
  };
  test::run_virtual(main_());
}

// --- Condition

TEST(Condition, WaitAndNotifyNeedTheLock) {
  auto main_ = []() -> Coro<> {
    Condition cond;
    EXPECT_THROW(co_await cond.wait(), RuntimeError);
    EXPECT_THROW(cond.notify(), RuntimeError);
    EXPECT_THROW(cond.notify_all(), RuntimeError);
  };
  test::run_virtual(main_());
}

TEST(Condition, NotifyWakesWaitersInOrderAndEachRetakesTheLock) {
  auto main_ = []() -> Coro<> {
    Condition cond;
    Log log;
    auto waiter = [&](std::string name) -> Coro<> {
      auto held = co_await cond.guard();
      EXPECT_TRUE(co_await cond.wait());
      EXPECT_TRUE(cond.locked());
      log.push_back(name);
    };
    std::vector<Task<>> tasks;
    for (const char* name : {"a", "b", "c"}) tasks.push_back(create_task(waiter(name)));
    co_await sleep(1);
    {
      auto held = co_await cond.guard();
      cond.notify(1);
    }
    co_await sleep(1);
    EXPECT_EQ(log, (Log{"a"}));
    {
      auto held = co_await cond.guard();
      cond.notify_all();
    }
    co_await gather(tasks);
    EXPECT_EQ(log, (Log{"a", "b", "c"}));
    EXPECT_FALSE(cond.locked());
  };
  test::run_virtual(main_());
}

TEST(Condition, WaitForChecksThePredicateAfterEachNotification) {
  auto main_ = []() -> Coro<> {
    Condition cond;
    int value = 0;
    auto waiter = [&]() -> Coro<int> {
      auto held = co_await cond.guard();
      co_return co_await cond.wait_for([&] { return value >= 3 ? value : 0; });
    };
    Task<int> t = create_task(waiter());
    for (int i = 0; i < 5; ++i) {
      co_await sleep(1);
      auto held = co_await cond.guard();
      ++value;
      cond.notify_all();
    }
    EXPECT_EQ(co_await t, 3);
    EXPECT_DOUBLE_EQ(get_running_loop().time(), 5.0);
  };
  test::run_virtual(main_());
}

TEST(Condition, ACancelledWaiterRetakesTheLockBeforeRaising) {
  auto main_ = []() -> Coro<> {
    Condition cond;
    bool locked_in_handler = false;
    auto waiter = [&]() -> Coro<> {
      auto held = co_await cond.guard();
      try {
        co_await cond.wait();
      } catch (const CancelledError&) {
        locked_in_handler = cond.locked();
        throw;
      }
    };
    Task<> t = create_task(waiter());
    co_await sleep(1);
    auto held = co_await cond.guard();  // the waiter must wait for us to retake it
    t.cancel();
    co_await sleep(1);
    EXPECT_FALSE(t.done());
    held.release();
    EXPECT_THROW(co_await t, CancelledError);
    EXPECT_TRUE(locked_in_handler);
    EXPECT_FALSE(cond.locked());
  };
  test::run_virtual(main_());
}

TEST(Condition, ANotifiedWaiterThatIsCancelledHandsTheNotificationOn) {
  auto main_ = []() -> Coro<> {
    Condition cond;
    Log log;
    auto waiter = [&](std::string name) -> Coro<> {
      auto held = co_await cond.guard();
      co_await cond.wait();
      log.push_back(name);
    };
    Task<> a = create_task(waiter("a"));
    Task<> b = create_task(waiter("b"));
    co_await sleep(1);
    {
      auto held = co_await cond.guard();
      cond.notify(1);  // a is chosen...
    }
    a.cancel();  // ...and cancelled before it runs
    co_await sleep(1);
    EXPECT_TRUE(a.cancelled());
    EXPECT_TRUE(b.done());
    EXPECT_EQ(log, (Log{"b"}));
  };
  test::run_virtual(main_());
}

TEST(Condition, SharesALockGivenToIt) {
  auto main_ = []() -> Coro<> {
    Lock lock;
    Condition cond(lock);
    co_await lock.acquire();
    EXPECT_TRUE(cond.locked());
    cond.release();
    EXPECT_FALSE(lock.locked());
  };
  test::run_virtual(main_());
}

// --- Semaphore

TEST(Semaphore, CountsPermitsAndServesWaitersInOrder) {
  auto main_ = []() -> Coro<> {
    Semaphore sem(2);
    Log log;
    auto worker = [&](std::string name) -> Coro<> {
      auto held = co_await sem.guard();
      log.push_back(name);
      co_await sleep(1);
    };
    std::vector<Task<>> tasks;
    for (const char* name : {"a", "b", "c", "d", "e"}) tasks.push_back(create_task(worker(name)));
    co_await sleep(0.5);
    EXPECT_EQ(log, (Log{"a", "b"}));
    EXPECT_TRUE(sem.locked());
    EXPECT_NE(sem.repr().find("[locked, waiters:3]"), std::string::npos) << sem.repr();
    co_await gather(tasks);
    EXPECT_EQ(log, (Log{"a", "b", "c", "d", "e"}));
    EXPECT_DOUBLE_EQ(get_running_loop().time(), 3.0);
    EXPECT_EQ(sem.value(), 2);
    EXPECT_NE(sem.repr().find("[unlocked, value:2]"), std::string::npos) << sem.repr();
  };
  test::run_virtual(main_());
}

TEST(Semaphore, ANegativeValueIsAValueError) { EXPECT_THROW(Semaphore(-1), ValueError); }

TEST(Semaphore, AWaiterWokenAndThenCancelledGivesThePermitBack) {
  auto main_ = []() -> Coro<> {
    Semaphore sem(1);
    Log log;
    co_await sem.acquire();
    auto waiter = [&](std::string name) -> Coro<> {
      co_await sem.acquire();
      log.push_back(name);
      sem.release();
    };
    Task<> a = create_task(waiter("a"));
    Task<> b = create_task(waiter("b"));
    co_await sleep(0);
    sem.release();  // the permit goes to a
    a.cancel();
    co_await gather(b);
    EXPECT_TRUE(a.cancelled());
    EXPECT_EQ(log, (Log{"b"}));
    EXPECT_EQ(sem.value(), 1);
  };
  test::run_virtual(main_());
}

TEST(Semaphore, AWaiterCancelledWhileWaitingTakesNoPermit) {
  auto main_ = []() -> Coro<> {
    Semaphore sem(0);
    auto waiter = [&]() -> Coro<> { co_await sem.acquire(); };
    Task<> a = create_task(waiter());
    co_await sleep(1);
    a.cancel();
    EXPECT_THROW(co_await a, CancelledError);
    EXPECT_EQ(sem.value(), 0);
    EXPECT_FALSE(sem.locked() && sem.value() != 0);
    sem.release();
    EXPECT_EQ(sem.value(), 1);
    EXPECT_FALSE(sem.locked());
  };
  test::run_virtual(main_());
}

TEST(BoundedSemaphore, ReleasingTooOftenIsAValueError) {
  auto main_ = []() -> Coro<> {
    BoundedSemaphore sem(2);
    co_await sem.acquire();
    sem.release();
    try {
      sem.release();
      ADD_FAILURE() << "no error";
    } catch (const ValueError& e) {
      EXPECT_STREQ(e.what(), "BoundedSemaphore released too many times");
    }
    {
      auto held = co_await sem.guard();
      EXPECT_EQ(sem.value(), 1);
    }
    EXPECT_EQ(sem.value(), 2);
  };
  test::run_virtual(main_());
}

// --- Barrier

TEST(Barrier, ReleasesEveryoneWhenTheLastPartyArrives) {
  auto main_ = []() -> Coro<> {
    Barrier barrier(3);
    std::vector<std::size_t> indices;
    std::vector<double> times;
    auto party = [&](double delay) -> Coro<> {
      co_await sleep(delay);
      indices.push_back(co_await barrier.wait());
      times.push_back(get_running_loop().time());
    };
    Task<> a = create_task(party(1));
    Task<> b = create_task(party(2));
    co_await sleep(2.5);
    EXPECT_EQ(barrier.n_waiting(), 2u);
    EXPECT_NE(barrier.repr().find("[filling, waiters:2/3]"), std::string::npos) << barrier.repr();
    Task<> c = create_task(party(0.5));
    co_await gather(a, b, c);
    std::sort(indices.begin(), indices.end());
    EXPECT_EQ(indices, (std::vector<std::size_t>{0, 1, 2}));
    EXPECT_EQ(times, (std::vector<double>{3.0, 3.0, 3.0}));
    EXPECT_EQ(barrier.n_waiting(), 0u);
    EXPECT_EQ(barrier.parties(), 3u);
    EXPECT_FALSE(barrier.broken());
    // It is cyclic: a second round works the same way.
    Task<> d = create_task(party(0));
    Task<> e = create_task(party(0));
    Task<> f = create_task(party(0));
    co_await gather(d, e, f);
    EXPECT_EQ(indices.size(), 6u);
  };
  test::run_virtual(main_());
}

TEST(Barrier, AbortBreaksItForWaitersAndLaterCallers) {
  auto main_ = []() -> Coro<> {
    Barrier barrier(3);
    auto party = [&]() -> Coro<std::size_t> { co_return co_await barrier.wait(); };
    Task<std::size_t> a = create_task(party());
    co_await sleep(1);
    co_await barrier.abort();
    EXPECT_TRUE(barrier.broken());
    EXPECT_THROW(co_await a, BrokenBarrierError);
    EXPECT_THROW(co_await barrier.wait(), BrokenBarrierError);
    co_await barrier.reset();
    EXPECT_FALSE(barrier.broken());
  };
  test::run_virtual(main_());
}

TEST(Barrier, ResetWhileWaitingBreaksTheWaitersThenTheBarrierIsUsable) {
  auto main_ = []() -> Coro<> {
    Barrier barrier(2);
    auto party = [&]() -> Coro<std::size_t> { co_return co_await barrier.wait(); };
    Task<std::size_t> a = create_task(party());
    co_await sleep(1);
    co_await barrier.reset();
    EXPECT_THROW(co_await a, BrokenBarrierError);
    EXPECT_FALSE(barrier.broken());
    Task<std::size_t> b = create_task(party());
    Task<std::size_t> c = create_task(party());
    auto [ib, ic] = co_await gather(b, c);
    EXPECT_EQ(ib + ic, 1u);
  };
  test::run_virtual(main_());
}

TEST(Barrier, ACancelledPartyLeavesTheCountRight) {
  auto main_ = []() -> Coro<> {
    Barrier barrier(2);
    auto party = [&]() -> Coro<std::size_t> { co_return co_await barrier.wait(); };
    Task<std::size_t> a = create_task(party());
    co_await sleep(1);
    EXPECT_EQ(barrier.n_waiting(), 1u);
    a.cancel();
    EXPECT_THROW(co_await a, CancelledError);
    EXPECT_EQ(barrier.n_waiting(), 0u);
    Task<std::size_t> b = create_task(party());
    Task<std::size_t> c = create_task(party());
    co_await gather(b, c);
    EXPECT_DOUBLE_EQ(get_running_loop().time(), 1.0);
  };
  test::run_virtual(main_());
}

TEST(Barrier, ZeroPartiesIsAValueError) { EXPECT_THROW(Barrier(0), ValueError); }

}  // namespace
}  // namespace aio
