// src/stream_state.hpp (internal): one stream connection, shared by the stream API
// (streams.cpp: StreamReader, StreamWriter, Server) and by the protocol API
// (protocols.cpp: Transport, create_connection, create_server), which drive the same
// socket, buffers and TLS session.
#pragma once

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aio/detail/byte_buffer.hpp"
#include "aio/detail/io_wait.hpp"
#include "aio/events.hpp"
#include "aio/protocols.hpp"
#include "aio/ssl.hpp"
#include "aio/streams.hpp"
#include "aio/tasks.hpp"

namespace aio {
namespace detail {

class StreamState;

// A connection driven by a protocol (protocols.cpp) instead of a StreamReader: the
// loop runs a read step whenever the socket is readable and hands what it read to
// the protocol; the transport writes through the stream's write buffer.
struct ProtocolLink {
  explicit ProtocolLink(StreamState& s);
  ~ProtocolLink();
  ProtocolLink(const ProtocolLink&) = delete;
  ProtocolLink& operator=(const ProtocolLink&) = delete;

  // What the socket's next readable edge wakes: it queues the read step.
  struct Edge final : IoWaiter {
    StreamState* s = nullptr;
    void on_io_ready() noexcept override;
    void on_io_abandoned() noexcept override;
  };

  std::shared_ptr<BaseProtocol> protocol;
  Protocol* plain = nullptr;             // the protocol, when it is a Protocol
  BufferedProtocol* buffered = nullptr;  // or a BufferedProtocol
  Edge edge;
  LoopItem* step = nullptr;    // the read step (protocols.cpp), queued on the loop's ready list
  bool queued = false;         // the step is on the ready list
  bool waiting = false;        // the edge is registered with the loop
  bool paused = false;         // pause_reading()
  bool reading_done = false;   // EOF or an error: nothing more to read
  bool writing_paused = false; // pause_writing() was called, resume_writing() not yet
  bool lost_scheduled = false; // connection_lost is on its way (asyncio's _conn_lost)
  bool read_only = false;      // connect_read_pipe: reads, cannot write
  bool write_only = false;     // connect_write_pipe: writes; readable means the reader went away
  bool terminal = false;       // a write pipe on a character device: only an error or a hang-up means that
  bool unwatched = false;      // a write pipe on a device epoll cannot watch (/dev/null): no edges, ever
  std::exception_ptr exc;      // what closed the connection, for connection_lost
  std::shared_ptr<StreamState> keep;  // the connection, until connection_lost has run
};

// What a pipe transport is (connect_read_pipe, connect_write_pipe); all false for a socket.
struct PipeMode {
  bool read_only = false;
  bool write_only = false;
  bool terminal = false;  // on a character device
  bool unwatched = false;  // a character device epoll refuses (/dev/null, /dev/full: EPERM)
};

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
    if (sock_.fileno() < 0) {  // closed meanwhile
      eof_ = true;
      return true;
    }
    const std::size_t room = std::max<std::size_t>(limit_, 16 * 1024);
    const ssize_t n = read_some(rbuf_.prepare(room), room);
    if (n > 0) rbuf_.commit(static_cast<std::size_t>(n));
    return n >= 0;
  }

