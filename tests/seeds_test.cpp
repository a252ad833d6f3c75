// The seed ports (examples/seeds/<id>.cpp) print what their Python originals print,
// in the same order, on the virtual clock, in the simulated time the seeds state.
// Numbers that come from real time or randomness are matched by pattern.
#include <algorithm>
#include <string>
#include <vector>

#include "support/seed_runner.hpp"

namespace aio::test {
namespace {

const std::string kTime = "re:\\d\\d:\\d\\d:\\d\\d";

// a2.2, a2.3: tasks overlap their sleeps: 3 s. a2.1, a4.3: one after the other: 6 s.
TEST(Seeds, A2_1_BlockingSleepsTakeSixSeconds) {
  SeedRun r = run_seed("a2_1");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {kTime, "16", "fun1 завершена", "2.0", "fun2 завершена", kTime});
  EXPECT_EQ(seconds_between(r.out_lines().front(), r.out_lines().back()), 6);
  EXPECT_DOUBLE_EQ(r.elapsed, 6.0);
}

TEST(Seeds, A2_2_TasksTakeThreeSeconds) {
  SeedRun r = run_seed("a2_2");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {kTime, "16", "2.0", "fun1 завершена", "fun2 завершена", kTime});
  EXPECT_EQ(seconds_between(r.out_lines().front(), r.out_lines().back()), 3);
  EXPECT_DOUBLE_EQ(r.elapsed, 3.0);
  EXPECT_EQ(r.err, "");
}

TEST(Seeds, A2_3_LegacyLoopApiTakesThreeSeconds) {
  SeedRun r = run_seed("a2_3");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {kTime, "16", "2.0", "fun1 завершена", "fun2 завершена", kTime});
  EXPECT_DOUBLE_EQ(r.elapsed, 3.0);
}

TEST(Seeds, A3_X_AsyncFunctionReturnsACoroutine) {
  SeedRun r = run_seed("a3_x");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {"<class 'void (*)(int)'>", "16", "fun1 завершена", "<class 'void'>",
                               "<class 'aio::Coro<void> (*)(int)'>", "<class 'aio::Coro<void>'>"});
  // The coroutine made for type() was never awaited, and Python says so.
  expect_lines(r.err_lines(), {"re:.*a3_x\\.cpp:\\d+: RuntimeWarning: coroutine 'fun1' was never awaited"});
  EXPECT_DOUBLE_EQ(r.elapsed, 3.0);
}

TEST(Seeds, A4_1_TaskIsAFuture) {
  SeedRun r = run_seed("a4_1");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {"<class 'aio::Task<void>'>", "(<class 'aio::Future<void>'>,)", "16", "2.0",
                               "fun1 завершена", "fun2 завершена"});
  EXPECT_DOUBLE_EQ(r.elapsed, 3.0);
}

TEST(Seeds, A4_3_AwaitingCoroutinesDirectlyIsSequential) {
  SeedRun r = run_seed("a4_3");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {kTime, "16", "fun1 завершена", "2.0", "fun2 завершена", kTime});
  EXPECT_EQ(seconds_between(r.out_lines().front(), r.out_lines().back()), 6);
  EXPECT_DOUBLE_EQ(r.elapsed, 6.0);
}

TEST(Seeds, B_NeverAwaited_IsReportedThenTheAwaitedOneRuns) {
  SeedRun r = run_seed("b_never_awaited");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.err_lines(),
               {"re:.*b_never_awaited\\.cpp:\\d+: RuntimeWarning: coroutine 'async_func' was never awaited"});
  expect_lines(r.out_lines(), {"Запуск ...", "... Готово!"});
  EXPECT_DOUBLE_EQ(r.elapsed, 1.0);
}

TEST(Seeds, B_Tasks) {
  SeedRun r = run_seed("b_tasks");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {"Запуск ...", "... Готово!"});
  EXPECT_DOUBLE_EQ(r.elapsed, 1.0);
}

TEST(Seeds, B_Loop_AllStartThenAllFinishInOneSecond) {
  SeedRun r = run_seed("b_loop");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {"taskA: Запуск ...", "taskB: Запуск ...", "taskC: Запуск ...", "taskA: ... Готово!",
                               "taskB: ... Готово!", "taskC: ... Готово!"});
  EXPECT_DOUBLE_EQ(r.elapsed, 1.0);
}

TEST(Seeds, B_Future_ResolvedElsewhere) {
  SeedRun r = run_seed("b_future");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {"future: <Future pending>", "future: <Future finished result=42>", "result: 42"});
  EXPECT_DOUBLE_EQ(r.elapsed, 1.0);
}

TEST(Seeds, C_Ex1_SynchronousTaskOneDoesAllTheWork) {
  SeedRun r = run_seed("c_ex1");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {"Task One running", "Task One total: 15", "Task One running", "Task One total: 10",
                               "Task One running", "Task One total: 5", "Task One running", "Task One total: 2",
                               "Task Two nothing to do"});
}

TEST(Seeds, C_Ex2_GeneratorsInterleave) {
  SeedRun r = run_seed("c_ex2");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {"Task One running", "Task Two running", "Task Two total: 10", "Task Two running",
                               "Task One total: 15", "Task One running", "Task Two total: 5", "Task One total: 2"});
}

TEST(Seeds, C_Ex3_BlockingSleepsAddUpTo32Seconds) {
  SeedRun r = run_seed("c_ex3");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {"Task One running", "Task One elapsed time: 15.0", "Task Two running",
                               "Task Two elapsed time: 10.0", "Task One running", "Task One elapsed time: 5.0",
                               "Task Two running", "Task Two elapsed time: 2.0", "", "Total elapsed time: 32.0"});
  EXPECT_DOUBLE_EQ(r.elapsed, 32.0);
}

}  // namespace
}  // namespace aio::test
