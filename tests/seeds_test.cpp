// The seed ports (examples/seeds/<id>.cpp) print what their Python originals print,
// in the same order, on the virtual clock, in the simulated time the seeds state.
// Numbers that come from real time or randomness are matched by pattern.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <sstream>
#include <thread>
#include <cstdio>
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

TEST(Seeds, C_Ex4_AQueueAndNonBlockingSleepsTake17Seconds) {
  SeedRun r = run_seed("c_ex4");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {"Task One running", "Task Two running", "Task Two elapsed time: 10.0",
                               "Task Two running", "Task One elapsed time: 15.0", "Task One running",
                               "Task Two elapsed time: 5.0", "Task One elapsed time: 2.0", "",
                               "Total elapsed time: 17.0"});
  EXPECT_DOUBLE_EQ(r.elapsed, 17.0);
}

TEST(Seeds, E_CountAsync_OneSecond) {
  SeedRun r = run_seed("e_countasync");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {"One", "One", "One", "Two", "Two", "Two", "re:.*e_countasync executed in 1.00 seconds."});
  EXPECT_DOUBLE_EQ(r.elapsed, 1.0);
}

TEST(Seeds, E_CountSync_ThreeSeconds) {
  SeedRun r = run_seed("e_countsync");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {"One", "Two", "One", "Two", "One", "Two", "re:.*e_countsync executed in 3.00 seconds."});
  EXPECT_DOUBLE_EQ(r.elapsed, 3.0);
}

// Byte for byte what CPython 3.11 prints for rand.py (random.seed(444)), in 12 s.
TEST(Seeds, E_Rand_PrintsWhatPythonPrints) {
  SeedRun r = run_seed("e_rand");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {
      "\x1b[36mInitiated makerandom(0).",
      "\x1b[36mmakerandom(0) == 4 too low; retrying.",
      "\x1b[91mInitiated makerandom(1).",
      "\x1b[91mmakerandom(1) == 4 too low; retrying.",
      "\x1b[35mInitiated makerandom(2).",
      "\x1b[35mmakerandom(2) == 0 too low; retrying.",
      "\x1b[36mmakerandom(0) == 4 too low; retrying.",
      "\x1b[91mmakerandom(1) == 7 too low; retrying.",
      "\x1b[36mmakerandom(0) == 4 too low; retrying.",
      "\x1b[35mmakerandom(2) == 4 too low; retrying.",
      "\x1b[36mmakerandom(0) == 8 too low; retrying.",
      "\x1b[91m---> Finished: makerandom(1) == 10\x1b[0m",
      "\x1b[36mmakerandom(0) == 7 too low; retrying.",
      "\x1b[36mmakerandom(0) == 8 too low; retrying.",
      "\x1b[35mmakerandom(2) == 4 too low; retrying.",
      "\x1b[36mmakerandom(0) == 7 too low; retrying.",
      "\x1b[36mmakerandom(0) == 1 too low; retrying.",
      "\x1b[36mmakerandom(0) == 6 too low; retrying.",
      "\x1b[35m---> Finished: makerandom(2) == 9\x1b[0m",
      "\x1b[36mmakerandom(0) == 3 too low; retrying.",
      "\x1b[36mmakerandom(0) == 9 too low; retrying.",
      "\x1b[36mmakerandom(0) == 7 too low; retrying.",
      "\x1b[36m---> Finished: makerandom(0) == 10\x1b[0m",
      "",
      "r1: 10, r2: 10, r3: 9"});
  EXPECT_DOUBLE_EQ(r.elapsed, 12.0);
}

// The seed's own output for `chained.py 9 6 3`, with exact times: 4, 8, 11 s.
TEST(Seeds, E_Chained_963_Takes11Seconds) {
  SeedRun r = run_seed("e_chained", {"9", "6", "3"});
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {
      "part1(9) sleeping for 4 seconds.",
      "part1(6) sleeping for 4 seconds.",
      "part1(3) sleeping for 0 seconds.",
      "Returning part1(3) == result3-1.",
      "part2(3, 'result3-1') sleeping for 4 seconds.",
      "Returning part1(9) == result9-1.",
      "part2(9, 'result9-1') sleeping for 7 seconds.",
      "Returning part1(6) == result6-1.",
      "part2(6, 'result6-1') sleeping for 4 seconds.",
      "Returning part2(3, 'result3-1') == result3-2 derived from result3-1.",
      "-->Chained result3 => result3-2 derived from result3-1 (took 4.00 seconds).",
      "Returning part2(6, 'result6-1') == result6-2 derived from result6-1.",
      "-->Chained result6 => result6-2 derived from result6-1 (took 8.00 seconds).",
      "Returning part2(9, 'result9-1') == result9-2 derived from result9-1.",
      "-->Chained result9 => result9-2 derived from result9-1 (took 11.00 seconds).",
      "Program finished in 11.00 seconds.",
  });
  EXPECT_DOUBLE_EQ(r.elapsed, 11.0);
}

