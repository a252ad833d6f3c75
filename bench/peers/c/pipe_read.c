/* pipe_read [--socketpair | --pipe-size=BYTES] MODE N CMD [ARG...]: the subprocess
 * pipe benchmark's floor (docs/benchmarks.md, "Subprocess pipes"). Spawns CMD with
 * posix_spawnp, its stdout a pipe (with --pipe-size of that capacity, F_SETPIPE_SZ,
 * instead of the default 64 KiB; with --socketpair one end of a Unix stream
 * socketpair, as libuv's uv_spawn gives a child for a pipe: uvloop's and Node's
 * transport), and reads it with blocking read(2) calls of up to 64 KiB into one
 * static buffer.
 *
 *   bulk:  reads to EOF, counts the bytes, waits for the child; N is the number of
 *          bytes expected (exit status 1 when another number came).
 *   lines: counts N lines with memchr over each chunk read, then kills the child
 *          (SIGKILL) and waits for it.
 *
 * Prints one line: mode=... [lines=...] bytes=... wall_s=... cpu_s=... user_s=...
 * sys_s=..., the wall time from before the spawn to after the wait and this process's
 * own CPU time (getrusage RUSAGE_SELF: not the child's) over the same span. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE (64 * 1024)

extern char **environ;
static char buf[BUF_SIZE];

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double tv_s(struct timeval tv) { return (double)tv.tv_sec + (double)tv.tv_usec / 1e6; }

static void die(const char *what) {
  perror(what);
  exit(1);
}

/* One read of up to BUF_SIZE bytes: how many came, 0 at EOF. */
static size_t read_chunk(int fd) {
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n >= 0) return (size_t)n;
    if (errno != EINTR) die("read");
  }
}

int main(int argc, char **argv) {
  int socket_pair = 0, pipe_size = 0;
  if (argc > 1 && strcmp(argv[1], "--socketpair") == 0) {
    socket_pair = 1;
  } else if (argc > 1 && strncmp(argv[1], "--pipe-size=", 12) == 0) {
    pipe_size = atoi(argv[1] + 12);
    if (pipe_size <= 0) argc = 0; /* usage */
  }
  if (socket_pair || pipe_size > 0) {
    --argc;
    ++argv;
  }
  if (argc < 4 || (strcmp(argv[1], "bulk") != 0 && strcmp(argv[1], "lines") != 0)) {
    fprintf(stderr, "usage: pipe_read [--socketpair | --pipe-size=BYTES] bulk|lines N CMD [ARG...]\n");
    return 2;
  }
  const int lines_mode = strcmp(argv[1], "lines") == 0;
  const unsigned long long want = strtoull(argv[2], NULL, 10);

  struct rusage ru0, ru1;
  getrusage(RUSAGE_SELF, &ru0);
  const double t0 = now_s();

  int p[2]; /* p[0] ours, p[1] the child's stdout */
  if (socket_pair) {
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) < 0) die("socketpair");
  } else if (pipe2(p, O_CLOEXEC) < 0) {
    die("pipe2");
  }
  if (pipe_size > 0 && fcntl(p[0], F_SETPIPE_SZ, pipe_size) < 0) die("F_SETPIPE_SZ");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, p[1], 1); /* dup2 clears close-on-exec */
  pid_t pid;
  int err = posix_spawnp(&pid, argv[3], &fa, NULL, argv + 3, environ);
  if (err != 0) {
    errno = err;
    die(argv[3]);
  }
  posix_spawn_file_actions_destroy(&fa);
  close(p[1]);

  unsigned long long bytes = 0, lines = 0;
  if (!lines_mode) {
    size_t n;
    while ((n = read_chunk(p[0])) > 0) bytes += n;
  } else {
    while (lines < want) {
      const size_t n = read_chunk(p[0]);
      if (n == 0) break; /* the child ended early */
      const char *at = buf, *end = buf + n;
      const char *nl;
      while (lines < want && (nl = memchr(at, '\n', (size_t)(end - at))) != NULL) {
        ++lines;
        at = nl + 1;
      }
      /* the stream's bytes up to the end of the last line counted */
      bytes += lines < want ? n : (size_t)(at - buf);
    }
    kill(pid, SIGKILL);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) die("waitpid");
  }
  close(p[0]);

  const double wall = now_s() - t0;
  getrusage(RUSAGE_SELF, &ru1);
  const double user = tv_s(ru1.ru_utime) - tv_s(ru0.ru_utime);
  const double sys = tv_s(ru1.ru_stime) - tv_s(ru0.ru_stime);
  if (lines_mode) {
    printf("mode=lines lines=%llu bytes=%llu wall_s=%.4f cpu_s=%.4f user_s=%.4f sys_s=%.4f\n", lines, bytes, wall,
           user + sys, user, sys);
    return lines == want ? 0 : 1;
  }
  printf("mode=bulk bytes=%llu wall_s=%.4f cpu_s=%.4f user_s=%.4f sys_s=%.4f\n", bytes, wall, user + sys, user, sys);
  return bytes == want ? 0 : 1;
}
