// Transports and protocols over the streams' connection (asyncio's
// selector_events._SelectorSocketTransport, and sslproto for TLS): create_connection,
// create_unix_connection, Transport, and the protocol side of create_server.
//
// The connection is the streams' StreamState, with a ProtocolLink in place of a
// reader: the loop queues a read step whenever the socket is readable (one read per
// loop iteration, asyncio's rhythm) and the step hands what came to the protocol.
// Between steps the link's edge stays registered with the loop, so a loop that
// closes with the connection still open releases it.
#include "aio/protocols.hpp"

#include <poll.h>
#include <sys/stat.h>

#include <cstring>

#include "aio/events.hpp"
#include "run_or_drop.hpp"
#include "stream_state.hpp"

namespace aio {
namespace detail {

namespace {

bool is_os_error(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::system_error&) {
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace

void report(EventLoop& loop, const char* message, std::exception_ptr exc) noexcept {
  try {
    ExceptionContext ctx;
    ctx.message = message;
    ctx.exception = std::move(exc);
    loop.call_exception_handler(ctx);
  } catch (...) {
    // the handler itself failed: nothing more to tell
  }
}

// The read step as an item of the loop's ready list. It lives in the link (no
// allocation per step); the connection outlives every queued run of it, since
// connection_lost, which frees it, is queued after.
struct ReadStep final : LoopItem {
  explicit ReadStep(StreamState& state) : s(&state) {}
  StreamState* s;
  void run() override { s->link_step(); }
  // The loop closes with the step queued: the connection goes with it.
  void discard() noexcept override {
    s->link_->queued = false;
    s->finish_close();
  }
  std::string repr() const override { return "<Handle _SelectorSocketTransport._read_ready()>"; }

 protected:
  void destroy() noexcept override {}  // owned by the link
};

ProtocolLink::ProtocolLink(StreamState& s) : step(new ReadStep(s)) { edge.s = &s; }
ProtocolLink::~ProtocolLink() { delete static_cast<ReadStep*>(step); }

void ProtocolLink::Edge::on_io_ready() noexcept {
  s->link_->waiting = false;
  s->link_queue();
}

void ProtocolLink::Edge::on_io_abandoned() noexcept {
  s->link_->waiting = false;
  s->finish_close();
}

void StreamState::link_set_protocol(std::shared_ptr<BaseProtocol> protocol) {
  auto* plain = dynamic_cast<Protocol*>(protocol.get());
  auto* buffered = dynamic_cast<BufferedProtocol*>(protocol.get());
  if (!protocol) throw TypeError("the protocol factory returned no protocol");
  // A write pipe reads nothing: any BaseProtocol will do, as asyncio's.
  if (plain == nullptr && buffered == nullptr && !link_->write_only) {
    throw TypeError("the protocol must be a Protocol or a BufferedProtocol");
  }
  link_->protocol = std::move(protocol);
  link_->plain = plain;
  link_->buffered = buffered;
}

void StreamState::link_start(std::shared_ptr<BaseProtocol> protocol, PipeMode pipe) {
  link_ = std::make_unique<ProtocolLink>(*this);
  link_->read_only = pipe.read_only;
  link_->write_only = pipe.write_only;
  link_->terminal = pipe.terminal;
  link_->unwatched = pipe.unwatched;
  link_set_protocol(std::move(protocol));
  link_->keep = shared_from_this();
  try {
    link_->protocol->connection_made(Transport(shared_from_this()));
  } catch (...) {
    link_fatal(std::current_exception(), "Fatal error: protocol.connection_made() call failed.");
    return;
  }
  // Reading starts on the next iteration, after connection_made. A write pipe the
  // loop cannot watch hears of no reader going (asyncio watches none on a character
  // device) and ends by close(), abort() or a failed write; its edge, which never
  // comes, is there for a loop that closes first, which abandons it.
  if (link_->unwatched) {
    link_wait();
    return;
  }
  link_queue();
}

void StreamState::link_queue() noexcept {
  ProtocolLink& l = *link_;
  if (l.queued || closed_ || l.lost_scheduled) return;
  if (l.waiting) {
    loop_->set_io_waiter(sock_.fileno(), false, nullptr);
    l.waiting = false;
  }
  l.queued = true;
  loop_->push_ready(l.step);
}

// Registers the edge: the next readable edge queues the step, and a loop that closes
// meanwhile abandons it. Kept while reading is paused or done too, for the latter.
void StreamState::link_wait() noexcept {
  ProtocolLink& l = *link_;
  const int fd = sock_.fileno();
  if (l.waiting || l.queued || closing_ || fd < 0) return;
  l.waiting = true;
  loop_->set_io_waiter(fd, false, &l.edge);
}

void StreamState::link_stop_reading() noexcept {
  ProtocolLink& l = *link_;
  if (l.waiting && sock_.fileno() >= 0) loop_->set_io_waiter(sock_.fileno(), false, nullptr);
  l.waiting = false;
}

void StreamState::link_step() noexcept {
  ProtocolLink& l = *link_;
  l.queued = false;
  if (closing_ || l.paused || l.reading_done) {
    link_wait();
    return;
  }
  auto self = shared_from_this();  // a callback may close the connection and drop the rest
  if (l.write_only) {
    link_reader_gone();
    return;
  }
  const int fd = sock_.fileno();
  if (!rbuf_.empty()) {  // what a BufferedProtocol over TLS paused in the middle of
    if (!link_deliver() || closing_) return;
    if (!rbuf_.empty()) {
      link_wait();
      return;
    }
  }
  try {
    if (l.buffered != nullptr && !tls_) {
      if (!loop_->io_ready(fd, false)) {
        link_wait();
        return;
      }
      std::span<char> buf;
      try {
        buf = l.buffered->get_buffer(-1);
        if (buf.empty()) throw RuntimeError("get_buffer() returned an empty buffer");
      } catch (...) {
        link_fatal(std::current_exception(), "Fatal error: protocol.get_buffer() call failed.");
        return;
      }
      const ssize_t n = read_some(buf.data(), buf.size());
      if (n < 0) {
        link_wait();
        return;
      }
      if (n > 0) {
        try {
          l.buffered->buffer_updated(static_cast<std::size_t>(n));
        } catch (...) {
          link_fatal(std::current_exception(), "Fatal error: protocol.buffer_updated() call failed.");
          return;
        }
      }
    } else {
      const bool got = tls_ ? tls_read_now() : (loop_->io_ready(fd, false) && read_now());
      if (!got) {
        link_wait();
        return;
      }
      if (!link_deliver()) return;
    }
  } catch (...) {
    link_fatal(std::current_exception(), tls_    ? "Fatal error on SSL protocol"
                                         : pipe_ ? "Fatal read error on pipe transport"
                                                 : "Fatal read error on socket transport");
    return;
  }
  if (closing_) return;
  if (!rbuf_.empty()) {  // paused with plaintext left: resume_reading delivers it
    link_wait();
    return;
  }
  if (eof_) {
    link_eof();
    return;
  }
  // More now (a full read, or TLS records the session still holds): the next
  // iteration reads again; otherwise the next edge.
  if (!l.paused && (tls_ || loop_->io_ready(sock_.fileno(), false))) {
    link_queue();
  } else {
    link_wait();
  }
}

// Hands the buffered bytes to the protocol; false when a callback failed and closed
// the connection. A Protocol gets them all at once. A BufferedProtocol over TLS gets
// them copied into its buffers, as many as it takes before it pauses reading (the
// rest waits in the buffer) or closes (the rest is dropped).
bool StreamState::link_deliver() noexcept {
  ProtocolLink& l = *link_;
  while (!rbuf_.empty() && !closing_ && !l.paused) {
    if (l.plain != nullptr) {
      try {
        l.plain->data_received(rbuf_.view());
      } catch (...) {
        rbuf_.consume(rbuf_.size());
        link_fatal(std::current_exception(), "Fatal error: protocol.data_received() call failed.");
        return false;
      }
      rbuf_.consume(rbuf_.size());
      continue;
    }
    const char* message = "Fatal error: protocol.get_buffer() call failed.";
    try {
      std::span<char> buf = l.buffered->get_buffer(-1);
      if (buf.empty()) throw RuntimeError("get_buffer() returned an empty buffer");
      const std::size_t n = std::min(buf.size(), rbuf_.size());
      std::memcpy(buf.data(), rbuf_.view().data(), n);
      rbuf_.consume(n);
      message = "Fatal error: protocol.buffer_updated() call failed.";
      l.buffered->buffer_updated(n);
    } catch (...) {
      rbuf_.consume(rbuf_.size());
      link_fatal(std::current_exception(), message);
      return false;
    }
  }
  if (closing_) rbuf_.consume(rbuf_.size());
  return true;
}

// The peer's EOF: eof_received() says whether to stay open for writing (over TLS the
// connection closes either way, as asyncio's).
void StreamState::link_eof() noexcept {
  ProtocolLink& l = *link_;
  l.reading_done = true;
  bool keep_open = false;
  try {
    keep_open = l.plain != nullptr ? l.plain->eof_received() : l.buffered->eof_received();
  } catch (...) {
    link_fatal(std::current_exception(), "Fatal error: protocol.eof_received() call failed.");
    return;
  }
  if (keep_open && !tls_ && !l.read_only) {  // a read pipe closes at its EOF whatever the protocol says
    link_wait();
  } else {
    close();
  }
}

// A write pipe's descriptor turned readable (asyncio's _UnixWritePipeTransport
// watches it for that): for a pipe, the reader closed its end. With nothing buffered
// the transport closes (connection_lost(null)); with bytes still to send, they can
// never arrive: BrokenPipeError. An edge without a hang-up (the loop's first guess
// for a new descriptor) waits for the next one.
void StreamState::link_reader_gone() noexcept {
  const int fd = sock_.fileno();
  pollfd p{fd, POLLIN, 0};
  int n = 0;
  do {
    n = ::poll(&p, 1, 0);
  } while (n < 0 && errno == EINTR);
  // A pipe or a socket turns readable when its reader goes (asyncio watches only
  // those); a terminal turns readable when someone types, so there only an error or
  // a hang-up counts.
  const short gone = link_->terminal ? (POLLERR | POLLHUP) : (POLLIN | POLLERR | POLLHUP);
  if (n <= 0 || (p.revents & gone) == 0) {
    loop_->clear_io_ready(fd, false);
    link_wait();
    return;
  }
  if (pending() == 0) {
    close();
    return;
  }
  std::exception_ptr exc;
  try {
    throw_os_error(EPIPE, "write to " + peer_str() + ": the reader closed it");
  } catch (...) {
    exc = std::current_exception();
  }
  link_fatal(std::move(exc), "Fatal write error on pipe transport");
}

// asyncio's _fatal_error: an OSError ends the connection quietly (connection_lost
// gets it); anything else also goes to the loop's exception handler.
void StreamState::link_fatal(std::exception_ptr exc, const char* message) noexcept {
  ProtocolLink& l = *link_;
  if (!is_os_error(exc)) report(*loop_, message, exc);  // even when a callback closed first, then threw
  if (closed_ || l.lost_scheduled) return;
  l.exc = std::move(exc);
  abort();
}

void StreamState::link_lost() noexcept { link_fatal(lost_, "Fatal write error on socket transport"); }

// asyncio's _maybe_pause_protocol.
void StreamState::link_paused_check() noexcept {
  ProtocolLink& l = *link_;
  if (l.writing_paused || pending() <= high_ || !l.protocol) return;
  l.writing_paused = true;
  try {
    l.protocol->pause_writing();
  } catch (...) {
    report(*loop_, "protocol.pause_writing() failed", std::current_exception());
  }
}

// asyncio's _maybe_resume_protocol.
void StreamState::link_drained() noexcept {
  ProtocolLink& l = *link_;
  if (!l.writing_paused || pending() > low_ || !l.protocol) return;
  l.writing_paused = false;
  try {
    l.protocol->resume_writing();
  } catch (...) {
    report(*loop_, "protocol.resume_writing() failed", std::current_exception());
  }
}

// The connection closed (finish_close): connection_lost goes on the ready list with
// the last reference; when the loop is closing, that reference is given back.
std::shared_ptr<StreamState> StreamState::link_closed() noexcept {
  ProtocolLink& l = *link_;
  l.reading_done = true;
  l.waiting = false;  // the socket's close unhooked it
  if (l.lost_scheduled) return nullptr;
  l.lost_scheduled = true;
  std::shared_ptr<StreamState> keep = std::move(l.keep);
  if (!keep) return nullptr;  // never started
  if (loop_is_alive(loop_) && !loop_->is_closed()) {
    try {
      // Letting the protocol go ends the cycle through it; when the loop closes with
      // the call still queued, the protocol goes all the same.
      loop_->call_soon(run_or_drop(
          [keep, exc = l.exc]() mutable {
            std::shared_ptr<BaseProtocol> protocol = keep->link_release_protocol();
            if (protocol) protocol->connection_lost(std::move(exc));
          },
          [keep] { (void)keep->link_release_protocol(); }));
      return nullptr;
    } catch (...) {
      // out of memory: no connection_lost
    }
  }
  (void)link_release_protocol();  // while `keep` holds the connection
  return keep;
}

std::shared_ptr<BaseProtocol> StreamState::link_release_protocol() noexcept {
  link_->plain = nullptr;
  link_->buffered = nullptr;
  return std::move(link_->protocol);
}

void attach_protocol(std::shared_ptr<StreamState> s, const ProtocolFactory& factory) noexcept {
  try {
    s->link_start(factory());
  } catch (...) {
    report(*s->loop_, "Error on transport creation for incoming connection", std::current_exception());
    s->abort();
  }
}

namespace {

Coro<Transport> start_protocol(Coro<std::shared_ptr<StreamState>> connecting, ProtocolFactory factory,
                               const EventLoop* loop) {
  if (&get_running_loop() != loop) throw RuntimeError("create_connection() must run on the loop it is given");
  std::shared_ptr<StreamState> s = co_await std::move(connecting);
  try {
    s->link_start(factory());
  } catch (...) {
    s->abort();
    throw;
  }
  co_return Transport(std::move(s));
}

// A descriptor a pipe transport takes: a pipe, a socket or a character device (a
// terminal, /dev/null), as asyncio's; made non-blocking. Until it is checked it stays
// the caller's.
struct PipeFd {
  Socket sock;
  bool terminal;   // a character device
  bool unwatched;  // one epoll cannot watch
};

// epoll refuses a descriptor whose driver cannot say when it is ready (EPERM): the
// memory devices (/dev/null, /dev/zero, /dev/full), which never make a writer wait.
// asyncio's connect_write_pipe takes them, writing straight through; so does ours,
// with the loop holding the descriptor without watching it (send_some fails the
// transport if one ever said EAGAIN: no edge would come to finish the write).
// Anything else epoll refuses, and a read pipe it refuses, stays the caller's.
bool attach_pipe(EventLoop& loop, int fd, bool for_writing, bool character_device) {
  try {
    loop.attach_io(fd);
    return true;
  } catch (const std::system_error& e) {
    if (e.code().value() != EPERM || !for_writing || !character_device) throw;
  }
  loop.attach_io(fd, false);
  return false;
}

PipeFd pipe_socket(EventLoop& loop, int fd, bool for_writing) {
  struct stat st {};
  if (::fstat(fd, &st) < 0) throw_os_error(errno, "fstat on fd " + std::to_string(fd));
  if (!S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode) && !S_ISCHR(st.st_mode)) {
    throw ValueError("Pipe transport is only for pipes, sockets and character devices (fd " + std::to_string(fd) + ")");
  }
  const bool watched = attach_pipe(loop, fd, for_writing, S_ISCHR(st.st_mode));  // first: a refusal leaves fd alone
  try {
    Socket sock = Socket::from_fd(fd);
    sock.set_loop(&loop);
    return {std::move(sock), S_ISCHR(st.st_mode), !watched};
  } catch (...) {
    loop.detach_io(fd);
    throw;
  }
}

Coro<Transport> start_pipe(EventLoop& loop, ProtocolFactory factory, int fd, bool read_only) {
  if (&get_running_loop() != &loop) {
    throw RuntimeError(read_only ? "connect_read_pipe() must run on the loop it is given"
                                 : "connect_write_pipe() must run on the loop it is given");
  }
  std::shared_ptr<BaseProtocol> protocol = factory();  // before the descriptor is taken, as asyncio
  PipeFd pipe = pipe_socket(loop, fd, !read_only);
  auto s = std::make_shared<StreamState>(std::move(pipe.sock), DEFAULT_LIMIT, loop);
  try {
    s->link_start(std::move(protocol), {.read_only = read_only,
                                        .write_only = !read_only,
                                        .terminal = pipe.terminal,
                                        .unwatched = pipe.unwatched});
  } catch (...) {  // not a protocol for this transport: the descriptor closes
    s->abort();
    throw;
  }
  co_return Transport(std::move(s));
}

}  // namespace

Coro<Transport> connect_read_pipe_protocol(EventLoop& loop, ProtocolFactory factory, int fd) {
  return start_pipe(loop, std::move(factory), fd, true);
}

Coro<Transport> connect_write_pipe_protocol(EventLoop& loop, ProtocolFactory factory, int fd) {
  return start_pipe(loop, std::move(factory), fd, false);
}

Coro<Transport> connect_protocol(EventLoop& loop, ProtocolFactory factory, std::string host, int port,
                                 ConnectionOptions options) {
  return start_protocol(connect_stream(std::move(host), port, options), std::move(factory), &loop);
}

Coro<Transport> connect_unix_protocol(EventLoop& loop, ProtocolFactory factory, std::string path,
                                      ConnectionOptions options) {
  return start_protocol(connect_unix_stream(std::move(path), options), std::move(factory), &loop);
}

Coro<Transport> adopt_protocol(EventLoop& loop, ProtocolFactory factory, Socket sock, ConnectionOptions options) {
  return start_protocol(adopt_stream(std::move(sock), options), std::move(factory), &loop);
}

Coro<Transport> adopt_accepted_protocol(EventLoop& loop, ProtocolFactory factory, Socket sock, ServerOptions options) {
  return start_protocol(adopt_accepted_stream(std::move(sock), options), std::move(factory), &loop);
}

}  // namespace detail

// --- Transport (made only for a connection in protocol mode: link_ is always there)

namespace {
void check_writes(const detail::StreamState& s, const char* what) {
  if (s.link_->read_only) throw NotImplementedError(std::string(what) + "() on a read pipe transport, which cannot write");
}
void check_reads(const detail::StreamState& s, const char* what) {
  if (s.link_->write_only) throw NotImplementedError(std::string(what) + "() on a write pipe transport, which does not read");
}
}  // namespace

void Transport::write(std::string_view data) {
  check_writes(*s_, "write");
  s_->write(data);
  s_->link_paused_check();
}

void Transport::write_eof() {
  check_writes(*s_, "write_eof");
  s_->write_eof();
}
bool Transport::can_write_eof() const noexcept { return !s_->tls_ && !s_->link_->read_only; }
void Transport::close() { s_->close(); }
void Transport::abort() { s_->abort(); }
bool Transport::is_closing() const noexcept { return s_->closing_; }

void Transport::pause_reading() {
  check_reads(*s_, "pause_reading");
  if (s_->closing_ || s_->link_->paused) return;
  s_->link_->paused = true;  // the queued step, or the next edge, finds it paused
}

void Transport::resume_reading() {
  check_reads(*s_, "resume_reading");
  if (s_->closing_ || !s_->link_->paused) return;
  s_->link_->paused = false;
  if (!s_->link_->reading_done) s_->link_queue();
}

bool Transport::is_reading() const noexcept {
  return !s_->closing_ && !s_->link_->paused && !s_->link_->write_only;
}

std::size_t Transport::get_write_buffer_size() const noexcept { return s_->pending(); }

void Transport::set_write_buffer_limits(std::optional<std::size_t> high, std::optional<std::size_t> low) {
  s_->set_write_buffer_limits(high, low);
  s_->link_paused_check();
}

std::pair<std::size_t, std::size_t> Transport::get_write_buffer_limits() const noexcept { return {s_->low_, s_->high_}; }

std::shared_ptr<BaseProtocol> Transport::get_protocol() const noexcept { return s_->link_->protocol; }

void Transport::set_protocol(std::shared_ptr<BaseProtocol> protocol) { s_->link_set_protocol(std::move(protocol)); }

SockAddr Transport::peername() const { return s_->peername(); }
SockAddr Transport::sockname() const { return s_->pipe_ ? SockAddr() : s_->sock_.getsockname(); }
int Transport::fileno() const noexcept { return s_->sock_.fileno(); }
bool Transport::is_tls() const noexcept { return s_->tls_ != nullptr; }
std::string Transport::ssl_version() const { return s_->ssl_version(); }
std::optional<CipherInfo> Transport::cipher() const { return s_->cipher(); }
std::optional<PeerCertificate> Transport::peercert() const { return s_->peercert(); }
std::string Transport::selected_alpn_protocol() const { return s_->selected_alpn_protocol(); }

}  // namespace aio
