// Child processes: spawning with posix_spawn, Process, communicate.
#include "aio/subprocess.hpp"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>


#include "aio/clock.hpp"
#include "aio/detail/virtual_time.hpp"
#include "aio/events.hpp"
#include "aio/gather.hpp"
#include "aio/protocols.hpp"
#include "aio/socket.hpp"
#include "aio/tasks.hpp"
#include "run_or_drop.hpp"
#include "unix_events.hpp"

extern char** environ;

namespace aio {
namespace detail {
namespace {

// A descriptor closed when it goes out of scope, unless released.
struct Fd {
  int fd = -1;
  Fd() = default;
  Fd(Fd&& o) noexcept : fd(o.release()) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int release() noexcept { return std::exchange(fd, -1); }
  void reset() noexcept {
    if (fd >= 0) ::close(release());
  }
};

std::string py_quote(const std::string& s) { return "'" + s + "'"; }

// A failed spawn, naming the program (or the working directory) in Python's OSError
// subclass for it: "[Errno 2] program 'nosuch': No such file or directory".
[[noreturn]] void throw_spawn_error(int err, const std::string& what, const std::string& name) {
  throw_os_error(err, what + " " + py_quote(name));
}

// A virtual clock must not jump past a child that someone waits for: like an executor
// call, it is real work in flight. On the loop's own clock that is an executor job; on
// the process clock (AIO_CLOCK=virtual) the child also counts as a busy thread.
struct RealWork {
  EventLoop& loop;
  const bool process_time = process_clock_is_virtual() && &loop.clock() == process_clock().get();
  explicit RealWork(EventLoop& l) noexcept : loop(l) {
    loop.executor_job_started();
    if (process_time) add_parked_threads(-1);
  }
  ~RealWork() {
    if (process_time) add_parked_threads(1);
    loop.executor_job_ended();
  }
  RealWork(const RealWork&) = delete;
  RealWork& operator=(const RealWork&) = delete;
};

Coro<std::optional<std::string>> feed_stdin(std::optional<StreamWriter> w, std::optional<std::string> input) {
  if (!w) co_return std::nullopt;
  if (input && !input->empty()) {
    w->write(*input);
    try {
      co_await w->drain();
    } catch (const BrokenPipeError&) {
      // the child stopped reading: as asyncio, not an error
    } catch (const ConnectionResetError&) {
    }
  }
  w->close();
  co_return std::nullopt;
}

Coro<std::optional<std::string>> read_all(std::optional<StreamReader> r) {
  if (!r) co_return std::nullopt;
  co_return co_await r->read();
}

// The spawn itself, with its own copies of what the options point at.
Coro<Process> spawn_owned(std::vector<std::string> argv, SubprocessOptions o, std::optional<std::string> cwd,
                          std::optional<std::map<std::string, std::string>> env) {
  EventLoop& loop = get_running_loop();
  if (argv.empty() || argv[0].empty()) throw ValueError("the program is empty");
  if (o.stdin == STDOUT || o.stdout == STDOUT) throw ValueError("STDOUT can only be used for stderr");
  for (const std::optional<int>* s : {&o.stdin, &o.stdout, &o.stderr}) {
    if (*s && **s < 0 && **s != PIPE && **s != STDOUT && **s != DEVNULL) {
      throw ValueError("invalid stream: " + std::to_string(**s));
    }
  }
  UnixEvents& events = UnixEvents::of(loop);
  events.prepare_spawn();

  // The child's ends (closed here once it has them) and ours.
  Fd child[3], ours[3], devnull;
  const std::optional<int>* want[3] = {&o.stdin, &o.stdout, &o.stderr};
  int source[3] = {-1, -1, -1};
  for (int i = 0; i < 3; ++i) {
    if (!*want[i]) continue;
    const int w = **want[i];
    if (w == PIPE) {
      int p[2];
      if (::pipe2(p, O_CLOEXEC) < 0) throw_os_error(errno, "pipe");
      child[i].fd = i == 0 ? p[0] : p[1];
      ours[i].fd = i == 0 ? p[1] : p[0];
      source[i] = child[i].fd;
    } else if (w == DEVNULL) {
      if (devnull.fd < 0) {
        devnull.fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        if (devnull.fd < 0) throw_os_error(errno, "open '/dev/null'");
      }
      source[i] = devnull.fd;
    } else if (w >= 0) {
      source[i] = w;
    }
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  struct Cleanup {
    posix_spawn_file_actions_t& a;
    posix_spawnattr_t& b;
    ~Cleanup() {
      posix_spawn_file_actions_destroy(&a);
      posix_spawnattr_destroy(&b);
    }
  } cleanup{actions, attr};
  for (int i = 0; i < 3; ++i) {
    if (source[i] < 0) continue;
    if (const int r = posix_spawn_file_actions_adddup2(&actions, source[i], i); r != 0) {
      throw_os_error(r, "invalid file descriptor " + std::to_string(source[i]) + " for the child's fd " + std::to_string(i));
    }
  }
  if (o.stderr == STDOUT) posix_spawn_file_actions_adddup2(&actions, 1, 2);
  if (cwd) {
    if (const int r = posix_spawn_file_actions_addchdir_np(&actions, cwd->c_str()); r != 0) {
      throw_spawn_error(r, "cwd", *cwd);
    }
  }

  // No signal blocked, and default dispositions for what we ignore or handle (an
  // exec resets caught signals, not ignored ones).
  sigset_t none, defaults;
  sigemptyset(&none);
  defaults = events.handled();
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGXFSZ);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  std::vector<std::string> env_strings;
  std::vector<char*> envp;
  if (env) {
    for (const auto& [k, v] : *env) env_strings.push_back(k + "=" + v);
    for (std::string& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
  }
  pid_t pid = -1;
  // glibc's posix_spawn reports the child's exec (or chdir) error.
  const bool search = argv[0].find('/') == std::string::npos;
  const int err = (search ? ::posix_spawnp : ::posix_spawn)(&pid, argv[0].c_str(), &actions, &attr, args.data(),
                                                            env ? envp.data() : environ);
  if (err != 0) {
    if (cwd && ::access(cwd->c_str(), X_OK) != 0) throw_spawn_error(err, "cwd", *cwd);
    throw_spawn_error(err, "program", argv[0]);
  }

  auto c = std::make_shared<ChildProcess>();
  c->loop = &loop;
  c->pid = pid;
  events.watch_child(c);

  std::optional<StreamWriter> in;
  std::optional<StreamReader> out, errs;
  if (ours[0].fd >= 0) in = open_stream(Socket::from_fd(ours[0].release()), o.limit).second;
  if (ours[1].fd >= 0) out = open_stream(Socket::from_fd(ours[1].release()), o.limit).first;
  if (ours[2].fd >= 0) errs = open_stream(Socket::from_fd(ours[2].release()), o.limit).first;
  co_return Process(std::move(c), std::move(in), std::move(out), std::move(errs));
}

}  // namespace

Coro<Process> spawn_process(std::vector<std::string> argv, SubprocessOptions options) {
  std::optional<std::string> cwd;
  if (options.cwd) cwd.emplace(*options.cwd);
  std::optional<std::map<std::string, std::string>> env;
  if (options.env != nullptr) env.emplace(*options.env);
  return spawn_owned(std::move(argv), options, std::move(cwd), std::move(env));
}

}  // namespace detail

Process::Process(std::shared_ptr<detail::ChildProcess> child, std::optional<StreamWriter> in,
                 std::optional<StreamReader> out, std::optional<StreamReader> err) noexcept
    : stdin(std::move(in)), stdout(std::move(out)), stderr(std::move(err)), c_(std::move(child)) {}

int Process::pid() const noexcept { return c_->pid; }
std::optional<int> Process::returncode() const noexcept { return c_->returncode; }
std::string Process::repr() const { return "<Process " + std::to_string(c_->pid) + ">"; }

Coro<int> Process::wait() {
  auto c = c_;
  if (c->returncode) co_return *c->returncode;
  if (c->abandoned) throw RuntimeError("Event loop is closed");
  Future<int> f = c->loop->create_future<int>();
  c->waiters.push_back(f);
  detail::RealWork busy(*c->loop);
  co_return co_await f;
}

Coro<std::pair<std::optional<std::string>, std::optional<std::string>>> Process::communicate(
    std::optional<std::string> input) {
  Process self = *this;
  detail::RealWork busy(*c_->loop);
  auto results = co_await gather(detail::feed_stdin(self.stdin, std::move(input)), detail::read_all(self.stdout),
                                 detail::read_all(self.stderr));
  co_await self.wait();
  co_return std::pair{std::move(std::get<1>(results)), std::move(std::get<2>(results))};
}

void Process::send_signal(int sig) {
  if (c_->returncode) return;  // reaped: asyncio ignores it too
  if (c_->abandoned) throw ProcessLookupError(ESRCH, "[Errno 3] No such process");
  // Not reaped yet, so the pid cannot have been reused.
  if (::kill(c_->pid, sig) < 0) {
    const int err = errno;
    if (err == ESRCH) throw ProcessLookupError(err, "[Errno 3] No such process");
    detail::throw_os_error(err, "kill(" + std::to_string(c_->pid) + ", " + std::to_string(sig) + ")");
  }
}

void Process::terminate() { send_signal(SIGTERM); }
void Process::kill() { send_signal(SIGKILL); }

// --- the protocol API: loop.subprocess_exec, SubprocessTransport (asyncio's
// base_subprocess.BaseSubprocessTransport). The child's pipes are pipe transports
// (protocols.cpp) whose protocols hand everything on to the SubprocessProtocol.

namespace detail {

struct ProcessAccess {
  static ChildProcess& child(const Process& p) noexcept { return *p.c_; }
};

struct SubprocessLink : std::enable_shared_from_this<SubprocessLink> {
  SubprocessLink(EventLoop& l, Process p, std::shared_ptr<SubprocessProtocol> proto)
      : loop(&l), proc(std::move(p)), protocol(std::move(proto)) {}
  EventLoop* loop;
  Process proc;
  std::shared_ptr<SubprocessProtocol> protocol;  // until connection_lost
  Transport pipes[3];
  bool open[3] = {false, false, false};  // connected, and not lost yet
  std::optional<int> returncode;          // set when process_exited is called
  bool closed = false;
  bool finished = false;                  // connection_lost is on its way
  bool lost = false;                      // connection_lost has run: the child is gone for good

