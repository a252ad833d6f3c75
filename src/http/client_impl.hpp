// The client's internals (aio/http/client.hpp): the pool's connections, the connector's
// state, deadlines and a response's state. Shared by client.cpp (session, requests)
// and client_pool.cpp (the connector).
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aio/events.hpp"
#include "aio/futures.hpp"
#include "aio/http/client.hpp"
#include "aio/http/compression.hpp"
#include "aio/streams.hpp"
#include "aio/tasks.hpp"

namespace aio::http::detail {

class ConnectorState;
struct HostPool;

/// One open connection. Owned by the pool while idle, by a request or a response while
/// in use (through a Lease).
struct Connection {
  Connection(StreamReader r, StreamWriter w) : reader(std::move(r)), writer(std::move(w)) {}
  StreamReader reader;
  StreamWriter writer;
  HostPool* host = nullptr;  // the pool it belongs to (and counts against)
  double idle_since = 0;     // loop time it went back to the pool
  bool reused = false;       // it has carried a response before
  std::string wbuf;          // the request being written: head and small body, one write
};

/// The connections of one (host, port, TLS context).
struct HostPool {
  std::string host;
  int port = 0;
  const void* tls = nullptr;  // the SSL_CTX, or null for plain TCP
  std::vector<std::unique_ptr<Connection>> idle;  // most recently used last
  std::size_t acquired = 0;   // connections in use
};

/// A connection in use: gives it back (closed) when dropped without release(reuse).
class Lease {
 public:
  Lease() = default;
  Lease(std::shared_ptr<ConnectorState> owner, std::unique_ptr<Connection> c) noexcept
      : owner_(std::move(owner)), conn_(std::move(c)) {}
  Lease(Lease&&) noexcept = default;
  Lease& operator=(Lease&& o) noexcept {
    if (this != &o) {
      release(false);
      owner_ = std::move(o.owner_);
      conn_ = std::move(o.conn_);
    }
    return *this;
  }
  ~Lease() { release(false); }
  Connection* operator->() const noexcept { return conn_.get(); }
  Connection& operator*() const noexcept { return *conn_; }
  explicit operator bool() const noexcept { return conn_ != nullptr; }
  /// Back to the pool (reuse) or closed; the slot is freed either way.
  void release(bool reuse) noexcept;

 private:
  std::shared_ptr<ConnectorState> owner_;
  std::unique_ptr<Connection> conn_;
};

class ConnectorState : public std::enable_shared_from_this<ConnectorState> {
 public:
  explicit ConnectorState(TCPConnectorOptions o) : opts(std::move(o)) {}
  ~ConnectorState();

  /// The pool of (host, port, tls), made on first use.
  HostPool& pool(std::string_view host, int port, const void* tls);
  /// The TLS context for a request's setting (nullptr when `https` is false).
  const SSLContext* tls_context(bool https, const ClientSSL& ssl);
  /// A connection to `hp` (an idle one, or a new one), waiting for a free slot first
  /// when the limits say so. `connect_deadline`: loop time for the wait and the connect
  /// (ConnectionTimeoutError), `sock_connect` seconds for the connect alone.
  Coro<Lease> acquire(HostPool& hp, const SSLContext* ctx, std::string_view ssl_repr,
                      std::optional<double> connect_deadline, std::optional<double> sock_connect,
                      bool fresh, const URL* url);
  void give_back(std::unique_ptr<Connection> c, bool reuse) noexcept;
  /// A response state to fill: a recycled one (its buffers keep their capacity, so a
  /// warm request allocates no head copy or header vector), else a new one.
  std::unique_ptr<ResponseState> new_response();
  /// Takes back a response's state when the response goes.
  void recycle(std::unique_ptr<ResponseState> s) noexcept;
  std::unique_ptr<RequestState> new_request();
  void recycle(std::unique_ptr<RequestState> r) noexcept;
  void close() noexcept;

  TCPConnectorOptions opts;
  bool closed = false;
  TCPConnector::Statistics stats;

 private:
  bool has_room(const HostPool& hp) const noexcept {
    return (opts.limit == 0 || acquired_ < opts.limit) &&
           (opts.limit_per_host == 0 || hp.acquired < opts.limit_per_host);
  }
  void take_slot(HostPool& hp) noexcept {
    ++acquired_;
    ++hp.acquired;
  }
  void free_slot(HostPool& hp) noexcept;
  void wake_waiters() noexcept;
  std::unique_ptr<Connection> take_idle(HostPool& hp);
  Coro<void> wait_slot(HostPool& hp);
  Coro<std::unique_ptr<Connection>> connect(HostPool& hp, const SSLContext* ctx, std::string ssl_repr,
                                            std::optional<double> sock_connect, const URL* url);
  void schedule_cleanup(std::optional<double> when = std::nullopt);
  void cleanup() noexcept;

