// Streams: StreamReader, StreamWriter, Server, open_connection, start_server.
#include "aio/streams.hpp"

#include <errno.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <netinet/tcp.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "aio/detail/byte_buffer.hpp"
#include "aio/detail/io_wait.hpp"
#include "aio/events.hpp"
#include "aio/netdb.hpp"
#include "aio/ssl.hpp"
#include "aio/tasks.hpp"
#include "aio/wait.hpp"

namespace aio {
namespace detail {

// One connection: the socket, the bytes read and not yet consumed, the bytes written
// and not yet sent. Shared by the reader and writer handles (and kept alive by
// itself while a close waits for buffered data to go out).
class StreamState final : public IoWaiter, public std::enable_shared_from_this<StreamState> {
 public:
  explicit StreamState(std::size_t limit) : limit_(limit) {}
  /// `peer`: the peer's address when the caller knows it (accept gave it), else it is
  /// asked for once here.
  StreamState(Socket sock, std::size_t limit, EventLoop& loop, SockAddr peer = {})
      : limit_(limit), pipe_(sock.type() == 0), sock_(std::move(sock)), peer_(std::move(peer)), loop_(&loop) {
    watched_fd(loop, sock_);
    // As asyncio's transports keep get_extra_info("peername"): errors after a reset
    // still name the peer.
    if (!pipe_ && peer_.empty()) {
      try {
        peer_ = sock_.getpeername();
      } catch (const std::system_error&) {
        // not connected (yet): looked up when asked
      }
    }
  }
  ~StreamState() { sock_.close(); }

  // --- reading
  std::size_t limit_;
  bool pipe_ = false;        // a pipe or a tty, not a socket: read(2) and write(2)
  ByteBuffer rbuf_;          // read and not yet consumed
  bool eof_ = false;
  std::exception_ptr rexc_;
  bool reading_ = false;     // a read call is waiting for data
  Future<void> fed_{nullptr};  // hand-fed readers: resolved by feed_data/feed_eof

  std::size_t buffered() const noexcept { return rbuf_.size(); }
  std::string_view view() const noexcept { return rbuf_.view(); }
  std::string take(std::size_t n) { return rbuf_.take(n); }
  void consume(std::size_t n) noexcept { rbuf_.consume(n); }

  ssize_t raw_read(int fd, char* p, std::size_t n) noexcept { return pipe_ ? ::read(fd, p, n) : ::recv(fd, p, n, 0); }
  ssize_t raw_write(int fd, const char* p, std::size_t n) noexcept {
    return pipe_ ? ::write(fd, p, n) : ::send(fd, p, n, MSG_NOSIGNAL);
  }

  // Waits for more data (or EOF, or an error) and appends it to the buffer.
  Coro<void> fill(const char* func) {
    if (reading_) throw RuntimeError(std::string(func) + "() called while another coroutine is already waiting for incoming data");
    if (rexc_) std::rethrow_exception(rexc_);
    if (eof_) co_return;
    BusyFlag reading(reading_);
    if (loop_ == nullptr) {
      fed_ = get_running_loop().create_future();
      co_await fed_;
      if (rexc_) std::rethrow_exception(rexc_);
      co_return;
    }
    if (tls_) {
      co_await tls_fill();
      co_return;
    }
    for (;;) {
      if (sock_.fileno() >= 0 && !loop_->io_ready(sock_.fileno(), false)) co_await IoWait(*loop_, sock_.fileno(), false);
      if (read_now()) co_return;
    }
  }

  // A plain descriptor (no TLS, not hand-fed) with no error or EOF yet and no reader
  // waiting: read() can wait for it in its own frame (read_ready / IoWait) instead of
  // awaiting fill(), a coroutine of its own, on every call.
  bool plain_readable() const noexcept { return loop_ != nullptr && !tls_ && !reading_ && !rexc_ && !eof_; }
  // Whether the buffer has news: true after data, EOF or a closed descriptor; false
  // when the caller must wait for the next edge of the descriptor (IoWait).
  bool read_ready() {
    const int fd = sock_.fileno();
    if (fd < 0) {
      eof_ = true;
      return true;
    }
    return loop_->io_ready(fd, false) && read_now();
  }

  // One read into the buffer's tail (not zeroed first): true when it gave data or EOF
  // (or the descriptor is gone); false when the kernel had nothing, and the readiness
  // flag is then down. An error is kept for every later read, and thrown.
  bool read_now() {
    for (;;) {
      const int fd = sock_.fileno();
      if (fd < 0) {  // closed meanwhile
        eof_ = true;
        return true;
      }
      const std::size_t room = std::max<std::size_t>(limit_, 16 * 1024);
      const ssize_t n = raw_read(fd, rbuf_.prepare(room), room);
      if (n > 0) {
        rbuf_.commit(static_cast<std::size_t>(n));
        if (static_cast<std::size_t>(n) < room) loop_->clear_io_ready(fd, false);
        return true;
      }
      if (n == 0) {
        eof_ = true;
        return true;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        const int err = errno;  // before peer_str()
        try {
          throw_os_error(err, "recv from " + peer_str());
        } catch (...) {
          rexc_ = std::current_exception();
          eof_ = true;
          throw;
        }
      }
      loop_->clear_io_ready(fd, false);
      return false;
    }
  }

  // --- TLS (asyncio's SSLProtocol): ciphertext moves between the socket and the
  // session's memory BIOs; plaintext goes to rbuf_ and comes from write(). Outgoing
  // ciphertext takes the plain path's write buffer, so drain and close work unchanged.
  static constexpr std::size_t kTlsChunk = 64 * 1024;
  std::unique_ptr<TlsSession> tls_;
  std::unique_ptr<char[]> tls_in_;  // ciphertext read from the socket
  std::string tls_plain_;           // written while a renegotiation waits for the peer
  bool server_side_ = false;        // accepted by a server
  double ssl_shutdown_timeout_ = 30.0;
  TimerHandle shutdown_timer_;