  void pipe_lost(int fd, std::exception_ptr exc) noexcept {
    open[fd] = false;
    if (protocol) {
      try {
        protocol->pipe_connection_lost(fd, std::move(exc));
      } catch (...) {
        report(*loop, "Exception in callback SubprocessProtocol.pipe_connection_lost()", std::current_exception());
      }
    }
    try_finish();
  }

  void exited(int code) noexcept {
    returncode = code;
    if (protocol) {
      try {
        protocol->process_exited();
      } catch (...) {
        report(*loop, "Exception in callback SubprocessProtocol.process_exited()", std::current_exception());
      }
    }
    try_finish();
  }

  // asyncio's _try_finish: connection_lost once the child has exited and every pipe closed.
  void try_finish() noexcept {
    if (!returncode || finished || open[0] || open[1] || open[2]) return;
    finished = true;
    try {
      // When the loop closes with the call queued, the protocol goes all the same.
      loop->call_soon(run_or_drop(
          [self = shared_from_this()] {
            self->lost = true;
            std::shared_ptr<SubprocessProtocol> p = std::move(self->protocol);  // the cycle through the protocol ends
            if (p) p->connection_lost(nullptr);
          },
          [self = shared_from_this()] { self->abandon(); }));
    } catch (...) {
      protocol.reset();  // out of memory: no connection_lost
    }
  }

