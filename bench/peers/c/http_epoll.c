/* http_epoll PORT: the HTTP benchmark's reference responder. Raw epoll, one thread,
 * non-blocking sockets, level-triggered, keep-alive, no real parsing: the bytes read
 * are scanned for the end of each request head ("\r\n\r\n") and a fixed response,
 *
 *   HTTP/1.1 200 OK, Content-Type: text/plain, Content-Length: 13, "Hello, World!"
 *
 * is queued for each complete head (pipelined requests get one response each, in
 * order); the bytes of an incomplete head wait for the next read. The responses
 * queued by one read go out in one send; what the kernel does not take is sent when
 * the socket turns writable (reading pauses meanwhile). Requests with a body are not
 * understood (the benchmark sends GETs only); a head over 64 KiB closes the
 * connection. Listens on 127.0.0.1:PORT, prints "listening port=PORT" when ready and
 * runs until killed. */
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

#define IN_SIZE (64 * 1024)

static const char response[] =
    "HTTP/1.1 200 OK\r\n"
    "Server: http_epoll\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 13\r\n"
    "\r\n"
    "Hello, World!";
#define RESPONSE_LEN (sizeof response - 1)

struct conn {
  int fd;
  size_t in_len;   /* bytes of in[] held: the start of a head not yet complete */
  size_t scanned;  /* in[0..scanned) holds no "\r\n\r\n" */
  char *out;       /* responses not yet sent: out[off..off+pending) */
  size_t out_cap, off, pending;
  char in[IN_SIZE];
};

static int epfd;

static void die(const char *what) {
  perror(what);
  exit(1);
}

static void drop(struct conn *c) {
  close(c->fd); /* also removes it from the epoll set */
  free(c->out);
  free(c);
}

static void watch(struct conn *c, unsigned events) {
  struct epoll_event ev = {.events = events, .data.ptr = c};
  if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) die("epoll_ctl MOD");
}

/* Appends one response to out[]. */
static void queue_response(struct conn *c) {
  if (c->off + c->pending + RESPONSE_LEN > c->out_cap) {
    if (c->off > 0) { /* move what is left to the front first */
      memmove(c->out, c->out + c->off, c->pending);
      c->off = 0;
    }
    while (c->pending + RESPONSE_LEN > c->out_cap) c->out_cap = c->out_cap ? c->out_cap * 2 : 4096;
    c->out = realloc(c->out, c->out_cap);
    if (c->out == NULL) die("realloc");
  }
  memcpy(c->out + c->off + c->pending, response, RESPONSE_LEN);
  c->pending += RESPONSE_LEN;
}

/* Sends out[off..off+pending); returns 0 when all is out, 1 when some waits, -1 on error. */
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
  ssize_t n = recv(c->fd, c->in + c->in_len, IN_SIZE - c->in_len, 0);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
    drop(c);
    return;
  }
  if (n == 0) { /* EOF: every complete request was answered */
    drop(c);
    return;
  }
  c->in_len += (size_t)n;
  /* Every complete head gets a response; start the search 3 bytes back, where a
   * terminator split over two reads begins at the latest. */
  size_t start = 0, from = c->scanned >= 3 ? c->scanned - 3 : 0;
  for (;;) {
    const char *end = memmem(c->in + from, c->in_len - from, "\r\n\r\n", 4);
    if (end == NULL) break;
    queue_response(c);
    start = (size_t)(end - c->in) + 4;
    from = start;
  }
  if (start > 0) { /* keep only the incomplete head */
    memmove(c->in, c->in + start, c->in_len - start);
    c->in_len -= start;
  }
  c->scanned = c->in_len;
  if (c->in_len == IN_SIZE) { /* a head over 64 KiB */
    drop(c);
    return;
  }
  int r = flush_out(c);
  if (r < 0) {
    drop(c);
  } else if (r == 1) {
    watch(c, EPOLLOUT); /* stop reading until the rest is out */
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
  if (listen(lfd, 1024) < 0) die("listen");
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
          nc->in_len = nc->scanned = 0;
          nc->out = NULL;
          nc->out_cap = nc->off = nc->pending = 0;
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