TEST(Seeds, E_Hello) {
  SeedRun r = run_seed("e_hello");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {"re:<coroutine object main_ at 0x[0-9a-f]+>", "Hello ...", "World!"});
  EXPECT_DOUBLE_EQ(r.elapsed, 1.0);
  EXPECT_EQ(r.err, "");
}

TEST(Seeds, E_Coro_TaskGatherAsCompleted) {
  SeedRun r = run_seed("e_coro");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  const std::vector<std::string> lines = r.out_lines();
  expect_lines(lines, {"t: type <class 'aio::Task<std::vector<int>>'>", "t done: True", "re:Start: " + kTime.substr(3),
                       "re:End: " + kTime.substr(3), "Both tasks done: True", "[[1, 2, 3], [0, 5, 10]]",
                       "re:Start: " + kTime.substr(3), "re:res: \\[1, 2, 3\\] completed at " + kTime.substr(3),
                       "re:res: \\[0, 5, 10\\] completed at " + kTime.substr(3), "re:End: " + kTime.substr(3),
                       "Both tasks done: True"});
  // gather: 10 s; as_completed: the first result after 3 s, the second after 10 s.
  EXPECT_EQ(seconds_between(lines[2].substr(7), lines[3].substr(5)), 10);
  EXPECT_EQ(seconds_between(lines[6].substr(7), lines[7].substr(lines[7].size() - 8)), 3);
  EXPECT_EQ(seconds_between(lines[6].substr(7), lines[8].substr(lines[8].size() - 8)), 10);
  EXPECT_DOUBLE_EQ(r.elapsed, 23.0);
}

TEST(Seeds, F_Define_CoroutineTypeAndNeverAwaited) {
  SeedRun r = run_seed("f_define");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {"<class 'coroutine'>"});
  expect_lines(r.err_lines(), {"re:.*f_define\\.cpp:\\d+: RuntimeWarning: coroutine 'custom_coro' was never awaited"});
  EXPECT_DOUBLE_EQ(r.elapsed, 1.0);
}

TEST(Seeds, F_Loop_NewLoopAndRunningLoop) {
  SeedRun r = run_seed("f_loop");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {"<EventLoop running=False closed=False debug=False>", "RuntimeError: no running event loop",
                               "<EventLoop running=True closed=False debug=False>",
                               "<EventLoop running=False closed=True debug=False>"});
}

// The lines CPython 3.11 prints for the same program (f_tasks.cpp's header).
TEST(Seeds, F_Tasks_PrintsWhatPythonPrints) {
  SeedRun r = run_seed("f_tasks");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {
      "Task-2 Task-3 MyTask",
      "Renamed",
      "done: False, cancelled: False",
      "task is not yet done",
      "done callback: Task-2 done=True",
      "done: True, cancelled: False",
      "result: 10, exception: None",
      "done callback: MyTask done=True",
      "awaiting failed: ValueError('something bad happened')",
      "exception: ValueError('something bad happened')",
      "result() raised ValueError('something bad happened')",
      "cancel: True",
      "cancelled with: stop it",
      "cancelled: True",
      "result() of a cancelled task raises CancelledError",
      "cancel again: False",
      "removed: 0",
      "20 30"});
  EXPECT_DOUBLE_EQ(r.elapsed, 1.5);  // 1 s for the first tasks, then 0.5 s for failing()
}

TEST(Seeds, F_Current_MainIsTask1) {
  SeedRun r = run_seed("f_current");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(),
               {"main coroutine started",
                "re:<Task pending name='Task-1' coro=<main_\\(\\) running at .*f_current\\.cpp:\\d+> "
                "cb=\\[_run_until_complete_cb\\(\\)\\]>"});
}