  void begin_tls(const SSLContext& ctx, const std::string& server_hostname, double shutdown_timeout) {
    tls_ = std::make_unique<TlsSession>(ctx, server_side_, server_hostname);
    ssl_shutdown_timeout_ = shutdown_timeout;
    // Bytes the reader already took from the socket belong to the handshake.
    if (rbuf_.size() > 0) {
      tls_->feed(rbuf_.view().data(), rbuf_.size());
      rbuf_.consume(rbuf_.size());
    }
  }

  // Reads ciphertext from the socket into the session once (or notes the EOF).
  Coro<void> tls_feed() {
    if (sock_.fileno() >= 0 && !loop_->io_ready(sock_.fileno(), false)) co_await IoWait(*loop_, sock_.fileno(), false);
    if (!tls_in_) tls_in_ = std::make_unique<char[]>(kTlsChunk);
    for (;;) {
      const int fd = sock_.fileno();
      if (fd < 0) {
        tls_->feed_eof();
        co_return;
      }
      const ssize_t n = raw_read(fd, tls_in_.get(), kTlsChunk);
      if (n > 0) {
        tls_->feed(tls_in_.get(), static_cast<std::size_t>(n));
        if (static_cast<std::size_t>(n) < kTlsChunk) loop_->clear_io_ready(fd, false);
        co_return;
      }
      if (n == 0) {
        tls_->feed_eof();
        co_return;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        const int err = errno;  // before peer_str()
        throw_os_error(err, "recv from " + peer_str());
      }
      loop_->clear_io_ready(fd, false);
      co_await IoWait(*loop_, fd, false);
    }
  }

  // Sends (or buffers) the ciphertext the session produced.
  void tls_flush() {
    std::string_view out = tls_->output();
    if (out.empty()) return;
    if (!closed_ && !lost_ && sock_.fileno() >= 0) {
      if (pending() == 0) {
        std::size_t sent = 0;
        send_some(out, sent);
        out.remove_prefix(sent);
      }
      if (!lost_ && !out.empty()) {
        wbuf_.append(out);
        arm();
      }
    }
    tls_->consume_output();
  }

  // A close with unread bytes in the kernel resets the connection and drops what is
  // still to be sent (our close_notify, the last writes). A TLS peer always leaves
  // some (TLS 1.3 session tickets): take what has come before closing.
  // Reads and drops what the peer sent and nobody read, before the socket closes: a
  // close with unread bytes in the kernel sends a reset instead of a FIN, and the
  // reset throws away what we sent last if the peer had not taken it yet (an HTTP
  // server answering 413 without reading the body). At most 1 MiB; abort() skips it.
  void discard_unread() noexcept {
    const int fd = sock_.fileno();
    if (fd < 0 || pipe_ || (eof_ && !tls_)) return;  // read to EOF: the kernel has nothing left
    char scratch[16 * 1024];
    for (int i = 0; i < 64 && ::recv(fd, scratch, sizeof scratch, MSG_DONTWAIT) > 0; ++i) {
    }
  }

  // After our close_notify is out: half-close, then read (and drop) until the peer's
  // close_notify or EOF, as asyncio's SSL shutdown does; ssl_shutdown_timeout bounds it.
  // Closing with unread bytes would reset the connection under what we sent last.
  struct Linger final : IoWaiter {
    StreamState* s = nullptr;
    bool registered = false;
    void on_io_ready() noexcept override {
      registered = false;
      s->linger_step();
    }
    void on_io_abandoned() noexcept override {
      registered = false;
      s->finish_close();
    }
  };
  Linger linger_;
  bool lingering_ = false;

  void tls_linger() noexcept {
    if (lingering_ || closed_) return;
    const int fd = sock_.fileno();
    if (fd < 0 || reading_ || eof_ || lost_ || !tls_->established() || tls_->peer_closed()) {
      finish_close();
      return;
    }
    lingering_ = true;
    linger_.s = this;
    ::shutdown(fd, SHUT_WR);
    linger_step();
  }

  void linger_step() noexcept {
    if (!tls_in_) tls_in_ = std::unique_ptr<char[]>(new (std::nothrow) char[kTlsChunk]);
    const int fd = sock_.fileno();
    if (fd < 0 || !tls_in_ || closed_) {
      finish_close();
      return;
    }
    for (;;) {
      const ssize_t n = ::recv(fd, tls_in_.get(), kTlsChunk, 0);
      if (n > 0) {
        try {
          tls_->feed(tls_in_.get(), static_cast<std::size_t>(n));
          for (;;) {
            std::size_t got = 0;
            const TlsSession::Status st = tls_->read(rbuf_.prepare(16 * 1024), 16 * 1024, got);  // dropped
            if (st == TlsSession::CLOSED) {
              finish_close();
              return;
            }
            if (st == TlsSession::WANT_READ) break;
          }
        } catch (...) {
          finish_close();
          return;
        }
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        loop_->clear_io_ready(fd, false);
        if (loop_->io_ready(fd, false)) continue;  // hung up: the next recv says so
        linger_.registered = true;
        loop_->set_io_waiter(fd, false, &linger_);
        return;
      }
      finish_close();  // EOF, or an error
      return;
    }
  }

  Coro<void> tls_fill() {
    if (lingering_) {  // closed by us: nothing more to read
      eof_ = true;
      co_return;
    }
    try {
      for (;;) {
        if (!tls_plain_.empty()) tls_retry_write();
        const std::size_t room = std::max<std::size_t>(limit_, 16 * 1024);
        std::size_t got = 0;
        TlsSession::Status st = TlsSession::WANT_READ;
        try {
          st = tls_->read(rbuf_.prepare(room), room, got);
        } catch (...) {
          tls_flush();  // the alert
          throw;
        }
        tls_flush();  // a renegotiation's or key update's answer
        if (st == TlsSession::OK) {
          rbuf_.commit(got);
          co_return;
        }
        if (st == TlsSession::CLOSED) {
          eof_ = true;
          co_return;
        }
        co_await tls_feed();
      }
    } catch (const std::exception&) {
      rexc_ = std::current_exception();
      eof_ = true;
      throw;
    }
  }

