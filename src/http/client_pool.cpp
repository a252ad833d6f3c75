// The client's connection pool (TCPConnector) and its deadlines.
#include <netdb.h>

#include <algorithm>
#include <cmath>
#include <exception>

#include "aio/errors.hpp"
#include "aio/netdb.hpp"
#include "http/client_impl.hpp"

namespace aio::http {

namespace detail {

// --- Deadline

Deadline::Deadline(std::optional<double> when, Kind kind, const URL* url) : kind_(kind), url_(url) {
  if (!when) return;
  task_ = current_task();
  if (!task_) return;  // outside a task nothing can be cancelled: no deadline
  cancelling_ = task_.cancelling();
  armed_ = true;
  EventLoop& loop = get_running_loop();
  auto fire = [this] {
    fired_ = true;
    task_.cancel();
  };
  handle_ = loop.call_at(*when, fire);
}

void Deadline::finish() noexcept {
  if (!armed_) return;
  handle_.cancel();
  armed_ = false;
  if (fired_) task_.uncancel();  // it fired, and the work ended anyway: ours is spent
}

void Deadline::fail(std::exception_ptr e) {
  if (!armed_) return;
  handle_.cancel();
  armed_ = false;
  if (!fired_) return;
  // Ours alone: no other cancel request is pending, so the deadline caused it.
  if (task_.uncancel() > cancelling_ || !is_cancelled_error(e)) return;
  switch (kind_) {
    case Kind::total:
      throw TimeoutError();
    case Kind::connect:
      throw ConnectionTimeoutError("Connection timeout to host " + (url_ ? url_->str() : std::string()));
    case Kind::sock_read:
      throw SocketTimeoutError("Timeout on reading data from socket");
  }
}

Coro<bool> fill(Connection& c, std::optional<double> sock_read) {
  if (!sock_read) co_return co_await c.reader.fill();
  Deadline d(get_running_loop().time() + *sock_read, Deadline::Kind::sock_read);
  bool more = false;
  try {
    more = co_await c.reader.fill();
  } catch (...) {
    d.fail(std::current_exception());
    throw;
  }
  d.finish();
  co_return more;
}

// --- Lease

void Lease::release(bool reuse) noexcept {
  if (!conn_) return;
  owner_->give_back(std::move(conn_), reuse);
  owner_.reset();
}

// --- ConnectorState

ConnectorState::~ConnectorState() { close(); }

HostPool& ConnectorState::pool(std::string_view host, int port, const void* tls) {
  for (auto& p : pools_)
    if (p->port == port && p->tls == tls && p->host == host) return *p;
  auto p = std::make_unique<HostPool>();
  p->host = std::string(host);
  p->port = port;
  p->tls = tls;
  pools_.push_back(std::move(p));
  return *pools_.back();
}

const SSLContext* ConnectorState::tls_context(bool https, const ClientSSL& ssl) {
  if (!https) return nullptr;
  ClientSSL::Mode mode = ssl.mode();
  if (mode == ClientSSL::Mode::context) return ssl.context();
  if (mode == ClientSSL::Mode::unset) {
    if (opts.ssl_context) return &*opts.ssl_context;
    mode = opts.verify_ssl ? ClientSSL::Mode::verify : ClientSSL::Mode::off;
  }
  if (mode == ClientSSL::Mode::verify) {
    if (!verify_ctx_) verify_ctx_.emplace(create_default_context());
    return &*verify_ctx_;
  }
  if (!noverify_ctx_) {
    noverify_ctx_.emplace(create_default_context());
    noverify_ctx_->set_check_hostname(false);
    noverify_ctx_->set_verify_mode(CERT_NONE);
  }
  return &*noverify_ctx_;
}

void ConnectorState::free_slot(HostPool& hp) noexcept {
  --acquired_;
  --hp.acquired;
  --stats.acquired;
}

void ConnectorState::wake_waiters() noexcept {
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    if (it->fut.done()) {  // cancelled while waiting
      it = waiters_.erase(it);
      continue;
    }
    if (!has_room(*it->hp)) {
      ++it;
      continue;
    }
    // The slot passes to the waiter now, so that no newcomer takes it first.
    take_slot(*it->hp);
    ++stats.acquired;
    it->fut.set_result();
    it = waiters_.erase(it);
  }
}

std::unique_ptr<Connection> ConnectorState::take_idle(HostPool& hp) {
  const double now = get_running_loop().time();
  while (!hp.idle.empty()) {
    std::unique_ptr<Connection> c = std::move(hp.idle.back());
    hp.idle.pop_back();
    --stats.idle;
    // Expired, or the server spoke (or closed) while nobody asked: not usable.
    if (now - c->idle_since > opts.keepalive_timeout || !c->reader.buffered().empty() || c->reader.at_eof() ||
        c->writer.is_closing()) {
      c->writer.close();
      continue;
    }
    return c;
  }
  return nullptr;
}

Coro<void> ConnectorState::wait_slot(HostPool& hp) {
  auto it = waiters_.insert(waiters_.end(), Waiter{&hp, get_running_loop().create_future<void>()});
  Future<void> f = it->fut;
  try {
    co_await f;
  } catch (...) {
    if (f.done() && !f.cancelled() && !f.exception()) {
      // Woken (the slot is ours) and cancelled before it resumed: pass the slot on.
      free_slot(hp);
      wake_waiters();
    } else if (!f.done()) {
      waiters_.erase(it);
    }
    throw;
  }
}

Coro<std::unique_ptr<Connection>> ConnectorState::connect(HostPool& hp, const SSLContext* ctx, std::string ssl_repr,
                                                          std::optional<double> sock_connect, const URL* url) {
  std::optional<Deadline> d;
  if (sock_connect) {
    d.emplace(get_running_loop().time() + *sock_connect, Deadline::Kind::connect, url);
  }
  std::string host = hp.host;
  const int port = hp.port;
  try {
    ConnectionOptions co;
    if (ctx) {
      co.ssl = SSLOption(*ctx);
      co.server_hostname = host;
    }
    auto [r, w] = co_await open_connection(host, port, co);
    if (d) d->finish();
    ++stats.connections_made;
    auto c = std::make_unique<Connection>(std::move(r), std::move(w));
    c->host = &hp;
    co_return c;
  } catch (const SSLCertVerificationError& e) {
    if (d) d->fail(std::current_exception());
    throw ClientConnectorCertificateError(host, port, ssl_repr, e.what());
  } catch (const SSLError& e) {
    if (d) d->fail(std::current_exception());
    throw ClientSSLError(host, port, ssl_repr, e.code(), e.what());
  } catch (const gaierror& e) {
    if (d) d->fail(std::current_exception());
    throw ClientConnectorError(host, port, ssl_repr, e.code(), ::gai_strerror(e.eai()));
  } catch (const OSError& e) {
    if (d) d->fail(std::current_exception());
    // aiohttp shows the OS error's text: [Connection refused].
    throw ClientConnectorError(host, port, ssl_repr, e.code(), e.code().message());
  } catch (...) {
    if (d) d->fail(std::current_exception());
    throw;
  }
}

Coro<Lease> ConnectorState::acquire(HostPool& hp, const SSLContext* ctx, std::string_view ssl_repr,
                                    std::optional<double> connect_deadline, std::optional<double> sock_connect,
                                    bool fresh, const URL* url) {
  if (closed) throw ClientConnectionError("Connector is closed.");
  auto self = shared_from_this();
  std::optional<Deadline> d;
  if (connect_deadline) d.emplace(connect_deadline, Deadline::Kind::connect, url);
  bool have_slot = false;
  try {
    if (waiters_.empty() && has_room(hp)) {
      take_slot(hp);
      ++stats.acquired;
    } else {
      co_await wait_slot(hp);
    }
    have_slot = true;
    std::unique_ptr<Connection> c = fresh ? nullptr : take_idle(hp);
    if (!c) c = co_await connect(hp, ctx, std::string(ssl_repr), sock_connect, url);
    if (d) d->finish();
    co_return Lease(std::move(self), std::move(c));
  } catch (...) {
    if (have_slot) {
      free_slot(hp);
      wake_waiters();
    }
    if (d) d->fail(std::current_exception());
    throw;
  }
}

void ConnectorState::give_back(std::unique_ptr<Connection> c, bool reuse) noexcept {
  HostPool& hp = *c->host;
  free_slot(hp);
  if (reuse && !closed && !opts.force_close && !c->writer.is_closing()) {
    c->reused = true;
    try {
      c->idle_since = get_running_loop().time();
      hp.idle.push_back(std::move(c));
      ++stats.idle;
      schedule_cleanup();
    } catch (...) {
      if (c) c->writer.close();
    }
  } else {
    c->writer.close();
  }
  wake_waiters();
}

std::unique_ptr<ResponseState> ConnectorState::new_response() {
  std::unique_ptr<ResponseState> s;
  if (!spare_.empty()) {
    s = std::move(spare_.back());
    spare_.pop_back();
  } else {
    s = std::make_unique<ResponseState>();
  }
  s->home = shared_from_this();
  return s;
}

void ConnectorState::recycle(std::unique_ptr<ResponseState> s) noexcept {
  s->reset();
  if (spare_.size() < 256 && spare_.capacity() > spare_.size()) {
    spare_.push_back(std::move(s));
    return;
  }
  try {
    if (spare_.size() < 256) spare_.push_back(std::move(s));
  } catch (...) {
  }
}

std::unique_ptr<RequestState> ConnectorState::new_request() {
  if (spare_requests_.empty()) return std::make_unique<RequestState>();
  std::unique_ptr<RequestState> r = std::move(spare_requests_.back());
  spare_requests_.pop_back();
  return r;
}

void ConnectorState::recycle(std::unique_ptr<RequestState> r) noexcept {
  r->reset();
  try {
    if (spare_requests_.size() < 256) spare_requests_.push_back(std::move(r));
  } catch (...) {
  }
}

void ResponseState::reset() noexcept {
  home.reset();
  conn.release(false);
  method.clear();
  url = URL();
  real_url = URL();
  raw_head.clear();
  head.clear();
  decoder.reset();
  inflater.reset();
  history.clear();
  headers.reset();
  body.clear();
  if (body.capacity() > 64 * 1024) body.shrink_to_fit();
  body_read = false;
  pending.clear();
  pending_pos = 0;
  eof = must_close = false;
  total_deadline.reset();
  sock_read.reset();
}

void ConnectorState::schedule_cleanup(std::optional<double> when) {
  if (cleanup_scheduled_) return;
  cleanup_scheduled_ = true;
  auto run = [this] {
    cleanup_scheduled_ = false;
    cleanup();
  };
  EventLoop& loop = get_running_loop();
  cleanup_ = loop.call_at(when.value_or(loop.time() + opts.keepalive_timeout), run);
}

void ConnectorState::cleanup() noexcept {
  const double now = get_running_loop().time();
  std::optional<double> next;  // the earliest expiry still to come
  for (auto& p : pools_) {
    auto& idle = p->idle;
    for (std::size_t i = 0; i < idle.size();) {
      const double expiry = idle[i]->idle_since + opts.keepalive_timeout;
      if (expiry <= now) {
        idle[i]->writer.close();
        idle.erase(idle.begin() + static_cast<std::ptrdiff_t>(i));
        --stats.idle;
      } else {
        ++i;
        next = next ? std::min(*next, expiry) : expiry;
      }
    }
  }
  if (next) {
    try {
      schedule_cleanup(next);
    } catch (...) {
    }
  }
}

void ConnectorState::close() noexcept {
  closed = true;
  if (cleanup_scheduled_) {
    cleanup_.cancel();
    cleanup_scheduled_ = false;
  }
  for (auto& p : pools_) {
    for (auto& c : p->idle) c->writer.close();
    stats.idle -= p->idle.size();
    p->idle.clear();
  }
  for (auto& w : waiters_)
    if (!w.fut.done()) w.fut.set_exception(ClientConnectionError("Connector is closed."));
  waiters_.clear();
}

}  // namespace detail

// --- TCPConnector

TCPConnector::TCPConnector(Options options) : s_(std::make_shared<detail::ConnectorState>(std::move(options))) {}
TCPConnector::~TCPConnector() { s_->close(); }
std::size_t TCPConnector::limit() const noexcept { return s_->opts.limit; }
std::size_t TCPConnector::limit_per_host() const noexcept { return s_->opts.limit_per_host; }
bool TCPConnector::force_close() const noexcept { return s_->opts.force_close; }
void TCPConnector::close() { s_->close(); }
bool TCPConnector::closed() const noexcept { return s_->closed; }
TCPConnector::Statistics TCPConnector::statistics() const noexcept { return s_->stats; }

}  // namespace aio::http