TEST(Seeds, F_All_ElevenTasks) {
  SeedRun r = run_seed("f_all");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  std::vector<std::string> lines = r.out_lines();
  ASSERT_EQ(lines.size(), 22u);
  EXPECT_EQ(lines[0], "main coroutine started");
  for (int i = 0; i < 10; ++i) EXPECT_EQ(lines[1 + i], "task " + std::to_string(i) + " is running");
  // all_tasks() is a set in Python: compare without order.
  std::vector<std::string> listed(lines.begin() + 11, lines.end());
  std::sort(listed.begin(), listed.end());
  std::vector<std::string> expected{"re:> Task-1, <coroutine object main_ at 0x[0-9a-f]+>"};
  for (int n = 2; n <= 11; ++n) expected.push_back("re:> Task-" + std::to_string(n) + ", <coroutine object task_coroutine at 0x[0-9a-f]+>");
  std::sort(expected.begin(), expected.end());
  expect_lines(listed, expected);
  EXPECT_DOUBLE_EQ(r.elapsed, 1.0);
}

TEST(Seeds, F_Gather_TenTasksOneSecond) {
  SeedRun r = run_seed("f_gather");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  std::vector<std::string> expected{"main starting"};
  for (int i = 0; i < 10; ++i) expected.push_back(">task " + std::to_string(i) + " executing");
  expected.push_back("main done");
  expect_lines(r.out_lines(), expected);
  EXPECT_DOUBLE_EQ(r.elapsed, 1.0);
}

TEST(Seeds, F_Wait_FinishInAscendingOrderOfValue) {
  SeedRun r = run_seed("f_wait");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  std::vector<std::string> lines = r.out_lines();
  ASSERT_EQ(lines.size(), 11u);
  std::vector<bool> seen(10, false);
  double previous = 0;
  const std::regex line("^>task (\\d) done with (0\\.\\d+(e-\\d+)?)$");
  for (int i = 0; i < 10; ++i) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(lines[i], m, line)) << lines[i];
    seen[std::stoul(m[1])] = true;
    const double value = std::stod(m[2]);
    EXPECT_GE(value, previous);
    previous = value;
  }
  EXPECT_EQ(std::count(seen.begin(), seen.end(), true), 10);
  EXPECT_EQ(lines[10], "All done");
  EXPECT_NEAR(r.elapsed, previous, 1e-6);  // wait() returns when the slowest is done
}

TEST(Seeds, F_WaitFor_GivesUpAfterTwoTenths) {
  SeedRun r = run_seed("f_wait_for");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {"re:>task got 1\\.\\d+", "Gave up waiting, task canceled"});
  EXPECT_DOUBLE_EQ(r.elapsed, 0.2);
}

TEST(Seeds, F_Shield_InnerTaskFinishes) {
  SeedRun r = run_seed("f_shield");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {"cancelled: True", "shielded was cancelled", "shielded: <Future cancelled>",
                               "re:task: <Task finished name='Task-2' coro=<simple_task\\(\\) done, defined at "
                               ".*f_shield\\.cpp:\\d+> result=1>"});
  EXPECT_DOUBLE_EQ(r.elapsed, 1.2);
}

TEST(Seeds, F_Cancel_RunningTask) {
  SeedRun r = run_seed("f_cancel");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {"main coroutine started", "executing the task", "was canceled: True", "canceled: True",
                               "main coroutine done"});
  EXPECT_DOUBLE_EQ(r.elapsed, 0.2);
}

// The lines CPython 3.11 prints for the same program (f_callback.cpp's header).
TEST(Seeds, F_Callback_PrintsWhatPythonPrints) {
  SeedRun r = run_seed("f_callback");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {
      "..........",
      "follow-up delayed running",
      "follow-up delayed done",
      "delayed by 1.1 s",
      "follow-up from the task running",
      "follow-up from the task done",
      "follow-up delayed in the background running",
      "follow-up from the caller running",
      "follow-up delayed in the background done",
      "follow-up from the caller done",
      "follow-up from a callback running",
      "follow-up from a callback done",
      "main done"});
}

TEST(Seeds, S1_Speak) {
  SeedRun r = run_seed("s1_speak");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {"OMG asynchronicity!"});
}

TEST(Seeds, S2_Future_Gather) {
  SeedRun r = run_seed("s2_future");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {"foo will await the future", "bar will sleep for 3 seconds", "bar resolving the future",
                               "foo finds the future resolved", "main exiting"});
  EXPECT_DOUBLE_EQ(r.elapsed, 3.0);
}