  void tls_write(std::string_view data) {
    if (!tls_plain_.empty()) {
      tls_plain_.append(data);
      return;
    }
    try {
      if (tls_->write(data.data(), data.size()) == TlsSession::WANT_READ) tls_plain_.assign(data);
    } catch (const std::exception&) {
      lost_ = std::current_exception();
      wake(drain_waiters_);
    }
    tls_flush();
  }

  void tls_retry_write() {
    try {
      if (tls_->write(tls_plain_.data(), tls_plain_.size()) == TlsSession::OK) tls_plain_.clear();
    } catch (const std::exception&) {
      tls_plain_.clear();
      lost_ = std::current_exception();
      wake(drain_waiters_);
    }
    tls_flush();
  }

  Coro<void> tls_handshake() {
    for (;;) {
      TlsSession::Status st = TlsSession::WANT_READ;
      try {
        st = tls_->handshake();
      } catch (...) {
        tls_flush();  // the alert that tells the peer why
        throw;
      }
      tls_flush();
      if (lost_) std::rethrow_exception(lost_);
      if (st == TlsSession::OK) co_return;
      co_await tls_feed();
    }
  }

  void feed_data(std::string_view data) {
    if (eof_) throw RuntimeError("feed_data after feed_eof");
    if (data.empty()) return;
    rbuf_.append(data);
    wake_fed();
  }
  void feed_eof() {
    eof_ = true;
    wake_fed();
  }
  void set_exception(std::exception_ptr e) {
    rexc_ = std::move(e);
    wake_fed();
  }
  void wake_fed() {
    if (fed_ && !fed_.done()) fed_.set_result();
  }

  // --- writing
  std::string wbuf_;         // wbuf_[wpos_..] waits for the kernel
  std::size_t wpos_ = 0;
  std::size_t high_ = 64 * 1024;
  std::size_t low_ = 16 * 1024;
  bool flushing_ = false;    // registered for the next writable edge
  bool closing_ = false;
  bool eof_pending_ = false;  // write_eof once the buffer is sent
  bool eof_written_ = false;
  bool closed_ = false;
  bool aborting_ = false;    // abort(): closed at once, unread bytes and all
  std::exception_ptr lost_;  // the connection's error, raised by drain
  std::vector<Future<void>> drain_waiters_;
  std::vector<Future<void>> closed_waiters_;
  std::shared_ptr<StreamState> keep_;  // self, while closing waits for the buffer

  std::size_t pending() const noexcept { return wbuf_.size() - wpos_; }

  void write(std::string_view data) {
    if (eof_written_ || eof_pending_) throw RuntimeError("Cannot call write() after write_eof()");
    if (data.empty() || closing_ || lost_) return;  // asyncio drops writes to a closing transport
    if (loop_ == nullptr) throw RuntimeError("the stream has no transport");
    if (tls_) {
      tls_write(data);
      return;
    }
    if (pending() == 0) {
      std::size_t sent = 0;
      send_some(data, sent);
      if (sent == data.size() || lost_) return;
      data.remove_prefix(sent);
    }
    wbuf_.append(data);
    arm();
  }

  // Sends from `data` until the kernel takes no more; on an error the connection is lost.
  void send_some(std::string_view data, std::size_t& sent) {
    const int fd = sock_.fileno();
    while (sent < data.size()) {
      const ssize_t n = raw_write(fd, data.data() + sent, data.size() - sent);
      if (n > 0) {
        sent += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        loop_->clear_io_ready(fd, true);
        return;
      }
      const int err = n < 0 ? errno : EPIPE;  // before peer_str(), which may set errno
      connection_lost(err, "send to " + peer_str());
      return;
    }
  }

  void arm() {
    if (flushing_ || closed_ || pending() == 0) return;
    flushing_ = true;
    loop_->set_io_waiter(sock_.fileno(), true, this);
  }

  void on_io_ready() noexcept override {
    flushing_ = false;
    auto self = shared_from_this();  // closing may drop the last reference
    std::size_t sent = 0;
    send_some(view_w(), sent);
    wpos_ += sent;
    if (wpos_ == wbuf_.size()) {
      wbuf_.clear();
      wpos_ = 0;
    }
    after_send();
  }

  void on_io_abandoned() noexcept override {
    flushing_ = false;
    wbuf_.clear();
    wpos_ = 0;
    finish_close();
  }

  std::string_view view_w() const noexcept { return std::string_view(wbuf_).substr(wpos_); }

  void after_send() noexcept {
    if (lost_) return;
    if (pending() > 0) {
      if (!closed_) {
        flushing_ = true;
        loop_->set_io_waiter(sock_.fileno(), true, this);
      }
    } else {
      if (eof_pending_ && !eof_written_) {
        ::shutdown(sock_.fileno(), SHUT_WR);
        eof_written_ = true;
      }
      if (closing_) {
        if (tls_) {
          tls_linger();
        } else {
          finish_close();
        }
      }
    }
    if (pending() <= low_) wake(drain_waiters_);
  }

  void connection_lost(int err, const std::string& what) noexcept {
    try {
      throw_os_error(err, what);
    } catch (...) {
      lost_ = std::current_exception();
    }
    wbuf_.clear();
    wpos_ = 0;
    wake(drain_waiters_);
    if (closing_) finish_close();
  }

  void close() {
    if (closing_) return;
    if (tls_ && !closed_ && !lost_) {
      tls_->shutdown();  // close_notify, sent after the buffered data
      tls_flush();
    }
    closing_ = true;
    if (loop_ == nullptr || lost_ || closed_) {
      finish_close();
    } else if (tls_) {
      keep_ = shared_from_this();  // until the close_notify is out and answered
      shutdown_timer_ = loop_->call_later(ssl_shutdown_timeout_, [weak = weak_from_this()] {
        if (auto self = weak.lock()) self->abort();
      });
      if (pending() == 0) tls_linger();
    } else if (pending() == 0) {
      finish_close();
    } else {
      keep_ = shared_from_this();  // until the buffer is out
    }
  }

