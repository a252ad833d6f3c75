/* echo_uv PORT: the echo benchmark's server on libuv (one default loop, one thread).
 * Each read is sent back at once with uv_try_write; what the kernel does not take
 * goes out through uv_write, and reading pauses until it is written. After the
 * client's EOF, once everything is sent, the connection is closed. Listens on
 * 127.0.0.1:PORT and runs until killed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define BUF_SIZE (64 * 1024)

struct conn {
  uv_tcp_t tcp; /* first: the handle's address is the connection's */
  uv_write_t req;
  int writing, eof;
  char in[BUF_SIZE];
  char out[BUF_SIZE];
};

static uv_loop_t *loop;

static void on_closed(uv_handle_t *h) { free(h); }

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)suggested;
  struct conn *c = (struct conn *)h;
  *buf = uv_buf_init(c->in, sizeof c->in);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void on_written(uv_write_t *req, int status) {
  struct conn *c = req->data;
  c->writing = 0;
  if (status < 0 || c->eof) {
    uv_close((uv_handle_t *)&c->tcp, on_closed);
    return;
  }
  uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  struct conn *c = (struct conn *)s;
  if (nread == 0) return; /* EAGAIN */
  if (nread < 0) {        /* UV_EOF or an error */
    c->eof = 1;
    uv_read_stop(s);
    if (!c->writing) uv_close((uv_handle_t *)s, on_closed);
    return;
  }
  uv_buf_t b = uv_buf_init(buf->base, (unsigned)nread);
  int sent = uv_try_write(s, &b, 1);
  if (sent == nread) return;
  if (sent < 0 && sent != UV_EAGAIN) {
    uv_close((uv_handle_t *)s, on_closed);
    return;
  }
  if (sent < 0) sent = 0;
  memcpy(c->out, buf->base + sent, (size_t)(nread - sent));
  uv_buf_t rest = uv_buf_init(c->out, (unsigned)(nread - sent));
  c->writing = 1;
  c->req.data = c;
  uv_read_stop(s);
  if (uv_write(&c->req, s, &rest, 1, on_written) < 0) uv_close((uv_handle_t *)s, on_closed);
}

static void on_connection(uv_stream_t *server, int status) {
  if (status < 0) return;
  struct conn *c = malloc(sizeof *c);
  if (c == NULL) abort();
  c->writing = c->eof = 0;
  uv_tcp_init(loop, &c->tcp);
  if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
    uv_close((uv_handle_t *)&c->tcp, on_closed);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s PORT\n", argv[0]);
    return 2;
  }
  loop = uv_default_loop();
  uv_tcp_t server;
  uv_tcp_init(loop, &server);
  struct sockaddr_in addr;
  uv_ip4_addr("127.0.0.1", atoi(argv[1]), &addr);
  int r = uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0);
  if (r == 0) r = uv_listen((uv_stream_t *)&server, 128, on_connection);
  if (r != 0) {
    fprintf(stderr, "echo_uv: listen on 127.0.0.1:%s: %s\n", argv[1], uv_strerror(r));
    return 1;
  }
  printf("listening port=%s\n", argv[1]);
  fflush(stdout);
  return uv_run(loop, UV_RUN_DEFAULT);
}