TEST(Seeds, S2_Future_Tasks) {
  SeedRun r = run_seed("s2_future", {"--tasks"});
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {"bar will sleep for 3 seconds", "foo will await the future", "bar resolving the future",
                               "foo finds the future resolved", "main exiting"});
  EXPECT_DOUBLE_EQ(r.elapsed, 3.0);
}

TEST(Seeds, S2_Pipeline_NativeAndGenerators) {
  std::vector<std::string> expected;
  for (long x = 0; x < 100; ++x) expected.push_back("f(" + std::to_string(x) + ") = " + std::to_string(x * x + 3));
  SeedRun native = run_seed("s2_pipeline");
  ASSERT_TRUE(native.exited_ok()) << native.err;
  expect_lines(native.out_lines(), expected);
  SeedRun generators = run_seed("s2_pipeline", {"--generators"});
  ASSERT_TRUE(generators.exited_ok()) << generators.err;
  expect_lines(generators.out_lines(), expected);
}

TEST(Seeds, S4_Hello) {
  SeedRun r = run_seed("s4_hello");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {"coroutine", "generator", "'Hello, generator!'", "In the entrypoint coroutine.",
                               "Hello, asyncio!"});
  expect_lines(r.err_lines(), {"re:.*s4_hello\\.cpp:\\d+: RuntimeWarning: coroutine 'coro_func' was never awaited"});
}

TEST(Seeds, S4_Sleep_SixThenThreeSeconds) {
  SeedRun r = run_seed("s4_sleep");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {"Sleeping 1 seconds.", "Sleeping 2 seconds.", "Sleeping 3 seconds.", "Took 6.00 seconds.",
                               "Sleeping 1 seconds.", "Sleeping 2 seconds.", "Sleeping 3 seconds.", "Took 3.00 seconds."});
  EXPECT_DOUBLE_EQ(r.elapsed, 9.0);
}

// --- issue 3: queues, async generators, async context managers, threads

TEST(Seeds, A5_1_AnAsyncContextManagerAroundConcurrentTasks) {
  SeedRun r = run_seed("a5_1");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {"Устанавливаем соединение...", "Соединение установлено.", "Отправка данных...",
                               "Получение данных...", "Данные отправлены.", "Данные получены.",
                               "Завершение соединения...", "Соединение завершено."});
  EXPECT_DOUBLE_EQ(r.elapsed, 6.0);
}

TEST(Seeds, E_Asyncq_ProducersAndConsumersAsPythonWithSeed444) {
  SeedRun r = run_seed("e_asyncq", {"-p", "2", "-c", "5"});
  ASSERT_TRUE(r.exited_ok()) << r.err;
  const std::string item = "<[0-9a-f]{10}>";
  const std::string waited = " in 0\\.\\d{5} seconds\\.";
  expect_lines(r.out_lines(),
               {"Producer 0 sleeping for 4 seconds.", "Consumer 0 sleeping for 4 seconds.",
                "Consumer 1 sleeping for 7 seconds.", "Consumer 2 sleeping for 4 seconds.",
                "Consumer 3 sleeping for 4 seconds.", "Consumer 4 sleeping for 8 seconds.",
                "re:Producer 0 added " + item + " to queue\\.", "Producer 0 sleeping for 10 seconds.",
                "re:Consumer 0 got element " + item + waited, "Consumer 0 sleeping for 7 seconds.",
                "re:Producer 0 added " + item + " to queue\\.", "Producer 0 sleeping for 8 seconds.",
                "re:Consumer 2 got element " + item + waited, "Consumer 2 sleeping for 4 seconds.",
                "re:Producer 0 added " + item + " to queue\\.", "Producer 0 sleeping for 7 seconds.",
                "re:Consumer 3 got element " + item + waited, "Consumer 3 sleeping for 1 seconds.",
                "re:Producer 0 added " + item + " to queue\\.", "re:Consumer 1 got element " + item + waited,
                "Consumer 1 sleeping for 6 seconds.", "re:Program completed in 29\\.\\d{5} seconds\\."});
  EXPECT_DOUBLE_EQ(r.elapsed, 29.0);
}

TEST(Seeds, E_Gen_GeneratorsPauseAndResume) {
  SeedRun r = run_seed("e_gen");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {"(16, 32, 48)", "9 8 7 6 ", "(8, 7, 6)"});
}

TEST(Seeds, E_Asyncgen_AsyncComprehensions) {
  SeedRun r = run_seed("e_asyncgen");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {"[1, 2, 4, 8, 16, 32, 64, 128, 256, 512]", "[1, 2, 16, 32, 256, 512]"});
  EXPECT_NEAR(r.elapsed, 2.0, 1e-9);
}

