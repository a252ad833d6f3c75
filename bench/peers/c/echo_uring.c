// echo_uring PORT: the echo benchmark's server on io_uring (liburing), one thread,
// as a reference beside raw epoll: what a completion-based loop costs per message.
// Every connection has one recv in flight into its own 64 KiB buffer; a completed
// recv becomes a send of those bytes (the rest resent after a short send), and a
// completed send the next recv. A recv of 0 (EOF) or an error closes the connection.
// One io_uring_submit_and_wait per batch of completions: the submissions of a batch
// and the wait for the next go in one system call. Prints "listening port=N".
#include <arpa/inet.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { BUF = 65536, QUEUE = 4096 };
enum op { OP_ACCEPT = 1, OP_RECV, OP_SEND };

struct conn {
  int fd;
  enum op op;
  size_t len, sent;
  char buf[BUF];
};

static struct io_uring ring;
static struct conn accept_token = {.op = OP_ACCEPT};

static struct io_uring_sqe* sqe_get(void) {
  struct io_uring_sqe* sqe = io_uring_get_sqe(&ring);
  if (sqe == NULL) {  // the queue is full: hand it to the kernel and take another
    io_uring_submit(&ring);
    sqe = io_uring_get_sqe(&ring);
  }
  return sqe;
}

static void post_accept(int lfd) {
  struct io_uring_sqe* sqe = sqe_get();
  io_uring_prep_multishot_accept(sqe, lfd, NULL, NULL, 0);
  io_uring_sqe_set_data(sqe, &accept_token);
}

static void post_recv(struct conn* c) {
  struct io_uring_sqe* sqe = sqe_get();
  c->op = OP_RECV;
  io_uring_prep_recv(sqe, c->fd, c->buf, BUF, 0);
  io_uring_sqe_set_data(sqe, c);
}

static void post_send(struct conn* c) {
  struct io_uring_sqe* sqe = sqe_get();
  c->op = OP_SEND;
  io_uring_prep_send(sqe, c->fd, c->buf + c->sent, c->len - c->sent, MSG_NOSIGNAL);
  io_uring_sqe_set_data(sqe, c);
}

static void drop(struct conn* c) {
  close(c->fd);
  free(c);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s PORT\n", argv[0]);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr*)&a, sizeof a) < 0 || listen(lfd, 1024) < 0) {
    perror("bind/listen");
    return 1;
  }
  // One thread submits and reaps: completions' task work runs when this thread next
  // waits (DEFER_TASKRUN, Linux 6.1), not by interrupting it. ECHO_URING_PLAIN=1 sets
  // no flag, for comparison.
  const unsigned flags = getenv("ECHO_URING_PLAIN") ? 0 : IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  int rc = io_uring_queue_init(QUEUE, &ring, flags);
  if (rc < 0) {
    fprintf(stderr, "io_uring_queue_init: %s\n", strerror(-rc));
    return 1;
  }
  post_accept(lfd);
  printf("listening port=%s\n", argv[1]);
  fflush(stdout);
  for (;;) {
    rc = io_uring_submit_and_wait(&ring, 1);
    if (rc < 0 && rc != -EINTR) {
      fprintf(stderr, "io_uring_submit_and_wait: %s\n", strerror(-rc));
      return 1;
    }
    struct io_uring_cqe* cqe;
    unsigned head, seen = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
      ++seen;
      struct conn* c = io_uring_cqe_get_data(cqe);
      const int res = cqe->res;
      if (c->op == OP_ACCEPT) {
        if (res >= 0) {
          setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          struct conn* nc = malloc(sizeof *nc);
          nc->fd = res;
          post_recv(nc);
        }
        if (!(cqe->flags & IORING_CQE_F_MORE)) post_accept(lfd);  // the multishot ended
      } else if (c->op == OP_RECV) {
        if (res <= 0) {
          drop(c);
        } else {
          c->len = (size_t)res;
          c->sent = 0;
          post_send(c);
        }
      } else {
        if (res < 0) {
          drop(c);
        } else {
          c->sent += (size_t)res;
          if (c->sent < c->len) {
            post_send(c);
          } else {
            post_recv(c);
          }
        }
      }
    }
    io_uring_cq_advance(&ring, seen);
  }
}
