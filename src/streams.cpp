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

#include "aio/events.hpp"
#include "aio/netdb.hpp"
#include "aio/protocols.hpp"
#include "aio/ssl.hpp"
#include "aio/tasks.hpp"
#include "aio/wait.hpp"
#include "stream_state.hpp"

namespace aio {

using detail::StreamState;

// --- StreamReader

StreamReader::StreamReader(std::size_t limit) : s_(detail::user_handle(std::make_shared<StreamState>(limit))) {
  if (limit == 0) throw ValueError("Limit cannot be <= 0");
}

// As asyncio's, every read raises the connection's error once there is one (a
// reset, say), before it looks at the buffer or the EOF.
Coro<std::string> StreamReader::read(long n) {
  auto s = s_;
  if (s->rexc_) std::rethrow_exception(s->rexc_);
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

namespace {

// Where `separator` starts in `buf`, from `offset` on (npos: not there); a one-byte
// separator, as readline()'s, is one memchr.
std::size_t find_separator(std::string_view buf, std::string_view separator, std::size_t offset) noexcept {
  return separator.size() == 1 ? buf.find(separator[0], offset) : buf.find(separator, offset);
}

}  // namespace

// readuntil() and readline() use the state through a plain pointer while the line is
// in the buffer (the caller's reader holds it), and hold it only when they wait.
Coro<std::string> StreamReader::readuntil(std::string_view separator) {
  StreamState* s = s_.get();
  std::shared_ptr<StreamState> held;
  if (separator.empty()) throw ValueError("Separator should be at least one-byte string");
  if (s->rexc_) std::rethrow_exception(s->rexc_);  // as read()
  std::size_t offset = 0;
  for (;;) {
    const std::string_view buf = s->view();
    if (buf.size() >= separator.size()) {
      const std::size_t at = find_separator(buf, separator, offset);
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
    if (!held) held = s_;
    co_await s->fill("readuntil");
  }
}

// asyncio's readline() is readuntil("\n") with its errors turned around: a partial
// line at EOF is returned, and a line over the limit is dropped (or the whole buffer,
// when its end is not in it yet) and raised as ValueError. The same steps in one frame.
Coro<std::string> StreamReader::readline() {
  StreamState* s = s_.get();
  std::shared_ptr<StreamState> held;
  if (s->rexc_) std::rethrow_exception(s->rexc_);  // as read()
  std::size_t offset = 0;
  for (;;) {
    const std::string_view buf = s->view();
    const std::size_t at = buf.find('\n', offset);
    if (at != std::string_view::npos) {
      if (at > s->limit_) {
        s->consume(at + 1);
        throw ValueError("Separator is found, but chunk is longer than limit");
      }
      co_return s->take(at + 1);
    }
    offset = buf.size();
    if (offset > s->limit_) {
      s->consume(s->buffered());
      throw ValueError("Separator is not found, and chunk exceed the limit");
    }
    if (s->eof_) co_return s->take(s->buffered());
    if (!held) held = s_;
    co_await s->fill("readuntil");  // asyncio's readline() waits in readuntil()
  }
}

Coro<std::string> StreamReader::readexactly(std::size_t n) {
  auto s = s_;
  if (s->rexc_) std::rethrow_exception(s->rexc_);
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

void StreamWriter::write_eof() { s_->write_eof(); }

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
  s_->set_write_buffer_limits(high, low);
}

SockAddr StreamWriter::peername() const { return s_->peername(); }
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
std::string StreamWriter::ssl_version() const { return s_->ssl_version(); }
std::optional<CipherInfo> StreamWriter::cipher() const { return s_->cipher(); }
std::optional<PeerCertificate> StreamWriter::peercert() const { return s_->peercert(); }
std::string StreamWriter::selected_alpn_protocol() const { return s_->selected_alpn_protocol(); }

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

namespace {

// Closes a connection whose setup (the TLS handshake) failed or was cancelled: after
// what it buffered is sent, as the handles' owner would.
struct CloseUnlessKept {
  std::shared_ptr<StreamState> s;
  ~CloseUnlessKept() {
    if (s && detail::loop_is_alive(s->loop_)) s->close();
  }
};

// A connected socket's state, after the client's TLS handshake when there is one.
Coro<std::shared_ptr<StreamState>> client_state(Socket sock, ConnectionOptions options, std::optional<SSLContext> tls,
                                                std::string hostname) {
  CloseUnlessKept guard{std::make_shared<StreamState>(std::move(sock), options.limit, get_running_loop())};
  if (tls) {
    StreamWriter writer(guard.s);
    co_await client_tls(writer, *tls, std::move(hostname), options);
  }
  co_return std::move(guard.s);
}

Coro<std::shared_ptr<StreamState>> connect_coro(std::string host, int port, ConnectionOptions options,
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
  if (hostname.empty()) hostname = host;
  co_return co_await client_state(std::move(sock), options, std::move(tls), std::move(hostname));
}

Coro<std::shared_ptr<StreamState>> connect_unix_coro(std::string path, ConnectionOptions options,
                                                     std::optional<SSLContext> tls, std::string hostname) {
  Socket sock(AF_UNIX, SOCK_STREAM);
  const SockAddr address = SockAddr::unix_path(path);
  co_await get_running_loop().sock_connect(sock, address);
  co_return co_await client_state(std::move(sock), options, std::move(tls), std::move(hostname));
}

// An accepted socket's state, after the server's TLS handshake when there is one.
Coro<std::shared_ptr<StreamState>> accepted_state(Socket sock, ServerOptions options, std::optional<SSLContext> ssl) {
  CloseUnlessKept guard{std::make_shared<StreamState>(std::move(sock), options.limit, get_running_loop())};
  guard.s->server_side_ = true;
  if (ssl) {
    StreamWriter writer(guard.s);
    Coro<void> handshake =
        writer.start_tls(*ssl, std::string(), options.ssl_handshake_timeout, options.ssl_shutdown_timeout);
    co_await std::move(handshake);
  }
  co_return std::move(guard.s);
}

Coro<std::pair<StreamReader, StreamWriter>> as_streams(Coro<std::shared_ptr<StreamState>> connecting) {
  std::shared_ptr<StreamState> s = detail::user_handle(co_await std::move(connecting));
  co_return std::pair<StreamReader, StreamWriter>(StreamReader(s), StreamWriter(s));
}

}  // namespace

// --- serving

struct Server::State : std::enable_shared_from_this<Server::State> {
  EventLoop* loop = nullptr;
  Handler handler;                            // start_server's, or
  detail::ProtocolFactory protocol_factory;  // create_server's
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
      if (protocol_factory && !ssl) {
        detail::attach_protocol(std::move(state), protocol_factory);
        continue;
      }
      if (!protocol_factory) state = detail::user_handle(std::move(state));  // the handler's handles own it
      (void)create_task(
          serve_client(handler, protocol_factory, std::move(state), ssl, ssl_handshake_timeout, ssl_shutdown_timeout));
    }
  }

  static Coro<void> serve_client(Handler handler, detail::ProtocolFactory protocol_factory,
                                 std::shared_ptr<StreamState> s, std::optional<SSLContext> ssl, double handshake_timeout,
                                 double shutdown_timeout) {
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
    if (protocol_factory) {
      detail::attach_protocol(std::move(s), protocol_factory);
      co_return;
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

EventLoop& Server::get_loop() const noexcept { return *s_->loop; }

Coro<void> Server::aenter() { co_return; }

// asyncio's Server.__aexit__: close() and wait_closed(), whatever ended the body.
Coro<void> Server::aexit(std::exception_ptr) {
  Server self = *this;  // the frame keeps the state
  self.close();
  co_await self.wait_closed();
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

// The loop is the running one (`loop`, when given: create_server's).
EventLoop* server_loop(const EventLoop* loop, const char* func) {
  EventLoop* running = &get_running_loop();
  if (loop != nullptr && loop != running) throw RuntimeError(std::string(func) + "() must run on the loop it is given");
  return running;
}

// A server's state, with what every connection gets: a task running the handler, or
// a protocol from the factory.
std::shared_ptr<Server::State> new_server(Server::Handler handler, detail::ProtocolFactory factory,
                                          const ServerOptions& options) {
  auto s = std::make_shared<Server::State>();
  s->handler = std::move(handler);
  s->protocol_factory = std::move(factory);
  s->ssl = server_ssl(options);
  s->limit = options.limit;
  s->ssl_handshake_timeout = options.ssl_handshake_timeout;
  s->ssl_shutdown_timeout = options.ssl_shutdown_timeout;
  return s;
}

}  // namespace

Coro<Server> start_server_coro(std::shared_ptr<Server::State> s, std::string host, int port, ServerOptions options,
                               const EventLoop* loop = nullptr) {
  s->loop = server_loop(loop, "create_server");
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

Coro<Server> start_unix_server_coro(std::shared_ptr<Server::State> s, std::string path, ServerOptions options,
                                    const EventLoop* loop = nullptr) {
  s->loop = server_loop(loop, "create_unix_server");
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

// asyncio's sock=: a bound stream socket of the caller's (TCP or Unix), made to
// listen here with the options' backlog.
Coro<Server> start_sock_server_coro(std::shared_ptr<Server::State> s, Socket sock, ServerOptions options,
                                    const EventLoop* loop = nullptr) {
  s->loop = server_loop(loop, "create_server");
  sock.listen(options.backlog);
  s->listeners.push_back(std::move(sock));
  if (options.start_serving) s->start();
  co_return Server(std::move(s));
}

// What a server takes as its listening socket, checked at the call as asyncio checks it.
Socket server_socket(Socket sock) {
  if (!sock) throw ValueError("the server's socket is closed");
  if (sock.type() != SOCK_STREAM) {
    throw ValueError("A Stream Socket was expected, got fd " + std::to_string(sock.fileno()) + " of type " +
                     std::to_string(sock.type()));
  }
  return sock;
}

// The public functions are not coroutines: they take what the options refer to (the
// context, the host name) while the caller's objects are alive, and hand owned copies
// to the coroutine. (The options hold no owning members for that reason: g++ 12
// destroys an aggregate temporary made inside a co_await expression twice.)
namespace detail {

Coro<std::shared_ptr<StreamState>> connect_stream(std::string host, int port, const ConnectionOptions& options) {
  std::optional<SSLContext> tls = client_ssl(options);
  std::string hostname(options.server_hostname);
  std::optional<std::pair<std::string, int>> local;
  if (options.local_addr) local.emplace(std::string(options.local_addr->first), options.local_addr->second);
  return connect_coro(std::move(host), port, options, std::move(tls), std::move(hostname), std::move(local));
}

Coro<std::shared_ptr<StreamState>> adopt_stream(Socket sock, const ConnectionOptions& options) {
  std::optional<SSLContext> tls = client_ssl(options);
  if (tls && options.server_hostname.empty() && tls->check_hostname()) {
    throw ValueError("You must set server_hostname when using ssl without a host");
  }
  return client_state(std::move(sock), options, std::move(tls), std::string(options.server_hostname));
}

Coro<std::shared_ptr<StreamState>> adopt_accepted_stream(Socket sock, const ServerOptions& options) {
  return accepted_state(std::move(sock), options, server_ssl(options));
}

Coro<std::shared_ptr<StreamState>> connect_unix_stream(std::string path, const ConnectionOptions& options) {
  std::optional<SSLContext> tls = client_ssl(options);
  // As asyncio: a Unix socket has no host name to check unless one is given.
  if (tls && options.server_hostname.empty() && tls->check_hostname()) {
    throw ValueError("you have to pass server_hostname when using ssl");
  }
  std::string hostname(options.server_hostname);
  return connect_unix_coro(std::move(path), options, std::move(tls), std::move(hostname));
}

}  // namespace detail

Coro<std::pair<StreamReader, StreamWriter>> open_connection(std::string host, int port, ConnectionOptions options) {
  return as_streams(detail::connect_stream(std::move(host), port, options));
}

Coro<std::pair<StreamReader, StreamWriter>> open_unix_connection(std::string path, ConnectionOptions options) {
  return as_streams(detail::connect_unix_stream(std::move(path), options));
}

Coro<Server> start_server(Server::Handler handler, std::string host, int port, ServerOptions options) {
  return start_server_coro(new_server(std::move(handler), nullptr, options), std::move(host), port, options);
}

Coro<Server> start_unix_server(Server::Handler handler, std::string path, ServerOptions options) {
  return start_unix_server_coro(new_server(std::move(handler), nullptr, options), std::move(path), options);
}

Coro<Server> start_server(Server::Handler handler, Socket sock, ServerOptions options) {
  Socket listening = server_socket(std::move(sock));
  return start_sock_server_coro(new_server(std::move(handler), nullptr, options), std::move(listening), options);
}

Coro<Server> create_server(EventLoop& loop, detail::ProtocolFactory factory, Socket sock, ServerOptions options) {
  Socket listening = server_socket(std::move(sock));
  return start_sock_server_coro(new_server(nullptr, std::move(factory), options), std::move(listening), options, &loop);
}

Coro<Server> create_server(EventLoop& loop, detail::ProtocolFactory factory, std::string host, int port,
                           ServerOptions options) {
  return start_server_coro(new_server(nullptr, std::move(factory), options), std::move(host), port, options, &loop);
}

Coro<Server> create_unix_server(EventLoop& loop, detail::ProtocolFactory factory, std::string path,
                                ServerOptions options) {
  return start_unix_server_coro(new_server(nullptr, std::move(factory), options), std::move(path), options, &loop);
}

}  // namespace aio