TEST(Seeds, F_Aiter_AnAsyncIteratorOnePerSecond) {
  SeedRun r = run_seed("f_aiter");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"});
  EXPECT_DOUBLE_EQ(r.elapsed, 10.0);
}

TEST(Seeds, F_Agen_AnAsyncGeneratorOnePerSecond) {
  SeedRun r = run_seed("f_agen");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"});
  EXPECT_DOUBLE_EQ(r.elapsed, 10.0);
}

TEST(Seeds, F_Actx_EnterBodyExit) {
  SeedRun r = run_seed("f_actx");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {">entering the context manager", "within the manager", ">exiting the context manager"});
  EXPECT_DOUBLE_EQ(r.elapsed, 1.0);
}

TEST(Seeds, F_Acomp_AsyncAndAwaitComprehensions) {
  SeedRun r = run_seed("f_acomp");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {"[0, 1, 4, 9, 16]", "[10, 20, 30]"});
  EXPECT_DOUBLE_EQ(r.elapsed, 8.5);
}

TEST(Seeds, F_ToThread_MainKeepsRunningWhileTheThreadBlocks) {
  SeedRun r = run_seed("f_to_thread");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {"Main running the blocking task", "Main doing other things", "Task starting", "Task done"});
  EXPECT_DOUBLE_EQ(r.elapsed, 2.0);
}

TEST(Seeds, F_Executor_ToThreadAndRunInExecutor) {
  SeedRun r = run_seed("f_executor");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {"done with to_thread", "done with the default executor", "done with our own executor"});
  EXPECT_DOUBLE_EQ(r.elapsed, 3.0);
}

TEST(Seeds, S2_Threads_OneEventLoopPerThread) {
  SeedRun r = run_seed("s2_threads");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  std::vector<std::string> lines = r.out_lines();
  std::sort(lines.begin(), lines.end());  // the threads print in any order
  expect_lines(lines, {"", "", "", "Is event loop running in thread MainThread = False",
                       "Is event loop running in thread Thread-1 = True",
                       "Is event loop running in thread Thread-2 = True"});
}

// f.streams, f.status, d.fetch: streams to servers on 127.0.0.1 in the same program
// (local_web.hpp stands in for the seeds' web sites); on the virtual clock, only the
// sites' latency takes time.
TEST(Seeds, F_Streams_EveryReaderAndWriterMethod) {
  SeedRun r = run_seed("f_streams");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {"serving: True", "readline: b'hello\\n'", "readexactly(4): b'one\\n'",
                               "readuntil(b'three'): b'two\\nthree'", "readline: b'\\n'", "read(n=100): 100 bytes",
                               "read(): 50 bytes, at_eof: True",
                               "IncompleteReadError: 0 bytes read on a total of 10 expected bytes",
                               "is_closing: False", "is_closing: True", "serving: False"});
  EXPECT_EQ(r.err, "");
}

const std::vector<std::string> kSeedStatuses = {
    "HTTP/1.1 200 OK", "HTTP/1.1 200 OK", "HTTP/1.1 302 Found", "HTTP/1.1 200 OK",
    "HTTP/1.1 200 OK", "HTTP/1.1 200 OK", "HTTP/1.1 200 OK", "HTTP/1.1 302 Moved temporarily",
    "HTTP/1.1 301 Moved Permanently", "HTTP/1.1 302 Found"};

std::vector<std::string> status_lines() {
  std::vector<std::string> expected;
  // f'{url:30}:\t{status}': the URL padded to 30 columns
  for (const std::string& s : kSeedStatuses) expected.push_back("re:http://127\\.0\\.0\\.1:\\d+/ *:\t" + s);
  return expected;
}

TEST(Seeds, F_Status_SequentialTakesTenLatencies) {
  SeedRun r = run_seed("f_status");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), status_lines());
  for (const std::string& line : r.out_lines()) EXPECT_EQ(line.find(':', 20), 30u) << line;
  EXPECT_DOUBLE_EQ(r.elapsed, 5.0);
}

TEST(Seeds, F_Status_GatherTakesOneLatencyInInputOrder) {
  SeedRun r = run_seed("f_status", {"--gather"});
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), status_lines());
  EXPECT_DOUBLE_EQ(r.elapsed, 0.5);
}