  // One read of up to `room` bytes into `p`: how many came (0 at EOF, or when the
  // descriptor is gone, which sets eof_), or -1 when the kernel had nothing (the
  // readiness flag is then down). An error is kept for every later read, and thrown.
  ssize_t read_some(char* p, std::size_t room) {
    for (;;) {
      const int fd = sock_.fileno();
      if (fd < 0) {  // closed meanwhile
        eof_ = true;
        return 0;
      }
      const ssize_t n = raw_read(fd, p, room);
      if (n > 0) {
        if (static_cast<std::size_t>(n) < room) loop_->clear_io_ready(fd, false);
        return n;
      }
      if (n == 0) {
        eof_ = true;
        return 0;
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
      return -1;
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

  // Reads ciphertext from the socket into the session once, or notes the EOF: true;
  // false when the socket has nothing now (its readiness flag is then down).
  bool tls_feed_now() {
    for (;;) {
      const int fd = sock_.fileno();
      if (fd < 0) {
        tls_->feed_eof();
        return true;
      }
      if (!loop_->io_ready(fd, false)) return false;
      if (!tls_in_) tls_in_ = std::make_unique<char[]>(kTlsChunk);
      const ssize_t n = raw_read(fd, tls_in_.get(), kTlsChunk);
      if (n > 0) {
        tls_->feed(tls_in_.get(), static_cast<std::size_t>(n));
        if (static_cast<std::size_t>(n) < kTlsChunk) loop_->clear_io_ready(fd, false);
        return true;
      }
      if (n == 0) {
        tls_->feed_eof();
        return true;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        const int err = errno;  // before peer_str()
        throw_os_error(err, "recv from " + peer_str());
      }
      loop_->clear_io_ready(fd, false);
      return false;
    }
  }

  // Reads ciphertext into the session once, waiting for the socket when it has none.
  Coro<void> tls_feed() {
    while (!tls_feed_now()) co_await IoWait(*loop_, sock_.fileno(), false);
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

  // One step of reading over TLS without waiting: plaintext appended to the buffer,
  // or the peer's close_notify (eof_): true; false when the socket has nothing now.
  // Throws the session's error or the socket's.
  bool tls_read_now() {
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
        return true;
      }
      if (st == TlsSession::CLOSED) {
        eof_ = true;
        return true;
      }
      if (!tls_feed_now()) return false;
    }
  }

  Coro<void> tls_fill() {
    if (lingering_) {  // closed by us: nothing more to read
      eof_ = true;
      co_return;
    }
    try {
      while (!tls_read_now()) co_await IoWait(*loop_, sock_.fileno(), false);
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
      if (link_) link_fatal(lost_, "Fatal error on SSL protocol");
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
      if (link_) link_fatal(lost_, "Fatal error on SSL protocol");
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
        if (link_ && link_->unwatched) [[unlikely]] {
          // No writable edge will ever come to send the rest: fail rather than keep it.
          connection_lost(EAGAIN, "write to " + peer_str() + ": the device is not ready, and epoll cannot watch it");
          return;
        }
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
    if (lost_ || closed_) return;  // the buffer went with the connection
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
    if (pending() <= low_) {
      wake(drain_waiters_);
      if (link_) link_drained();
    }
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
    if (link_) {
      link_lost();
    } else if (closing_) {
      finish_close();
    }
  }

  void close() {
    if (closing_) return;
    if (link_) link_stop_reading();
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

  // write_eof(), as StreamWriter's and Transport's.
  void write_eof() {
    if (tls_) throw NotImplementedError("SSL doesn't support half-closes");
    if (eof_written_ || eof_pending_ || closing_) return;
    if (pipe_) {
      eof_written_ = true;  // a pipe's end of file is its close, once the buffer is out
      close();
      return;
    }
    if (pending() == 0) {
      if (::shutdown(sock_.fileno(), SHUT_WR) < 0 && errno != ENOTCONN) throw_os_error(errno, "shutdown(SHUT_WR)");
      eof_written_ = true;
    } else {
      eof_pending_ = true;
    }
  }

  // set_write_buffer_limits(high, low), as asyncio's.
  void set_write_buffer_limits(std::optional<std::size_t> high, std::optional<std::size_t> low) {
    const std::size_t h = high ? *high : (low ? 4 * *low : 64 * 1024);
    const std::size_t l = low ? *low : h / 4;
    if (l > h) throw ValueError("high (" + std::to_string(h) + ") must be >= low (" + std::to_string(l) + ") must be >= 0");
    high_ = h;
    low_ = l;
  }

  SockAddr peername() const {
    if (pipe_) return SockAddr();  // asyncio's get_extra_info("peername") is None for a pipe
    return peer_.empty() ? sock_.getpeername() : peer_;
  }

  // The TLS details, as StreamWriter and Transport give them.
  std::string ssl_version() const { return tls_ ? tls_->version() : ""; }
  std::optional<CipherInfo> cipher() const {
    if (!tls_ || !tls_->established()) return std::nullopt;
    return tls_->cipher();
  }
  std::optional<PeerCertificate> peercert() const { return tls_ ? tls_->peercert() : std::nullopt; }
  std::string selected_alpn_protocol() const { return tls_ ? tls_->selected_alpn_protocol() : ""; }

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
    // A protocol's connection_lost is queued with the last reference, or (the loop
    // closing) that reference comes back to be dropped here.
    std::shared_ptr<StreamState> protocol_keep = link_ ? link_closed() : nullptr;
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

  // --- protocol mode (protocols.cpp)
  std::unique_ptr<ProtocolLink> link_;  // null for a stream
  void link_start(std::shared_ptr<BaseProtocol> protocol, PipeMode pipe = {});
  void link_set_protocol(std::shared_ptr<BaseProtocol> protocol);
  void link_queue() noexcept;
  void link_step() noexcept;
  bool link_deliver() noexcept;
  void link_eof() noexcept;
  void link_reader_gone() noexcept;
  void link_wait() noexcept;
  void link_stop_reading() noexcept;
  void link_fatal(std::exception_ptr exc, const char* message) noexcept;
  void link_lost() noexcept;
  std::shared_ptr<BaseProtocol> link_release_protocol() noexcept;  // and its typed pointers
  void link_drained() noexcept;
  void link_paused_check() noexcept;
  std::shared_ptr<StreamState> link_closed() noexcept;

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

inline std::shared_ptr<StreamState> user_handle(std::shared_ptr<StreamState> state) {
  StreamState* raw = state.get();
  auto owner = std::make_shared<StreamOwner>(std::move(state));
  return std::shared_ptr<StreamState>(std::move(owner), raw);
}

/// Gives an accepted connection a protocol from `factory` and starts reading
/// (protocols.cpp); a factory that throws drops the connection.
void attach_protocol(std::shared_ptr<StreamState> s, const ProtocolFactory& factory) noexcept;
/// What open_connection and create_connection share (streams.cpp): the connected
/// socket's state, after the TLS handshake when there is one. Not a coroutine: it
/// copies what the options refer to.
Coro<std::shared_ptr<StreamState>> connect_stream(std::string host, int port, const ConnectionOptions& options);
Coro<std::shared_ptr<StreamState>> connect_unix_stream(std::string path, const ConnectionOptions& options);
/// The same over a connected socket of the caller's (asyncio's sock=), as a client,
/// or as the server side of an accepted connection (connect_accepted_socket).
Coro<std::shared_ptr<StreamState>> adopt_stream(Socket sock, const ConnectionOptions& options);
Coro<std::shared_ptr<StreamState>> adopt_accepted_stream(Socket sock, const ServerOptions& options);

}  // namespace detail


}  // namespace aio
