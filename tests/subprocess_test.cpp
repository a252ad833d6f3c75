// Child processes against real programs (/bin/sh, cat, yes, echo, true, false). On
// the real clock; wait_for bounds only a hang. Each test ends by checking that no
// child of this process is left a zombie.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/aio_test.hpp"

namespace aio {
namespace {

constexpr double kBound = 30;  // seconds: only a hung test reaches it

// The children of this process and their states ('Z': zombie), from /proc.
std::vector<std::pair<int, char>> children() {
  std::vector<std::pair<int, char>> out;
  DIR* d = ::opendir("/proc");
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    const int pid = std::atoi(e->d_name);
    if (pid <= 0) continue;
    // A process may end between readdir and the read (ESRCH, thrown by the filebuf):
    // it is gone, not a child left behind.
    std::string stat;
    try {
      std::ifstream in("/proc/" + std::string(e->d_name) + "/stat");
      stat.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    } catch (const std::exception&) {
      continue;
    }
    const auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    char state = 0;
    int ppid = 0;
    rest >> state >> ppid;
    if (ppid == ::getpid()) out.emplace_back(pid, state);
  }
  ::closedir(d);
  return out;
}

int zombies() {
  int n = 0;
  for (auto [pid, state] : children()) n += state == 'Z';
  return n;
}

// Every test: no zombie left, and nothing left for waitpid to reap.
class Subprocess : public ::testing::Test {
 protected:
  void TearDown() override {
    EXPECT_EQ(zombies(), 0);
    int status;
    EXPECT_EQ(::waitpid(-1, &status, WNOHANG), -1);
    EXPECT_EQ(errno, ECHILD);
  }
};

// The same tests again with the SIGCHLD watcher instead of pidfds.
class SubprocessSigchld : public Subprocess {
 protected:
  void SetUp() override { ::setenv("AIO_CHILD_WATCHER", "sigchld", 1); }
  void TearDown() override {
    ::unsetenv("AIO_CHILD_WATCHER");
    Subprocess::TearDown();
  }
};

template <class T>
T run_real(Coro<T> coro) {
  return aio::run(std::move(coro));
}

Coro<> exec_and_shell_read_stdout() {
  Process p = co_await create_subprocess_exec("echo", "Hello World", SubprocessOptions{.stdout = PIPE});
  EXPECT_GT(p.pid(), 0);
  EXPECT_EQ(p.repr(), "<Process " + std::to_string(p.pid()) + ">");
  EXPECT_FALSE(p.stdin.has_value());
  EXPECT_FALSE(p.stderr.has_value());
  CO_ASSERT_TRUE(p.stdout.has_value());
  EXPECT_EQ(co_await wait_for(p.stdout->read(), kBound), "Hello World\n");
  EXPECT_EQ(co_await wait_for(p.wait(), kBound), 0);
  EXPECT_EQ(p.returncode(), 0);

  Process s = co_await create_subprocess_shell("echo one; echo two >&2; exit 3",
                                               {.stdout = PIPE, .stderr = PIPE});
  auto [out, err] = co_await wait_for(s.communicate(), kBound);
  EXPECT_EQ(out, "one\n");
  EXPECT_EQ(err, "two\n");
  EXPECT_EQ(s.returncode(), 3);
}

TEST_F(Subprocess, ExecAndShellReadStdout) { run_real(exec_and_shell_read_stdout()); }
TEST_F(SubprocessSigchld, ExecAndShellReadStdout) { run_real(exec_and_shell_read_stdout()); }

// Which watcher reaps: with pidfds, SIGCHLD keeps its default disposition; the
// SIGCHLD watcher installs its handler and blocks the signal in the loop's thread.
Coro<bool> sigchld_watched_while_running() {
  Process p = co_await create_subprocess_exec("cat", {}, {.stdin = PIPE});
  struct sigaction sa {};
  ::sigaction(SIGCHLD, nullptr, &sa);
  sigset_t blocked;
  ::pthread_sigmask(SIG_BLOCK, nullptr, &blocked);
  const bool watched = (sa.sa_flags & SA_SIGINFO) && sigismember(&blocked, SIGCHLD);
  p.stdin->close();
  EXPECT_EQ(co_await wait_for(p.wait(), kBound), 0);
  co_return watched;
}

TEST_F(Subprocess, PidfdWatcherLeavesSigchldAlone) { EXPECT_FALSE(run_real(sigchld_watched_while_running())); }
TEST_F(SubprocessSigchld, SigchldWatcherIsUsed) { EXPECT_TRUE(run_real(sigchld_watched_while_running())); }

Coro<> return_codes() {
  Process t = co_await create_subprocess_exec("true");
  EXPECT_EQ(t.returncode(), std::nullopt);
  EXPECT_EQ(co_await wait_for(t.wait(), kBound), 0);
  Process f = co_await create_subprocess_exec("false");
  EXPECT_EQ(co_await wait_for(f.wait(), kBound), 1);
  Process s = co_await create_subprocess_shell("exit 42");
  EXPECT_EQ(co_await wait_for(s.wait(), kBound), 42);
  // Waiting again gives the same code at once.
  EXPECT_EQ(co_await s.wait(), 42);
}

TEST_F(Subprocess, ReturnCodes) { run_real(return_codes()); }
TEST_F(SubprocessSigchld, ReturnCodes) { run_real(return_codes()); }

// SIGCHLD may go to a worker thread made before the watcher: it is forwarded.
Coro<> reaps_with_workers() {
  co_await to_thread([] {});
  for (int i = 0; i < 5; ++i) {
    Process p = co_await create_subprocess_exec("true");
    EXPECT_EQ(co_await wait_for(p.wait(), kBound), 0);
  }
}

TEST_F(Subprocess, ReapsWhileExecutorThreadsExist) { run_real(reaps_with_workers()); }
TEST_F(SubprocessSigchld, ReapsWhileExecutorThreadsExist) { run_real(reaps_with_workers()); }

Coro<> stdin_to_cat_and_back() {
  Process p = co_await create_subprocess_exec("cat", {}, {.stdin = PIPE, .stdout = PIPE});
  CO_ASSERT_TRUE(p.stdin && p.stdout);
  p.stdin->write("line 1\n");
  co_await p.stdin->drain();
  EXPECT_EQ(co_await wait_for(p.stdout->readline(), kBound), "line 1\n");
  p.stdin->write("line 2\n");
  p.stdin->write_eof();
  EXPECT_EQ(co_await wait_for(p.stdout->read(), kBound), "line 2\n");
  EXPECT_EQ(co_await wait_for(p.wait(), kBound), 0);
}

TEST_F(Subprocess, StdinToCatAndBack) { run_real(stdin_to_cat_and_back()); }

TEST_F(Subprocess, StderrToStdoutMerges) {
  run_real([]() -> Coro<> {
    Process p = co_await create_subprocess_shell("echo out; echo err >&2", {.stdout = PIPE, .stderr = STDOUT});
    EXPECT_FALSE(p.stderr.has_value());
    auto [out, err] = co_await wait_for(p.communicate(), kBound);
    EXPECT_EQ(out, "out\nerr\n");
    EXPECT_EQ(err, std::nullopt);
  }());
}

TEST_F(Subprocess, DevnullAndADescriptor) {
  run_real([]() -> Coro<> {
    // DEVNULL: cat reads EOF at once and writes nowhere.
    Process p = co_await create_subprocess_exec("cat", {}, {.stdin = DEVNULL, .stdout = DEVNULL});
    EXPECT_EQ(co_await wait_for(p.wait(), kBound), 0);
    // A descriptor of ours: the child writes into our file.
    std::string path = "/tmp/aio-subprocess-XXXXXX";  // not a char array: g++ 12 cannot copy one into a frame
    const int fd = ::mkstemp(path.data());
    CO_ASSERT_TRUE(fd >= 0);
    Process q = co_await create_subprocess_exec("echo", "into the file", SubprocessOptions{.stdout = fd});
    EXPECT_EQ(co_await wait_for(q.wait(), kBound), 0);
    ::close(fd);
    std::ifstream in(path);
    std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(got, "into the file\n");
    ::unlink(path.c_str());
  }());
}

TEST_F(Subprocess, LimitBoundsThePipeReaders) {
  run_real([]() -> Coro<> {
    // A 40-byte line through a reader limited to 16 bytes: readline's ValueError.
    std::vector<std::string> args{"-c", "40", "/dev/zero"};  // named: g++ 12 and literals inside co_await
    Process p = co_await create_subprocess_exec("head", args, {.stdout = PIPE, .limit = 16});
    EXPECT_EQ(p.stdout->limit(), 16u);
    EXPECT_THROW(co_await wait_for(p.stdout->readline(), kBound), ValueError);
    EXPECT_EQ(co_await wait_for(p.wait(), kBound), 0);
  }());
}

TEST_F(Subprocess, CwdAndEnv) {
  run_real([]() -> Coro<> {
    const std::map<std::string, std::string> env{{"AIO_X", "forty two"}};
    SubprocessOptions options{.stdout = PIPE, .cwd = "/tmp", .env = &env};
    Process p = co_await create_subprocess_shell("pwd; echo \"$AIO_X\"; echo \"${HOME:-unset}\"", options);
    auto [out, err] = co_await wait_for(p.communicate(), kBound);
    EXPECT_EQ(out, "/tmp\nforty two\nunset\n");
  }());
}

TEST_F(Subprocess, OptionsMadeInsideCoAwaitWithALongCwd) {
  // The options struct made in the co_await expression itself, with a directory name
  // longer than a short string: the struct owns nothing, so g++ 12 (which destroys
  // such a temporary twice) cannot free it twice.
  char dir[] = "/tmp/aio-subprocess-long-cwd-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string where = dir;
  run_real([](std::string cwd) -> Coro<> {
    Process p = co_await create_subprocess_shell("pwd", SubprocessOptions{.stdout = PIPE, .cwd = cwd});
    auto [out, err] = co_await wait_for(p.communicate(), kBound);
    EXPECT_EQ(out, cwd + "\n");
  }(where));
  ::rmdir(dir);
}

TEST_F(Subprocess, OnlyStandardStreamsAreInherited) {
  run_real([]() -> Coro<> {
    // What this process holds without close-on-exec (from whoever started it) is
    // inherited; nothing of ours is: not the loop's epoll and eventfd, not the pipes.
    std::set<std::string> expected{"0", "1", "2"};
    for (int fd = 3; fd < 1024; ++fd) {
      const int flags = ::fcntl(fd, F_GETFD);
      if (flags >= 0 && !(flags & FD_CLOEXEC)) expected.insert(std::to_string(fd));
    }
    Process p = co_await create_subprocess_exec("ls", "/proc/self/fd", SubprocessOptions{.stdout = PIPE});
    auto [out, err] = co_await wait_for(p.communicate(), kBound);
    std::set<std::string> got;
    std::istringstream lines(*out);
    for (std::string line; std::getline(lines, line);) got.insert(line);
    // ls's own descriptor for the listing is the one extra entry.
    std::vector<std::string> extra;
    for (const std::string& fd : got) {
      if (!expected.count(fd)) extra.push_back(fd);
    }
    EXPECT_EQ(extra.size(), 1u) << *out;
    for (const std::string& fd : expected) EXPECT_TRUE(got.count(fd)) << fd;
  }());
}

TEST_F(Subprocess, ProgramNotFoundRaisesNamingIt) {
  run_real([]() -> Coro<> {
    try {
      co_await create_subprocess_exec("aio-no-such-program", "x");
      ADD_FAILURE() << "no exception";
    } catch (const FileNotFoundError& e) {
      EXPECT_EQ(e.code().value(), ENOENT);
      EXPECT_STREQ(e.what(), "[Errno 2] program 'aio-no-such-program': No such file or directory");
    }
    try {
      co_await create_subprocess_exec("/etc/passwd");
      ADD_FAILURE() << "no exception";
    } catch (const PermissionError& e) {
      EXPECT_STREQ(e.what(), "[Errno 13] program '/etc/passwd': Permission denied");
    }
    try {
      SubprocessOptions options{.cwd = "/aio-no-such-dir"};
      co_await create_subprocess_exec("true", {}, options);
      ADD_FAILURE() << "no exception";
    } catch (const FileNotFoundError& e) {
      EXPECT_STREQ(e.what(), "[Errno 2] cwd '/aio-no-such-dir': No such file or directory");
    }
    EXPECT_THROW(co_await create_subprocess_exec("cat", {}, {.stdout = STDOUT}), ValueError);
  }());
}

TEST_F(Subprocess, AVirtualClockWaitsForTheChild) {
  // The child is real work: the loop's virtual clock does not jump to the timeout
  // while a wait() is in progress.
  test::VirtualLoop vl;
  vl.run([]() -> Coro<> {
    std::vector<std::string> args{"-c", "1"};  // named: g++ 12 and literals inside co_await
    Process p = co_await create_subprocess_exec("head", args, {.stdin = PIPE});
    p.stdin->write("x");
    EXPECT_EQ(co_await wait_for(p.wait(), 5), 0);
  }());
  EXPECT_EQ(vl.now(), 0.0);
}

// The same on the process clock (AIO_CLOCK=virtual), which is chosen at start: the
// test runs itself again with it.
TEST_F(Subprocess, TheVirtualProcessClockWaitsForTheChild) {
  const char* clock = std::getenv("AIO_CLOCK");
  if (clock != nullptr && std::string(clock) == "virtual") {
    double elapsed = -1;
    aio::run([&elapsed]() -> Coro<> {
      std::vector<std::string> args{"-c", "1"};
      Process p = co_await create_subprocess_exec("head", args, {.stdin = PIPE});
      p.stdin->write("x");
      EXPECT_EQ(co_await wait_for(p.wait(), 5), 0);
      elapsed = get_running_loop().time();
    }());
    EXPECT_LT(elapsed, 1.0);  // did not jump to the 5 s timeout
    return;
  }
  run_real([]() -> Coro<> {
    const std::string self = std::filesystem::read_symlink("/proc/self/exe");
    std::map<std::string, std::string> env{{"AIO_CLOCK", "virtual"}};
    if (const char* path = std::getenv("PATH")) env["PATH"] = path;
    SubprocessOptions options{.stdout = PIPE, .stderr = STDOUT};
    options.env = &env;
    std::vector<std::string> args{"--gtest_filter=Subprocess.TheVirtualProcessClockWaitsForTheChild"};
    Process p = co_await create_subprocess_exec(self, args, options);
    auto [out, err] = co_await wait_for(p.communicate(), kBound);
    EXPECT_EQ(p.returncode(), 0) << *out;
    EXPECT_NE(out->find("[  PASSED  ] 1 test."), std::string::npos) << *out;
  }());
}

TEST_F(Subprocess, ABadDescriptorIsAnOSError) {
  run_real([]() -> Coro<> {
    EXPECT_THROW(co_await create_subprocess_exec("true", {}, {.stdout = 987654}), OSError);
  }());
}

Coro<> communicate_megabytes() {
  // 4 MiB through cat, and 4 MiB on stderr at the same time: no deadlock although
  // every pipe fills many times over.
  std::string input;
  for (int i = 0; input.size() < 4 * 1024 * 1024; ++i) input += "line " + std::to_string(i) + "\n";
  Process p = co_await create_subprocess_shell("cat; head -c 4194304 /dev/zero >&2",
                                               {.stdin = PIPE, .stdout = PIPE, .stderr = PIPE});
  auto [out, err] = co_await wait_for(p.communicate(input), kBound);
  EXPECT_TRUE(out == input);
  EXPECT_EQ(out->size(), input.size());
  EXPECT_EQ(err->size(), 4194304u);
  EXPECT_EQ(p.returncode(), 0);
}

TEST_F(Subprocess, CommunicateMegabytesWithoutDeadlock) { run_real(communicate_megabytes()); }
TEST_F(SubprocessSigchld, CommunicateMegabytesWithoutDeadlock) { run_real(communicate_megabytes()); }

TEST_F(Subprocess, CommunicateIgnoresABrokenStdin) {
  run_real([]() -> Coro<> {
    // `true` never reads: the write fails with EPIPE, which communicate ignores.
    Process p = co_await create_subprocess_exec("true", {}, {.stdin = PIPE, .stdout = PIPE});
    auto [out, err] = co_await wait_for(p.communicate(std::string(1 << 20, 'x')), kBound);
    EXPECT_EQ(out, "");
    EXPECT_EQ(p.returncode(), 0);
  }());
}

TEST_F(Subprocess, ReadSomeOfYesThenKill) {
  run_real([]() -> Coro<> {
    Process p = co_await create_subprocess_exec("yes", {}, {.stdout = PIPE});
    for (int i = 0; i < 10; ++i) EXPECT_EQ(co_await wait_for(p.stdout->readline(), kBound), "y\n");
    EXPECT_EQ(p.returncode(), std::nullopt);
    p.kill();
    EXPECT_EQ(co_await wait_for(p.wait(), kBound), -SIGKILL);
    // Signalling a reaped process is not an error, as in asyncio.
    p.kill();
    p.terminate();
    p.send_signal(SIGUSR1);
  }());
}

Coro<> killed_by_signals() {
  Process a = co_await create_subprocess_shell("kill -9 $$");
  EXPECT_EQ(co_await wait_for(a.wait(), kBound), -9);
  Process b = co_await create_subprocess_shell("kill -TERM $$");
  EXPECT_EQ(co_await wait_for(b.wait(), kBound), -15);
  Process c = co_await create_subprocess_exec("cat", {}, {.stdin = PIPE});
  c.terminate();
  EXPECT_EQ(co_await wait_for(c.wait(), kBound), -SIGTERM);
  Process d = co_await create_subprocess_exec("cat", {}, {.stdin = PIPE});
  d.send_signal(SIGUSR1);
  EXPECT_EQ(co_await wait_for(d.wait(), kBound), -SIGUSR1);
  // SIGPIPE is back to its default in the child although the loop ignores it: a
  // writer to a closed pipe dies of it.
  Process e = co_await create_subprocess_exec("yes", {}, {.stdout = PIPE});
  e.stdout.reset();  // the read end goes
  EXPECT_EQ(co_await wait_for(e.wait(), kBound), -SIGPIPE);
}

TEST_F(Subprocess, KilledBySignalsGivesMinusTheSignal) { run_real(killed_by_signals()); }
TEST_F(SubprocessSigchld, KilledBySignalsGivesMinusTheSignal) { run_real(killed_by_signals()); }

TEST_F(Subprocess, SignalMaskIsClearedInTheChild) {
  run_real([]() -> Coro<> {
    // The loop blocks the signals it handles and ignores SIGPIPE; the child gets
    // neither (what the starter of this process ignores is inherited, as in Python).
    get_running_loop().add_signal_handler(SIGUSR1, [] {});
    Process p = co_await create_subprocess_shell("grep -E '^Sig(Blk|Ign)' /proc/self/status", {.stdout = PIPE});
    auto [out, err] = co_await wait_for(p.communicate(), kBound);
    std::istringstream in(*out);
    std::string label, blk, ign;
    in >> label >> blk >> label >> ign;
    EXPECT_EQ(blk, "0000000000000000");
    const unsigned long long ignored = std::stoull(ign, nullptr, 16);
    EXPECT_EQ(ignored & (1ull << (SIGPIPE - 1)), 0u) << ign;
    EXPECT_EQ(ignored & (1ull << (SIGUSR1 - 1)), 0u) << ign;
    EXPECT_TRUE(get_running_loop().remove_signal_handler(SIGUSR1));
  }());
}

Coro<> two_waiters() {
  Process p = co_await create_subprocess_exec("cat", {}, {.stdin = PIPE});
  auto waiter = [](Process q) -> Coro<int> { co_return co_await q.wait(); };
  Task<int> a = create_task(waiter(p));
  Task<int> b = create_task(waiter(p));
  co_await sleep(0);
  p.stdin->close();  // cat sees EOF and exits
  auto [ra, rb] = co_await wait_for(gather(a, b), kBound);
  EXPECT_EQ(ra, 0);
  EXPECT_EQ(rb, 0);
}

TEST_F(Subprocess, WaitAwaitedByTwoTasks) { run_real(two_waiters()); }
TEST_F(SubprocessSigchld, WaitAwaitedByTwoTasks) { run_real(two_waiters()); }

Coro<> cancelled_waits() {
  Process p = co_await create_subprocess_exec("cat", {}, {.stdin = PIPE, .stdout = PIPE});
  Task<int> w = create_task(p.wait());
  co_await sleep(0);
  w.cancel();
  EXPECT_THROW(co_await w, CancelledError);
  auto comm = p.communicate("abc");
  Task<std::pair<std::optional<std::string>, std::optional<std::string>>> c = create_task(std::move(comm));
  co_await sleep(0);
  c.cancel();
  EXPECT_THROW(co_await c, CancelledError);
  EXPECT_EQ(p.returncode(), std::nullopt);
  // The process is still there and reapable.
  p.kill();
  EXPECT_EQ(co_await wait_for(p.wait(), kBound), -SIGKILL);
}

TEST_F(Subprocess, CancelledWaitAndCommunicateLeaveItReapable) { run_real(cancelled_waits()); }
TEST_F(SubprocessSigchld, CancelledWaitAndCommunicateLeaveItReapable) { run_real(cancelled_waits()); }

Coro<> dropped_is_reaped() {
  int pid;
  {
    Process p = co_await create_subprocess_exec("true");
    pid = p.pid();
  }
  // Nobody waits; the loop reaps it when it exits. Wait by watching it go.
  for (int i = 0; i < 3000 && ::kill(pid, 0) == 0; ++i) co_await sleep(0.01);
  EXPECT_EQ(::kill(pid, 0), -1);
  EXPECT_EQ(zombies(), 0);
}

TEST_F(Subprocess, DroppedProcessIsReaped) { run_real(dropped_is_reaped()); }
TEST_F(SubprocessSigchld, DroppedProcessIsReaped) { run_real(dropped_is_reaped()); }

void running_at_close() {
  // A child still running when the loop closes keeps running; once it exits a thread
  // reaps it: no zombie.
  std::optional<Process> kept;
  {
    aio::run([&kept]() -> Coro<> {
      kept = co_await create_subprocess_exec("cat", {}, {.stdin = PIPE});
    }());
  }
  const int pid = kept->pid();
  EXPECT_EQ(::kill(pid, 0), 0);  // cat still runs: we hold its stdin
  EXPECT_EQ(kept->returncode(), std::nullopt);
  EXPECT_THROW(kept->kill(), ProcessLookupError);
  kept.reset();  // its stdin closes: cat exits
  for (int i = 0; i < 3000 && ::kill(pid, 0) == 0; ++i) ::usleep(10000);
  EXPECT_EQ(::kill(pid, 0), -1);
}

TEST_F(Subprocess, RunningAtLoopCloseIsReapedLater) { running_at_close(); }
TEST_F(SubprocessSigchld, RunningAtLoopCloseIsReapedLater) { running_at_close(); }

}  // namespace
}  // namespace aio