TEST(Seeds, D_Fetch_ThreeUrlsAtOnce) {
  SeedRun r = run_seed("d_fetch");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  const std::string url = "http://127\\.0\\.0\\.1:\\d+/";
  expect_lines(r.out_lines(), {"re:Starting " + url, "re:Starting " + url, "re:Starting " + url,
                               "re:" + url + ": 36 bytes: <!doctype html><title>Google</title>",
                               "re:" + url + ": 42 bytes: <!DOCTYPE html><title>Яндекс</title>",
                               "re:" + url + ": 51 bytes: <!doctype html><title>Welcome to Python\\.org</title>"});
  EXPECT_DOUBLE_EQ(r.elapsed, 0.5);  // three fetches at once: one latency
}

// --- the HTTP seeds (issue 5), against the local services (examples/http/)

const std::vector<std::string> kWeatherLines = {
    "Moscow: Clouds",   "St. Petersburg: Snow", "Rostov-on-Don: Clear", "Kaliningrad: Rain",
    "Vladivostok: Clear", "Minsk: Mist",        "Beijing: Haze",        "Delhi: Smoke",
    "Istanbul: Clouds", "Tokyo: Clear",         "London: Drizzle",      "New York: Clouds"};

std::vector<std::string> between_times(const std::vector<std::string>& weather) {
  std::vector<std::string> lines = {kTime};
  lines.insert(lines.end(), weather.begin(), weather.end());
  lines.push_back(kTime);
  return lines;
}

TEST(Seeds, A5_2_TwelveCitiesAtOnceTakeOneLatency) {
  SeedRun r = run_seed("a5_2");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  // Every answer comes after the same latency: they complete in the order asked.
  expect_lines(r.out_lines(), between_times(kWeatherLines));
  EXPECT_DOUBLE_EQ(r.elapsed, 1.0);
  EXPECT_EQ(r.err, "");
}

TEST(Seeds, A5_3_BlockingOneAfterAnotherTakesTwelveLatencies) {
  // Blocking calls: real time, with a short latency.
  const auto t0 = std::chrono::steady_clock::now();
  SeedRun r = run_seed("a5_3", {"--latency", "0.05"}, false);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), between_times(kWeatherLines));
  EXPECT_GE(took, 12 * 0.05);
}

TEST(Seeds, A5_4_GatherReturnsTheLinesInTheCitiesOrder) {
  SeedRun r = run_seed("a5_4", {"--latency", "0.3"});
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), between_times(kWeatherLines));
  EXPECT_DOUBLE_EQ(r.elapsed, 0.3);
}

TEST(Seeds, B_Compare_PoolOfBlockingWorkersThenOneSessionWithGather) {
  SeedRun r = run_seed("b_compare", {"--latency", "0.02", "--counts", "1,10,50"}, false);
  ASSERT_TRUE(r.exited_ok()) << r.err;
  const std::string n = R"(\d+\.\d+(e-\d+)?)";
  expect_lines(r.out_lines(), {"re:Получено 1 результатов запроса за " + n + " секунд",
                               "re:Получено 10 результатов запроса за " + n + " секунд",
                               "re:Получено 50 результатов запроса за " + n + " секунд", "",
                               "re:Получено 1 результатов запроса за " + n + " секунд",
                               "re:Получено 10 результатов запроса за " + n + " секунд",
                               "re:Получено 50 результатов запроса за " + n + " секунд"});
  auto seconds = [&r](std::size_t line) {
    const std::string l = r.out_lines().at(line);
    const std::size_t at = l.find("за ") + std::string("за ").size();
    return std::stod(l.substr(at));
  };
  // 50 blocking requests over one worker per core wait at least 50 / cores latencies;
  // 50 at once over one session about one.
  const double cores = std::max(1u, std::thread::hardware_concurrency());
  EXPECT_GE(seconds(2), 50 / cores * 0.02);
  EXPECT_LT(seconds(6), seconds(2));
}

const std::vector<std::string> kSites = {"google.com",    "yahoo.com",    "linkedin.com", "apple.com",
                                         "microsoft.com", "facebook.com", "twitter.com"};

TEST(Seeds, C_Ex5_TwoGeneratorWorkersBlockOnEachRequest) {
  SeedRun r = run_seed("c_ex5", {"--latency", "0.05"}, false);
  ASSERT_TRUE(r.exited_ok()) << r.err;
  std::vector<std::string> expected;
  for (std::size_t i = 0; i < kSites.size(); ++i) {
    const std::string who = i % 2 == 0 ? "One" : "Two";
    expected.push_back("Task " + who + " getting URL: http://" + kSites[i]);
    expected.push_back("re:Task " + who + " elapsed time: \\d+\\.\\d");
  }
  expected.push_back("");
  expected.push_back("re:Total elapsed time: \\d+\\.\\d");
  expect_lines(r.out_lines(), expected);
  const std::string total = r.out_lines().back();
  EXPECT_GE(std::stod(total.substr(total.rfind(' ') + 1)), 0.3);  // seven latencies of 0.05 s, rounded
}