  // The loop closed first (with the child running, a pipe open, or connection_lost
  // queued): no more calls will come, and the protocol, which usually holds the
  // transport, is let go.
  void abandon() noexcept { protocol.reset(); }

  // asyncio's _check_proc: after connection_lost the process is gone for the transport.
  Process& checked() {
    if (lost) throw ProcessLookupError(ESRCH, "[Errno 3] No such process");
    return proc;
  }

  void close() {
    if (closed) return;
    closed = true;
    for (Transport& t : pipes) {
      if (t) t.close();
    }
    if (!proc.returncode()) {
      try {
        proc.kill();
      } catch (const ProcessLookupError&) {
        // handed to a reaper thread: nothing to kill here
      }
    }
  }
};

namespace {

// A pipe of the child's: hands what it does on to the SubprocessProtocol
// (asyncio's ReadSubprocessPipeProto and WriteSubprocessPipeProto).
struct SubprocessPipe final : Protocol {
  SubprocessPipe(std::shared_ptr<SubprocessLink> l, int f) : link(std::move(l)), fd(f) {}
  SubprocessPipe(const SubprocessPipe&) = delete;
  SubprocessPipe& operator=(const SubprocessPipe&) = delete;
  // Dropped without connection_lost: the loop closed with the pipe open.
  ~SubprocessPipe() override {
    if (link) link->abandon();
  }
  std::shared_ptr<SubprocessLink> link;  // until connection_lost
  int fd;
  void data_received(std::string_view data) override {
    if (link->protocol) link->protocol->pipe_data_received(fd, data);
  }
  void pause_writing() override {
    if (link->protocol) link->protocol->pause_writing();
  }
  void resume_writing() override {
    if (link->protocol) link->protocol->resume_writing();
  }
  void connection_lost(std::exception_ptr exc) override {
    std::shared_ptr<SubprocessLink> l = std::move(link);
    l->pipe_lost(fd, std::move(exc));
  }
};

// Our ends of the child's pipes, and the child's (closed once it has them).
struct PipeEnds {
  Fd ours[3];
  Fd theirs[3];
};

// What the spawn needs, owned: the options point into it.
struct SpawnArgs {
  std::vector<std::string> argv;
  SubprocessOptions options;
  std::optional<std::string> cwd;
  std::optional<std::map<std::string, std::string>> env;
};

Coro<SubprocessTransport> start_subprocess(EventLoop* loop, SubprocessProtocolFactory factory, SpawnArgs args,
                                           PipeEnds ends) {
  if (&get_running_loop() != loop) throw RuntimeError("subprocess_exec() must run on the loop it is given");
  std::shared_ptr<SubprocessProtocol> protocol = factory();  // first, as asyncio
  if (!protocol) throw TypeError("the protocol factory returned no protocol");
  if (args.cwd) args.options.cwd = *args.cwd;
  if (args.env) args.options.env = &*args.env;
  Coro<Process> spawning = spawn_process(std::move(args.argv), args.options);  // named: see below
  Process proc = co_await std::move(spawning);
  for (Fd& fd : ends.theirs) fd.reset();  // the child has them

  auto link = std::make_shared<SubprocessLink>(*loop, proc, std::move(protocol));
  ChildProcess& child = ProcessAccess::child(proc);
  if (child.returncode) {  // cannot be reaped before the loop runs again, but as wait() does
    link->exited(*child.returncode);
  } else {
    Future<int> exit = loop->create_future<int>();
    child.waiters.push_back(exit);
    // The exit watch: a wait() of the link's own. When the loop closes first, the
    // watch goes without having run, and lets the protocol go.
    exit.add_done_callback(
        run_or_drop([link](Future<int>& f) { link->exited(f.result()); }, [link] { link->abandon(); }));
  }
  try {
    for (int fd = 0; fd < 3; ++fd) {
      if (ends.ours[fd].fd < 0) continue;
      auto pipe = [link, fd] { return std::make_shared<SubprocessPipe>(link, fd); };
      const int ours = ends.ours[fd].release();  // the pipe transport's now
      // Made outside the co_await: g++ 12 destroys a temporary of a co_await
      // expression twice, and this closure holds a shared_ptr.
      auto connecting = fd == 0 ? connect_write_pipe(*loop, pipe, ours) : connect_read_pipe(*loop, pipe, ours);
      auto connected = co_await std::move(connecting);
      link->pipes[fd] = connected.first;
      link->open[fd] = true;
    }
  } catch (...) {
    link->protocol.reset();  // no calls for a protocol that never had connection_made
    link->close();           // the child goes too
    throw;
  }
  try {
    link->protocol->connection_made(SubprocessTransport(link));
  } catch (...) {
    report(*loop, "Exception in callback SubprocessProtocol.connection_made()", std::current_exception());
    link->close();
  }
  co_return SubprocessTransport(link);
}

}  // namespace

Coro<SubprocessTransport> spawn_subprocess_protocol(EventLoop& loop, SubprocessProtocolFactory factory,
                                                    std::vector<std::string> argv, SubprocessOptions options) {
  SpawnArgs args{std::move(argv), options, std::nullopt, std::nullopt};
  if (options.cwd) args.cwd.emplace(*options.cwd);  // copied now: the caller's may be gone when it runs
  if (options.env != nullptr) args.env.emplace(*options.env);
  PipeEnds ends;
  std::optional<int>* want[3] = {&args.options.stdin, &args.options.stdout, &args.options.stderr};
  for (int i = 0; i < 3; ++i) {
    if (*want[i] != PIPE) continue;
    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0) throw_os_error(errno, "pipe");
    ends.theirs[i].fd = i == 0 ? p[0] : p[1];
    ends.ours[i].fd = i == 0 ? p[1] : p[0];
    *want[i] = ends.theirs[i].fd;
  }
  return start_subprocess(&loop, std::move(factory), std::move(args), std::move(ends));
}

}  // namespace detail

int SubprocessTransport::get_pid() const noexcept { return s_->proc.pid(); }
std::optional<int> SubprocessTransport::get_returncode() const noexcept { return s_->returncode; }

Transport SubprocessTransport::get_pipe_transport(int fd) const {
  if (fd < 0 || fd > 2) throw ValueError("no pipe for fd " + std::to_string(fd) + ": 0, 1 or 2");
  return s_->pipes[fd];
}

void SubprocessTransport::send_signal(int sig) { s_->checked().send_signal(sig); }
void SubprocessTransport::terminate() { s_->checked().terminate(); }
void SubprocessTransport::kill() { s_->checked().kill(); }
void SubprocessTransport::close() { s_->close(); }
bool SubprocessTransport::is_closing() const noexcept { return s_->closed; }

Coro<Process> create_subprocess_exec(std::string program, std::vector<std::string> args, SubprocessOptions options) {
  args.insert(args.begin(), std::move(program));
  return detail::spawn_process(std::move(args), std::move(options));
}

Coro<Process> create_subprocess_shell(std::string cmd, SubprocessOptions options) {
  return detail::spawn_process({"/bin/sh", "-c", std::move(cmd)}, std::move(options));
}

}  // namespace aio