  void abort() {
    closing_ = true;
    aborting_ = true;
    wbuf_.clear();
    wpos_ = 0;
    finish_close();
  }

  void finish_close() noexcept {
    if (closed_) return;
    closed_ = true;
    closing_ = true;
    if (flushing_ && loop_ != nullptr && sock_.fileno() >= 0 && loop_is_alive(loop_)) {
      loop_->set_io_waiter(sock_.fileno(), true, nullptr);
    }
    flushing_ = false;
    if (shutdown_timer_) shutdown_timer_.cancel();
    if (linger_.registered && loop_ != nullptr && sock_.fileno() >= 0 && loop_is_alive(loop_)) {
      loop_->set_io_waiter(sock_.fileno(), false, nullptr);
    }
    linger_.registered = false;
    if (!aborting_) discard_unread();
    sock_.close();
    eof_ = true;
    wake(drain_waiters_);
    wake(closed_waiters_);
    if (on_closed_) std::exchange(on_closed_, nullptr)();
    // Last: may destroy this.
    std::shared_ptr<StreamState> self = std::move(keep_);
  }

  static void wake(std::vector<Future<void>>& waiters) noexcept {
    for (Future<void>& f : waiters) {
      if (!f.done()) f.set_result();
    }
    waiters.clear();
  }

  std::string peer_str() const {
    if (pipe_) return "pipe " + std::to_string(sock_.fileno());
    if (!peer_.empty()) return peer_.str();
    try {
      return sock_.getpeername().str();
    } catch (...) {
      return "the peer";
    }
  }