TEST(Seeds, C_Ex6_TwoTasksShareTheQueueAndTheWaitsOverlap) {
  SeedRun r = run_seed("c_ex6");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  expect_lines(r.out_lines(), {"Task One getting URL: http://google.com", "Task Two getting URL: http://yahoo.com",
                               "Task One elapsed time: 0.5", "Task One getting URL: http://linkedin.com",
                               "Task Two elapsed time: 0.5", "Task Two getting URL: http://apple.com",
                               "Task One elapsed time: 0.5", "Task One getting URL: http://microsoft.com",
                               "Task Two elapsed time: 0.5", "Task Two getting URL: http://facebook.com",
                               "Task One elapsed time: 0.5", "Task One getting URL: http://twitter.com",
                               "Task Two elapsed time: 0.5", "Task One elapsed time: 0.5", "",
                               "Total elapsed time: 2.0"});
  EXPECT_DOUBLE_EQ(r.elapsed, 2.0);  // four rounds of 0.5 s, where c.ex5 waits seven
}

TEST(Seeds, E_Areq_CrawlsThePagesWritesTheLinksAndLogsThe404) {
  char dir_template[] = "/tmp/aio-areq-XXXXXX";
  const std::string dir = ::mkdtemp(dir_template);
  const std::string out = dir + "/foundurls.txt";
  SeedRun r = run_seed("e_areq", {"--out", out});
  ASSERT_TRUE(r.exited_ok()) << r.err;
  EXPECT_DOUBLE_EQ(r.elapsed, 0.5);  // nine pages at once
  const std::string found = slurp(out);
  std::remove(out.c_str());
  ::rmdir(dir.c_str());
  std::vector<std::string> lines;
  std::istringstream in(found);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 1u + 8 * 5) << found;  // the header, five links from each of 8 pages
  EXPECT_EQ(lines[0], "source_url\tparsed_url");
  const std::string url = "http://127\\.0\\.0\\.1:\\d+";
  // Page 1 links to 2, 6, an external page, a missing one and itself, made absolute.
  expect_lines({lines.begin() + 1, lines.begin() + 6},
               {"re:" + url + "/page/1\t" + url + "/missing/1", "re:" + url + "/page/1\t" + url + "/page/1",
                "re:" + url + "/page/1\t" + url + "/page/2", "re:" + url + "/page/1\t" + url + "/page/6",
                "re:" + url + "/page/1\thttp://example\\.com/ext/1"});
  const std::vector<std::string> err = r.err_lines();
  EXPECT_EQ(std::count_if(err.begin(), err.end(),
                          [](const std::string& l) { return l.find("INFO:areq: Got response [200] for URL: ") != std::string::npos; }),
            8);
  EXPECT_EQ(std::count_if(err.begin(), err.end(),
                          [](const std::string& l) { return l.find("INFO:areq: Wrote results for source URL: ") != std::string::npos; }),
            8);
  expect_lines({err.begin(), err.begin() + 1},
               {"re:\\d\\d:\\d\\d:\\d\\d ERROR:areq: aiohttp exception for " + url + "/missing/rfc2616\\.txt \\[404\\]: Not Found"});
}

std::vector<std::string> reddit_block(const std::string& sub) {
  std::vector<std::string> lines;
  for (int i = 0; i < 5; ++i) {
    const std::string n = std::to_string(i + 1);
    lines.push_back(std::to_string(100 - 17 * i + static_cast<int>(sub.size())) + ": Top post " + n + " of r/" + sub +
                    " (http://example.com/" + sub + "/" + n + ")");
  }
  lines.push_back("DONE: " + sub);
  lines.push_back("");
  return lines;
}

TEST(Seeds, S1_Reddit_ThreeSubredditsAtOnceEachBlockWhenItsAnswerComes) {
  SeedRun r = run_seed("s1_reddit", {"--until-done"});
  ASSERT_TRUE(r.exited_ok()) << r.err;
  std::vector<std::string> expected;
  for (const char* sub : {"python", "programming", "compsci"}) {
    const auto block = reddit_block(sub);
    expected.insert(expected.end(), block.begin(), block.end());
  }
  expect_lines(r.out_lines(), expected);
  EXPECT_DOUBLE_EQ(r.elapsed, 0.5);
}

