/* echo_epoll PORT: the echo benchmark's reference server. Raw epoll, one thread,
 * non-blocking sockets, level-triggered. Each readable connection is read once
 * (up to 64 KiB) and the bytes are sent straight back; what the kernel does not take
 * is kept and sent when the socket turns writable (reading pauses meanwhile). After
 * the client's EOF, once everything is sent, the connection is closed. Listens on
 * 127.0.0.1:PORT and runs until killed. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF_SIZE (64 * 1024)

struct conn {
  int fd;
  size_t pending, off; /* bytes of out[] not yet sent, from off */
  char out[BUF_SIZE];
};

static int epfd;
static char buf[BUF_SIZE];

static void die(const char *what) {
  perror(what);
  exit(1);
}

static void drop(struct conn *c) {
  close(c->fd); /* also removes it from the epoll set */
  free(c);
}

static void watch(struct conn *c, unsigned events) {
  struct epoll_event ev = {.events = events, .data.ptr = c};
  if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) die("epoll_ctl MOD");
}

/* Sends out[off..off+pending]; returns 0 when all is out, 1 when some waits, -1 on error. */
static int flush_out(struct conn *c) {
  while (c->pending > 0) {
    ssize_t n = send(c->fd, c->out + c->off, c->pending, MSG_NOSIGNAL);
    if (n > 0) {
      c->off += (size_t)n;
      c->pending -= (size_t)n;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return 1;
    } else {
      return -1;
    }
  }
  c->off = 0;
  return 0;
}

static void on_readable(struct conn *c) {
  ssize_t n = recv(c->fd, buf, sizeof buf, 0);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
    drop(c);
    return;
  }
  if (n == 0) { /* EOF: everything read was already sent */
    drop(c);
    return;
  }
  size_t sent = 0;
  while (sent < (size_t)n) {
    ssize_t k = send(c->fd, buf + sent, (size_t)n - sent, MSG_NOSIGNAL);
    if (k > 0) {
      sent += (size_t)k;
    } else if (k < 0 && errno == EINTR) {
      continue;
    } else if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      memcpy(c->out, buf + sent, (size_t)n - sent);
      c->off = 0;
      c->pending = (size_t)n - sent;
      watch(c, EPOLLOUT); /* stop reading until the rest is out */
      return;
    } else {
      drop(c);
      return;
    }
  }
}

static void on_writable(struct conn *c) {
  int r = flush_out(c);
  if (r < 0) {
    drop(c);
  } else if (r == 0) {
    watch(c, EPOLLIN);
  }
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s PORT\n", argv[0]);
    return 2;
  }
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (lfd < 0) die("socket");
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[1]))};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
  if (listen(lfd, 128) < 0) die("listen");
  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) die("epoll_create1");
  struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &lev) < 0) die("epoll_ctl ADD listener");
  printf("listening port=%s\n", argv[1]);
  fflush(stdout);

  struct epoll_event events[256];
  for (;;) {
    int n = epoll_wait(epfd, events, 256, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < n; ++i) {
      struct conn *c = events[i].data.ptr;
      if (c == NULL) {
        for (;;) {
          int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0) break;
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          struct conn *nc = malloc(sizeof *nc);
          if (nc == NULL) die("malloc");
          nc->fd = fd;
          nc->pending = nc->off = 0;
          struct epoll_event ev = {.events = EPOLLIN, .data.ptr = nc};
          if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl ADD");
        }
        continue;
      }
      if (c->pending > 0) {
        on_writable(c);
      } else {
        on_readable(c);
      }
    }
  }
}