  Socket sock_;
  SockAddr peer_;  // the peer's address, when connected at the start
  EventLoop* loop_ = nullptr;
  std::function<void()> on_closed_;  // a server forgets the connection
};

// What the user's handles share: when the last one goes, the connection closes
// (after its buffered data is sent, as an asyncio transport would).
struct StreamOwner {
  explicit StreamOwner(std::shared_ptr<StreamState> s) noexcept : state(std::move(s)) {}
  StreamOwner(const StreamOwner&) = delete;
  StreamOwner& operator=(const StreamOwner&) = delete;
  std::shared_ptr<StreamState> state;
  ~StreamOwner() {
    if (state->loop_ == nullptr || loop_is_alive(state->loop_)) {
      state->close();
    }
  }
};

std::shared_ptr<StreamState> user_handle(std::shared_ptr<StreamState> state) {
  StreamState* raw = state.get();
  auto owner = std::make_shared<StreamOwner>(std::move(state));
  return std::shared_ptr<StreamState>(std::move(owner), raw);
}

}  // namespace detail

using detail::StreamState;

// --- StreamReader

StreamReader::StreamReader(std::size_t limit) : s_(detail::user_handle(std::make_shared<StreamState>(limit))) {
  if (limit == 0) throw ValueError("Limit cannot be <= 0");
}

Coro<std::string> StreamReader::read(long n) {
  auto s = s_;
  if (n == 0) co_return std::string();
  if (n < 0) {
    // Everything until EOF.
    while (!s->eof_) co_await s->fill("read");
    if (s->rexc_) std::rethrow_exception(s->rexc_);
    co_return s->take(s->buffered());
  }
  if (s->buffered() == 0 && s->plain_readable()) {
    // The hot path of a socket or pipe: wait in this frame, read, return.
    detail::BusyFlag reading(s->reading_);
    while (!s->read_ready()) co_await detail::IoWait(*s->loop_, s->sock_.fileno(), false);
  } else if (s->buffered() == 0 && !s->eof_) {
    co_await s->fill("read");
  }
  co_return s->take(std::min(static_cast<std::size_t>(n), s->buffered()));
}

Coro<std::string> StreamReader::readuntil(std::string_view separator) {
  auto s = s_;
  if (separator.empty()) throw ValueError("Separator should be at least one-byte string");
  std::size_t offset = 0;
  for (;;) {
    const std::string_view buf = s->view();
    if (buf.size() >= separator.size()) {
      const std::size_t at = buf.find(separator, offset);
      if (at != std::string_view::npos) {
        if (at > s->limit_) throw LimitOverrunError("Separator is found, but chunk is longer than limit", at);
        co_return s->take(at + separator.size());
      }
      offset = buf.size() + 1 - separator.size();
      if (offset > s->limit_) throw LimitOverrunError("Separator is not found, and chunk exceed the limit", offset);
    }
    if (s->eof_) {
      std::string partial = s->take(s->buffered());
      throw IncompleteReadError(std::move(partial), -1);
    }
    co_await s->fill("readuntil");
  }
}

Coro<std::string> StreamReader::readline() {
  auto s = s_;
  try {
    co_return co_await readuntil("\n");
  } catch (IncompleteReadError& e) {
    co_return std::move(e.partial);
  } catch (const LimitOverrunError& e) {
    // As asyncio: drop the line (or the whole buffer) and raise ValueError.
    if (s->view().substr(e.consumed, 1) == "\n") {
      s->consume(e.consumed + 1);
    } else {
      s->consume(s->buffered());
    }
    throw ValueError(e.what());
  }
}

Coro<std::string> StreamReader::readexactly(std::size_t n) {
  auto s = s_;
  while (s->buffered() < n) {
    if (s->eof_) {
      if (s->rexc_) std::rethrow_exception(s->rexc_);
      std::string partial = s->take(s->buffered());
      throw IncompleteReadError(std::move(partial), static_cast<long>(n));
    }
    if (s->plain_readable()) {  // as in read()
      detail::BusyFlag reading(s->reading_);
      while (!s->read_ready()) co_await detail::IoWait(*s->loop_, s->sock_.fileno(), false);
    } else {
      co_await s->fill("readexactly");
    }
  }
  co_return s->take(n);
}

bool StreamReader::at_eof() const noexcept { return s_->eof_ && s_->buffered() == 0; }
void StreamReader::feed_data(std::string_view data) { s_->feed_data(data); }
void StreamReader::feed_eof() { s_->feed_eof(); }
void StreamReader::set_exception(std::exception_ptr e) { s_->set_exception(std::move(e)); }
std::exception_ptr StreamReader::exception() const noexcept { return s_->rexc_; }
std::size_t StreamReader::limit() const noexcept { return s_->limit_; }
std::string_view StreamReader::buffered() const noexcept { return s_->view(); }
void StreamReader::consume(std::size_t n) noexcept { s_->consume(std::min(n, s_->buffered())); }

Coro<bool> StreamReader::fill() {
  auto s = s_;
  const std::size_t before = s->buffered();
  if (s->plain_readable()) {  // as in read()
    detail::BusyFlag reading(s->reading_);
    while (!s->read_ready()) co_await detail::IoWait(*s->loop_, s->sock_.fileno(), false);
  } else {
    co_await s->fill("fill");
  }
  if (s->buffered() > before) co_return true;
  if (s->rexc_) std::rethrow_exception(s->rexc_);
  co_return false;
}

// --- StreamWriter

void StreamWriter::write(std::string_view data) { s_->write(data); }

namespace {

// drain() when it has to wait: for a close to run first (asyncio yields once, then
// reports the lost connection), or for the buffer to fall to the low-water mark.
Coro<void> drain_slowly(std::shared_ptr<StreamState> s) {
  if (s->closing_) {
    co_await sleep(0);
    if (s->lost_) std::rethrow_exception(s->lost_);
    co_return;
  }
  while (s->pending() > s->high_ && !s->lost_ && !s->closed_) {
    Future<void> f = get_running_loop().create_future();
    s->drain_waiters_.push_back(f);
    co_await f;
  }
  if (s->lost_) std::rethrow_exception(s->lost_);
}

}  // namespace

bool StreamWriter::Drain::await_ready() const noexcept {
  const StreamState& s = *s_;
  if (s.lost_) return true;  // await_resume raises it
  return !s.closing_ && (s.pending() <= s.high_ || s.closed_);
}

std::coroutine_handle<> StreamWriter::Drain::await_suspend(std::coroutine_handle<> caller) {
  slow_ = drain_slowly(s_);
  waiting_.emplace(slow_.operator co_await());
  return waiting_->await_suspend(caller);
}

void StreamWriter::Drain::await_resume() {
  if (waiting_) return waiting_->await_resume();
  if (s_->lost_) std::rethrow_exception(s_->lost_);
}

void StreamWriter::write_eof() {
  auto& s = *s_;
  if (s.tls_) throw NotImplementedError("SSL doesn't support half-closes");
  if (s.eof_written_ || s.eof_pending_ || s.closing_) return;
  if (s.pipe_) {
    s.eof_written_ = true;  // a pipe's end of file is its close, once the buffer is out
    s.close();
    return;
  }
  if (s.pending() == 0) {
    if (::shutdown(s.sock_.fileno(), SHUT_WR) < 0 && errno != ENOTCONN) detail::throw_os_error(errno, "shutdown(SHUT_WR)");
    s.eof_written_ = true;
  } else {
    s.eof_pending_ = true;
  }
}

bool StreamWriter::can_write_eof() const noexcept { return s_->loop_ != nullptr && !s_->tls_; }
void StreamWriter::close() { s_->close(); }
bool StreamWriter::is_closing() const noexcept { return s_->closing_; }

Coro<void> StreamWriter::wait_closed() {
  auto s = s_;
  if (!s->closed_) {
    Future<void> f = get_running_loop().create_future();
    s->closed_waiters_.push_back(f);
    co_await f;
  }
  // asyncio re-raises the connection's error here; a peer that reset it is not ours.
}

std::size_t StreamWriter::get_write_buffer_size() const noexcept { return s_->pending(); }

void StreamWriter::set_write_buffer_limits(std::optional<std::size_t> high, std::optional<std::size_t> low) {
  const std::size_t h = high ? *high : (low ? 4 * *low : 64 * 1024);
  const std::size_t l = low ? *low : h / 4;
  if (l > h) throw ValueError("high (" + std::to_string(h) + ") must be >= low (" + std::to_string(l) + ") must be >= 0");
  s_->high_ = h;
  s_->low_ = l;
}

SockAddr StreamWriter::peername() const { return s_->peer_.empty() ? s_->sock_.getpeername() : s_->peer_; }
SockAddr StreamWriter::sockname() const { return s_->sock_.getsockname(); }
int StreamWriter::fileno() const noexcept { return s_->sock_.fileno(); }

namespace {

// Python's str() of a float: 60.0, 0.2.
std::string seconds_str(double s) {
  std::string out = std::to_string(s);
  while (out.size() > 1 && out.back() == '0') out.pop_back();
  if (out.back() == '.') out += '0';
  return out;
}

}  // namespace

Coro<void> StreamWriter::start_tls(SSLContext ctx, std::string server_hostname, double ssl_handshake_timeout,
                                   double ssl_shutdown_timeout) {
  auto s = s_;
  if (s->loop_ == nullptr) throw RuntimeError("the stream has no transport");
  if (s->tls_) throw RuntimeError("the connection already uses TLS");
  if (s->reading_) throw RuntimeError("start_tls() called while a coroutine is waiting for incoming data");
  if (ssl_handshake_timeout <= 0) throw ValueError("ssl_handshake_timeout should be a positive number, got " + seconds_str(ssl_handshake_timeout));
  if (ssl_shutdown_timeout <= 0) throw ValueError("ssl_shutdown_timeout should be a positive number, got " + seconds_str(ssl_shutdown_timeout));
  co_await drain();
  if (s->closing_ || s->lost_) throw RuntimeError("the connection is closing");
  s->begin_tls(ctx, server_hostname, ssl_shutdown_timeout);
  bool timed_out = false;
  try {
    co_await wait_for(s->tls_handshake(), ssl_handshake_timeout);
  } catch (const TimeoutError&) {
    timed_out = true;
  } catch (...) {
    s->abort();
    throw;
  }
  if (timed_out) {
    s->abort();
    detail::throw_os_error(ECONNABORTED, "SSL handshake is taking longer than " + seconds_str(ssl_handshake_timeout) +
                                             " seconds: aborting the connection");
  }
}

bool StreamWriter::is_tls() const noexcept { return s_->tls_ != nullptr; }
std::string StreamWriter::ssl_version() const { return s_->tls_ ? s_->tls_->version() : ""; }
std::optional<CipherInfo> StreamWriter::cipher() const {
  if (!s_->tls_ || !s_->tls_->established()) return std::nullopt;
  return s_->tls_->cipher();
}
std::optional<PeerCertificate> StreamWriter::peercert() const {
  return s_->tls_ ? s_->tls_->peercert() : std::nullopt;
}
std::string StreamWriter::selected_alpn_protocol() const { return s_->tls_ ? s_->tls_->selected_alpn_protocol() : ""; }

std::pair<StreamReader, StreamWriter> open_stream(Socket sock, std::size_t limit) {
  auto s = detail::user_handle(std::make_shared<StreamState>(std::move(sock), limit, get_running_loop()));
  return {StreamReader(s), StreamWriter(s)};
}

// --- connecting

namespace {

// Connects one socket to one address.
Coro<Socket> connect_one(SockAddr address, int type, int proto, std::optional<std::pair<std::string, int>> local) {
  Socket sock(address.family(), type, proto);
  if (address.family() == AF_INET || address.family() == AF_INET6) sock.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
  if (local) sock.bind(SockAddr(local->first, local->second));
  co_await get_running_loop().sock_connect(sock, address);
  co_return sock;
}

// RFC 8305's order: alternate the families, starting with the first one resolved.
std::vector<AddrInfo> interleave(std::vector<AddrInfo> infos) {
  std::vector<AddrInfo> first, other, out;
  for (AddrInfo& ai : infos) (ai.family == infos.front().family ? first : other).push_back(std::move(ai));
  for (std::size_t i = 0; i < std::max(first.size(), other.size()); ++i) {
    if (i < first.size()) out.push_back(std::move(first[i]));
    if (i < other.size()) out.push_back(std::move(other[i]));
  }
  return out;
}

[[noreturn]] void raise_all_failed(const std::vector<std::exception_ptr>& errors, const std::string& host, int port) {
  if (errors.size() == 1) std::rethrow_exception(errors.front());
  std::string all;
  bool same = true;
  std::string first;
  for (const std::exception_ptr& e : errors) {
    std::string what;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      what = x.what();
    }
    if (first.empty()) first = what;
    same = same && what == first;
    all += (all.empty() ? "" : ", ") + what;
  }
  if (same) std::rethrow_exception(errors.front());
  throw OSError(0, "Multiple exceptions connecting to ('" + host + "', " + std::to_string(port) + "): " + all);
}

// Every address, one after another, or staggered (Happy Eyeballs): the first to
// connect wins and the others are cancelled.
Coro<Socket> connect_any(std::vector<AddrInfo> infos, const ConnectionOptions& options, std::string host, int port,
                         std::optional<std::pair<std::string, int>> local) {
  std::vector<std::exception_ptr> errors;
  if (!options.happy_eyeballs_delay || infos.size() == 1) {
    for (const AddrInfo& ai : infos) {
      try {
        co_return co_await connect_one(ai.address, ai.type ? ai.type : SOCK_STREAM, ai.proto, local);
      } catch (const std::system_error&) {
        errors.push_back(std::current_exception());
      }
    }
    raise_all_failed(errors, host, port);
  }
  infos = interleave(std::move(infos));
  std::vector<Task<Socket>> running;
  std::size_t next = 0;
  std::optional<Socket> winner;
  try {
    while (!winner) {
      if (next < infos.size()) {
        const AddrInfo& ai = infos[next++];
        running.push_back(create_task(connect_one(ai.address, SOCK_STREAM, ai.proto, local)));
      }
      if (running.empty()) break;
      WaitOptions wo;
      wo.return_when = FIRST_COMPLETED;
      if (next < infos.size()) wo.timeout = *options.happy_eyeballs_delay;
      auto [done, pending] = co_await wait(running, wo);
      running = std::move(pending);
      for (Task<Socket>& t : done) {
        if (t.exception()) {
          errors.push_back(t.exception());
        } else if (!winner) {
          winner = co_await t;
        }
      }
    }
  } catch (const CancelledError&) {
    for (Task<Socket>& t : running) t.cancel();
    throw;
  }
  for (Task<Socket>& t : running) t.cancel();
  for (Task<Socket>& t : running) {
    try {
      (void)co_await t;
    } catch (...) {
      // a cancelled or failed attempt: its socket is closed
    }
  }
  if (winner) co_return std::move(*winner);
  raise_all_failed(errors, host, port);
}

}  // namespace