TEST(Seeds, S1_Reddit_RunsForeverUntilCtrlC) {
  char dir_template[] = "/tmp/aio-reddit-XXXXXX";
  const std::string dir = ::mkdtemp(dir_template);
  const std::string out = dir + "/out";
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(fd, 1);
    ::execl(seed_path("s1_reddit").c_str(), "s1_reddit", "--latency", "0.01", static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  // Wait (bounded) for the three blocks, then Ctrl+C.
  auto blocks = [&out] {
    const std::string text = slurp(out);
    int n = 0;
    for (std::size_t at = 0; (at = text.find("DONE: ", at)) != std::string::npos; ++at) ++n;
    return n;
  };
  for (int i = 0; i < 2000 && blocks() < 3; ++i) ::usleep(5000);
  const std::string text = slurp(out);
  ::kill(pid, SIGINT);
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::remove(out.c_str());
  ::rmdir(dir.c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_NE(text.find("DONE: python"), std::string::npos) << text;
  EXPECT_NE(text.find("DONE: programming"), std::string::npos) << text;
  EXPECT_NE(text.find("DONE: compsci"), std::string::npos) << text;
}

TEST(Seeds, S4_Scrape_ThreePagesUnderGatherWithOneSession) {
  SeedRun r = run_seed("s4_scrape");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  const std::string url = "http://127\\.0\\.0\\.1:\\d+/page/";
  expect_lines(r.out_lines(), {"re:Scraping " + url + "1", "re:Scraping " + url + "2", "re:Scraping " + url + "3",
                               "re:" + url + "1 -> 255", "re:" + url + "2 -> 255", "re:" + url + "3 -> 255"});
  EXPECT_DOUBLE_EQ(r.elapsed, 0.5);
}

TEST(Seeds, S2_Asleep_FiveThreadsSleepSideBySide) {
  SeedRun r = run_seed("s2_asleep");
  ASSERT_TRUE(r.exited_ok()) << r.err;
  std::vector<std::string> lines = r.out_lines();
  // The threads finish in any order, and each prints after handing the loop its
  // resolver, so main's last line may come before the last of theirs (in Python too).
  std::sort(lines.begin(), lines.end());
  expect_lines(lines, {"", "", "", "", "", "Sleeping completed in Thread-1 (sync_sleep)",
                       "Sleeping completed in Thread-2 (sync_sleep)", "Sleeping completed in Thread-3 (sync_sleep)",
                       "Sleeping completed in Thread-4 (sync_sleep)", "Sleeping completed in Thread-5 (sync_sleep)",
                       "main program exiting after running for 5.0"});
  EXPECT_DOUBLE_EQ(r.elapsed, 5.0);  // five 5 s sleeps on five threads: 5 s, not 25
}

// f.exec, f.shell: the child writes to the seed's stdout and may outlive the seed
// (asyncio does not wait for it either). Read the pipe to EOF, which comes once every
// writer, the seed and its child, is gone; stderr goes into it too, to show it is empty.
SeedRun run_seed_to_eof(const std::string& id) {
  SeedRun run;
  FILE* p = ::popen(("AIO_CLOCK=virtual " + seed_path(id) + " 2>&1").c_str(), "r");
  if (p == nullptr) return run;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) run.out.append(buf, n);
  run.status = ::pclose(p);
  return run;
}

TEST(Seeds, F_Exec_EchoRunsAsASubprocess) {
  SeedRun r = run_seed_to_eof("f_exec");
  ASSERT_TRUE(r.exited_ok()) << r.out;
  std::vector<std::string> lines = r.out_lines();
  std::sort(lines.begin(), lines.end());  // the child and the seed print in either order
  expect_lines(lines, {"Hello World", "re:subprocess: <Process \\d+>"});
}

TEST(Seeds, F_Shell_EchoRunsThroughTheShell) {
  SeedRun r = run_seed_to_eof("f_shell");
  ASSERT_TRUE(r.exited_ok()) << r.out;
  std::vector<std::string> lines = r.out_lines();
  std::sort(lines.begin(), lines.end());
  expect_lines(lines, {"Hello World", "re:subprocess: <Process \\d+>"});
}

}  // namespace
}  // namespace aio::test