  struct Waiter {
    HostPool* hp;
    Future<void> fut;
  };
  std::vector<std::unique_ptr<HostPool>> pools_;
  std::vector<std::unique_ptr<ResponseState>> spare_;  // recycled response states
  std::vector<std::unique_ptr<RequestState>> spare_requests_;
  std::list<Waiter> waiters_;
  std::size_t acquired_ = 0;
  std::optional<SSLContext> verify_ctx_, noverify_ctx_;
  TimerHandle cleanup_;
  bool cleanup_scheduled_ = false;
};

/// A deadline for part of a request, as aio::timeout: at loop time `when` it cancels the
/// current task, and the CancelledError that comes of it becomes `kind`'s error. Not a
/// coroutine: enter on construction, then finish() on success or fail(e) in a catch.
class Deadline {
 public:
  enum class Kind { total, connect, sock_read };
  Deadline(std::optional<double> when, Kind kind, const URL* url = nullptr);
  ~Deadline() { handle_.cancel(); }
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;
  /// The guarded work finished normally.
  void finish() noexcept;
  /// In a catch block: rethrows as the timeout's error when the deadline caused it,
  /// else returns (the caller rethrows).
  void fail(std::exception_ptr e);

 private:
  TimerHandle handle_;
  Task<> task_;
  std::uint32_t cancelling_ = 0;
  Kind kind_;
  const URL* url_;
  bool armed_ = false, fired_ = false;
};

/// Waits for more bytes on `c` within `sock_read` seconds (SocketTimeoutError);
/// false at EOF.
Coro<bool> fill(Connection& c, std::optional<double> sock_read);

struct ResponseState {
  /// Forgets the response, keeping the buffers' capacity (recycling).
  void reset() noexcept;

  std::shared_ptr<ConnectorState> home;  // takes the state back (recycle) when the response goes
  Lease conn;
  std::string method;
  URL url, real_url;
  std::string raw_head;       // the head as received; head's views point into it
  MessageHead head;
  std::optional<BodyDecoder> decoder;
  std::optional<ZLibDecompressor> inflater;
  std::vector<ClientResponse> history;
  mutable std::optional<CIMultiDict> headers;
  std::string body;           // read()'s result, kept
  bool body_read = false;
  std::string pending;        // decoded and not yet given out by content()
  std::size_t pending_pos = 0;
  bool eof = false;           // the body is complete
  bool must_close = false;    // the connection cannot carry another request
  std::optional<double> total_deadline;
  std::optional<double> sock_read;

  /// Decodes the buffered bytes into `out`; true once the body is complete (the
  /// connection is then released). Throws ClientPayloadError for broken framing.
  bool decode_buffered(std::string& out);
  /// Waits for more bytes; at EOF finishes the body or throws ClientPayloadError.
  Coro<void> fill_more();
  void finish_body() noexcept;
  [[noreturn]] void payload_error(const std::exception& e, const char* type);
};

/// One request, redirects included (kept off the request's coroutine frame, and
/// recycled by the connector, so that a warm request allocates nothing).
struct RequestState {
  void reset() noexcept {
    method.clear();
    url = URL();
    next = URL();
    opt = nullptr;
    timeout = {};
    total_deadline.reset();
    send_body = send_auth = true;
    fresh = false;
    upgrade = false;
    owned_body.clear();
    owned_content_type.clear();
    body = content_type = {};
    total.reset();
  }
  std::string method;
  URL url;
  URL next;  // where a redirect goes
  const RequestOptions* opt = nullptr;
  ClientTimeout timeout;
  std::optional<double> total_deadline;
  bool send_body = true;  // false once a redirect turned the request into a GET
  bool send_auth = true;  // false after a redirect to another origin
  bool fresh = false;     // connect anew (a reused connection turned out stale)
  bool upgrade = false;   // a 101 answer keeps the connection for the caller (ws_connect)
  std::string owned_body;  // a form or JSON body, encoded
  std::string owned_content_type;  // a multipart body's (its boundary)
  std::string_view body, content_type;
  std::optional<Deadline> total;  // ClientTimeout.total over the request's hops
};

/// The exception type's name as aiohttp's messages show it.
const char* error_type_name(const std::exception& e) noexcept;

}  // namespace aio::http::detail