namespace {

// The client's context, taken when open_connection is called (the options only refer to it).
std::optional<SSLContext> client_ssl(const ConnectionOptions& options) {
  if (!options.ssl && !options.server_hostname.empty()) throw ValueError("server_hostname is only meaningful with ssl");
  if (!options.ssl) return std::nullopt;
  return options.ssl.context() ? *options.ssl.context() : create_default_context();
}

Coro<void> client_tls(StreamWriter& writer, SSLContext ctx, std::string hostname, const ConnectionOptions& options) {
  Coro<void> handshake = writer.start_tls(std::move(ctx), std::move(hostname), options.ssl_handshake_timeout,
                                          options.ssl_shutdown_timeout);
  co_await std::move(handshake);
}

}  // namespace

Coro<std::pair<StreamReader, StreamWriter>> open_connection_coro(std::string host, int port, ConnectionOptions options,
                                                                 std::optional<SSLContext> tls, std::string hostname,
                                                                 std::optional<std::pair<std::string, int>> local) {
  std::vector<AddrInfo> infos;
  try {
    infos.push_back(AddrInfo{0, SOCK_STREAM, 0, {}, SockAddr(host, port)});  // a numeric host needs no resolver
    if (options.family != AF_UNSPEC && infos.front().address.family() != options.family) infos.clear();
  } catch (const ValueError&) {
  }
  if (infos.empty()) {
    infos = co_await getaddrinfo(host, port, options.family, SOCK_STREAM);
    if (infos.empty()) throw OSError(0, "getaddrinfo('" + host + "', " + std::to_string(port) + ") returned empty list");
  }
  Socket sock = co_await connect_any(std::move(infos), options, host, port, std::move(local));
  auto streams = open_stream(std::move(sock), options.limit);
  if (tls) {
    if (hostname.empty()) hostname = host;
    co_await client_tls(streams.second, *tls, std::move(hostname), options);
  }
  co_return streams;
}

Coro<std::pair<StreamReader, StreamWriter>> open_unix_connection_coro(std::string path, ConnectionOptions options,
                                                                      std::optional<SSLContext> tls,
                                                                      std::string hostname) {
  Socket sock(AF_UNIX, SOCK_STREAM);
  const SockAddr address = SockAddr::unix_path(path);
  co_await get_running_loop().sock_connect(sock, address);
  auto streams = open_stream(std::move(sock), options.limit);
  if (tls) co_await client_tls(streams.second, *tls, std::move(hostname), options);
  co_return streams;
}

// --- serving

struct Server::State : std::enable_shared_from_this<Server::State> {
  EventLoop* loop = nullptr;
  Handler handler;
  std::size_t limit = DEFAULT_LIMIT;
  std::optional<SSLContext> ssl;
  double ssl_handshake_timeout = 60.0;
  double ssl_shutdown_timeout = 30.0;
  std::vector<Socket> listeners;
  std::vector<Task<void>> acceptors;
  std::vector<std::shared_ptr<StreamState>> clients;  // open connections
  std::vector<Future<void>> closed_waiters;
  bool serving = false;
  bool closed = false;
  std::string unix_path;

  Coro<void> accept_loop(std::size_t i) {
    auto self = shared_from_this();
    int failures = 0;  // in a row
    for (;;) {
      std::pair<Socket, SockAddr> conn;
      double retry_after = -1;
      try {
        conn = co_await loop->sock_accept(listeners[i]);
        failures = 0;
      } catch (const std::system_error& e) {
        const int err = e.code().value();
        ExceptionContext ctx;
        ctx.exception = std::current_exception();
        if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
          // Out of descriptors: say so, and try again in a second (as asyncio does);
          // the pending connection waits in the backlog.
          ctx.message = "socket.accept() out of system resource";
          retry_after = 1;
        } else {
          // A connection that failed before we took it (ECONNABORTED, EPROTO, ...):
          // asyncio logs it and keeps accepting. The same error again at once waits
          // a second, so that a listener that keeps failing does not spin.
          ctx.message = "Error on accepting a connection";
          retry_after = ++failures > 1 ? 1 : 0;
        }
        if (err != ECONNABORTED) loop->call_exception_handler(ctx);
      }
      if (retry_after >= 0) {
        co_await sleep(retry_after);
        continue;
      }
      if (conn.second.family() != AF_UNIX) conn.first.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
      auto state = std::make_shared<StreamState>(std::move(conn.first), limit, *loop, std::move(conn.second));
      state->server_side_ = true;
      clients.push_back(state);
      state->on_closed_ = [weak = weak_from_this(), raw = state.get()] {
        if (auto server = weak.lock()) server->forget(raw);
      };
      (void)create_task(serve_client(handler, detail::user_handle(std::move(state)), ssl, ssl_handshake_timeout,
                                     ssl_shutdown_timeout));
    }
  }

  static Coro<void> serve_client(Handler handler, std::shared_ptr<StreamState> s, std::optional<SSLContext> ssl,
                                 double handshake_timeout, double shutdown_timeout) {
    if (ssl) {
      // A failed handshake drops this connection only; the handler never sees it.
      bool failed = false;
      try {
        StreamWriter writer(s);
        Coro<void> handshake = writer.start_tls(*ssl, std::string(), handshake_timeout, shutdown_timeout);
        co_await std::move(handshake);
      } catch (const std::exception&) {
        ExceptionContext ctx;
        ctx.message = "SSL handshake failed";
        try {
          throw;
        } catch (const SSLCertVerificationError&) {
          ctx.message = "SSL handshake failed on verifying the certificate";
        } catch (...) {
        }
        ctx.exception = std::current_exception();
        get_running_loop().call_exception_handler(ctx);
        failed = true;
      }
      if (failed) {
        s->abort();
        co_return;
      }
    }
    try {
      co_await handler(StreamReader(s), StreamWriter(s));
    } catch (const std::exception&) {
      ExceptionContext ctx;
      ctx.message = "Unhandled exception in client_connected_cb";
      ctx.exception = std::current_exception();
      get_running_loop().call_exception_handler(ctx);
      s->abort();
    }
  }

  void forget(StreamState* s) {
    std::erase_if(clients, [s](const std::shared_ptr<StreamState>& c) { return c.get() == s; });
    maybe_wake();
  }

  void maybe_wake() {
    if (closed && clients.empty()) StreamState::wake(closed_waiters);
  }

  void start() {
    if (serving || closed) return;
    serving = true;
    for (std::size_t i = 0; i < listeners.size(); ++i) acceptors.push_back(create_task(accept_loop(i)));
  }

  void close() {
    if (closed) return;
    closed = true;
    serving = false;
    for (Task<void>& t : acceptors) t.cancel();
    acceptors.clear();
    for (Socket& l : listeners) l.close();
    if (!unix_path.empty()) ::unlink(unix_path.c_str());
    maybe_wake();
  }
};

void Server::start_serving() { s_->start(); }
bool Server::is_serving() const noexcept { return s_->serving; }
void Server::close() { s_->close(); }

void Server::close_clients() {
  auto clients = s_->clients;  // closing removes them
  for (auto& c : clients) c->close();
}

void Server::abort_clients() {
  auto clients = s_->clients;
  for (auto& c : clients) c->abort();
}

Coro<void> Server::serve_forever() {
  auto s = s_;
  if (s->closed) throw RuntimeError("server is closed");
  s->start();
  Future<void> forever = get_running_loop().create_future();
  try {
    co_await forever;
  } catch (const CancelledError&) {
    s->close();
    throw;
  }
}

Coro<void> Server::wait_closed() {
  auto s = s_;
  if (s->closed && s->clients.empty()) co_return;
  Future<void> f = get_running_loop().create_future();
  s->closed_waiters.push_back(f);
  co_await f;
}

std::vector<SockAddr> Server::sockets() const {
  std::vector<SockAddr> out;
  for (const Socket& l : s_->listeners) {
    if (l) out.push_back(l.getsockname());
  }
  return out;
}

int Server::port() const {
  if (s_->listeners.empty() || !s_->listeners.front()) throw RuntimeError("the server is not listening");
  return s_->listeners.front().getsockname().port();
}

namespace {

// The server's context, taken when start_server is called.
std::optional<SSLContext> server_ssl(const ServerOptions& options) {
  if (!options.ssl) return std::nullopt;
  if (!options.ssl.context()) throw ValueError("Server side SSL needs a valid SSLContext");
  if (options.ssl.context()->protocol() != PROTOCOL_TLS_SERVER) {
    throw ValueError("the server's SSLContext must be PROTOCOL_TLS_SERVER");
  }
  return *options.ssl.context();
}

std::shared_ptr<Server::State> new_server(Server::Handler handler, const ServerOptions& options,
                                          std::optional<SSLContext> ssl) {
  auto s = std::make_shared<Server::State>();
  s->loop = &get_running_loop();
  s->handler = std::move(handler);
  s->limit = options.limit;
  s->ssl = std::move(ssl);
  s->ssl_handshake_timeout = options.ssl_handshake_timeout;
  s->ssl_shutdown_timeout = options.ssl_shutdown_timeout;
  return s;
}

}  // namespace

Coro<Server> start_server_coro(Server::Handler handler, std::string host, int port, ServerOptions options,
                               std::optional<SSLContext> ssl) {
  auto s = new_server(std::move(handler), options, std::move(ssl));
  std::vector<AddrInfo> infos;
  if (host.empty()) {
    infos.push_back(AddrInfo{AF_INET, SOCK_STREAM, 0, {}, SockAddr("0.0.0.0", port)});
  } else {
    try {
      infos.push_back(AddrInfo{0, SOCK_STREAM, 0, {}, SockAddr(host, port)});
    } catch (const ValueError&) {
      // a name: resolved below
    }
    if (infos.empty()) infos = co_await getaddrinfo(host, port, options.family, SOCK_STREAM, 0, AI_PASSIVE);
  }
  for (const AddrInfo& ai : infos) {
    Socket sock(ai.address.family(), SOCK_STREAM);
    if (options.reuse_address.value_or(true)) sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    if (options.reuse_port) sock.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
    if (ai.address.family() == AF_INET6) sock.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, 1);
    sock.bind(ai.address);
    sock.listen(options.backlog);
    s->listeners.push_back(std::move(sock));
  }
  if (options.start_serving) s->start();
  co_return Server(std::move(s));
}

Coro<Server> start_unix_server_coro(Server::Handler handler, std::string path, ServerOptions options,
                                    std::optional<SSLContext> ssl) {
  auto s = new_server(std::move(handler), options, std::move(ssl));
  Socket sock(AF_UNIX, SOCK_STREAM);
  // As asyncio: a stale socket file of an earlier server is removed first.
  struct stat st {};
  if (!path.empty() && path[0] != '\0' && ::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(path.c_str());
  sock.bind(SockAddr::unix_path(path));
  sock.listen(options.backlog);
  s->listeners.push_back(std::move(sock));
  s->unix_path = path;
  if (options.start_serving) s->start();
  co_return Server(std::move(s));
}

// The public functions are not coroutines: they take what the options refer to (the
// context, the host name) while the caller's objects are alive, and hand owned copies
// to the coroutine. (The options hold no owning members for that reason: g++ 12
// destroys an aggregate temporary made inside a co_await expression twice.)
Coro<std::pair<StreamReader, StreamWriter>> open_connection(std::string host, int port, ConnectionOptions options) {
  std::optional<SSLContext> tls = client_ssl(options);
  std::string hostname(options.server_hostname);
  std::optional<std::pair<std::string, int>> local;
  if (options.local_addr) local.emplace(std::string(options.local_addr->first), options.local_addr->second);
  return open_connection_coro(std::move(host), port, options, std::move(tls), std::move(hostname), std::move(local));
}

Coro<std::pair<StreamReader, StreamWriter>> open_unix_connection(std::string path, ConnectionOptions options) {
  std::optional<SSLContext> tls = client_ssl(options);
  // As asyncio: a Unix socket has no host name to check unless one is given.
  if (tls && options.server_hostname.empty() && tls->check_hostname()) {
    throw ValueError("you have to pass server_hostname when using ssl");
  }
  std::string hostname(options.server_hostname);
  return open_unix_connection_coro(std::move(path), options, std::move(tls), std::move(hostname));
}

Coro<Server> start_server(Server::Handler handler, std::string host, int port, ServerOptions options) {
  std::optional<SSLContext> ssl = server_ssl(options);
  return start_server_coro(std::move(handler), std::move(host), port, options, std::move(ssl));
}

Coro<Server> start_unix_server(Server::Handler handler, std::string path, ServerOptions options) {
  std::optional<SSLContext> ssl = server_ssl(options);
  return start_unix_server_coro(std::move(handler), std::move(path), options, std::move(ssl));
}

}  // namespace aio
