// UDP endpoints: asyncio's DatagramTransport (callbacks) and aio's DatagramSocket.
#include "aio/datagram.hpp"

#include <errno.h>
#include <sys/socket.h>

#include <algorithm>
#include <deque>
#include <memory>
#include <vector>

#include "aio/detail/io_wait.hpp"
#include "aio/events.hpp"
#include "aio/futures.hpp"
#include "aio/netdb.hpp"
#include "aio/tasks.hpp"

namespace aio {
namespace detail {
namespace {

// The OSError Python raises for `err`, as an object for error_received.
template <class F>
void with_os_error(int err, const std::string& what, F&& fn) {
  try {
    throw_os_error(err, what);
  } catch (const OSError& e) {
    fn(e);
  }
}

std::string sockname_str(const Socket& sock) {
  try {
    return sock.getsockname().str();
  } catch (const std::exception&) {
    return "a closed socket";
  }
}

}  // namespace

// --- resolving and opening the socket (base_events.create_datagram_endpoint)

namespace {

struct Candidate {
  int family;
  int proto;
  std::optional<SockAddr> local;
  std::optional<SockAddr> remote;
};

// asyncio's _ensure_resolved: a numeric host needs no resolver.
Coro<std::vector<AddrInfo>> resolve(const HostPort& addr, const DatagramOptions& options) {
  std::vector<AddrInfo> infos;
  try {
    SockAddr numeric = addr.first.empty() && options.family == AF_INET6 ? SockAddr("::", addr.second)
                                                                       : SockAddr(addr.first, addr.second);
    if (options.family == AF_UNSPEC || numeric.family() == options.family) {
      infos.push_back(AddrInfo{numeric.family(), SOCK_DGRAM, options.proto ? options.proto : IPPROTO_UDP, {},
                               std::move(numeric)});
    }
  } catch (const ValueError&) {
    // a name: resolved below
  }
  if (infos.empty()) {
    infos = co_await getaddrinfo(addr.first, addr.second, options.family, SOCK_DGRAM, options.proto, options.flags);
    if (infos.empty()) throw OSError(0, "getaddrinfo() returned empty list");
  }
  co_return infos;
}

}  // namespace

Coro<std::pair<Socket, std::optional<SockAddr>>> open_datagram_socket(EventLoop& loop, std::optional<HostPort> local_addr,
                                                                      std::optional<HostPort> remote_addr,
                                                                      DatagramOptions options) {
  std::vector<Candidate> candidates;
  if (!local_addr && !remote_addr) {
    if (options.family == AF_UNSPEC) throw ValueError("unexpected address family");
    candidates.push_back(Candidate{options.family, options.proto, std::nullopt, std::nullopt});
  } else {
    // Join the addresses by (family, proto), in the order first seen; as asyncio, the
    // last address of a family wins.
    const std::optional<HostPort>* addrs[2] = {&local_addr, &remote_addr};
    for (int idx = 0; idx < 2; ++idx) {
      if (!*addrs[idx]) continue;
      std::vector<AddrInfo> infos = co_await resolve(**addrs[idx], options);
      for (AddrInfo& ai : infos) {
        auto it = std::find_if(candidates.begin(), candidates.end(),
                               [&](const Candidate& c) { return c.family == ai.family && c.proto == ai.proto; });
        if (it == candidates.end()) {
          candidates.push_back(Candidate{ai.family, ai.proto, std::nullopt, std::nullopt});
          it = candidates.end() - 1;
        }
        (idx == 0 ? it->local : it->remote) = ai.address;
      }
    }
    std::erase_if(candidates, [&](const Candidate& c) {
      return (local_addr && !c.local) || (remote_addr && !c.remote);
    });
    if (candidates.empty()) throw ValueError("can not get address information");
  }

  std::vector<std::exception_ptr> errors;
  for (const Candidate& c : candidates) {
    try {
      Socket sock(c.family, SOCK_DGRAM, c.proto);
      if (options.reuse_port) sock.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
      if (options.allow_broadcast) sock.setsockopt(SOL_SOCKET, SO_BROADCAST, 1);
      if (c.local) sock.bind(*c.local);
      std::optional<SockAddr> r_addr;
      if (c.remote) {
        if (!options.allow_broadcast) co_await loop.sock_connect(sock, *c.remote);
        r_addr = c.remote;
      }
      co_return std::pair<Socket, std::optional<SockAddr>>(std::move(sock), std::move(r_addr));
    } catch (const OSError&) {
      errors.push_back(std::current_exception());  // the socket is closed; try the next pair
    }
  }
  std::rethrow_exception(errors.front());
}

// --- the transport (selector_events._SelectorDatagramTransport)

// One endpoint. It keeps itself alive (keep_) from its creation until
// connection_lost has been called, as an asyncio transport lives while the loop
// watches it. Reading follows asyncio's rhythm: one datagram per loop iteration while
// the socket has some, then a wait for the next edge. Writing sends at once and
// buffers what the kernel refuses until the socket is writable.
class DatagramTransportState final : public std::enable_shared_from_this<DatagramTransportState> {
 public:
  // asyncio's max_size: a datagram longer than this is cut.
  static constexpr std::size_t max_size = 256 * 1024;

  DatagramTransportState(EventLoop& loop, Socket sock, std::optional<SockAddr> address)
      : loop_(&loop), sock_(std::move(sock)), address_(std::move(address)) {
    watched_fd(loop, sock_);
    try {
      peer_ = sock_.getpeername();
    } catch (const OSError&) {
      // not connected
    }
    auto read = [this] { read_ready(); };
    auto write = [this] { write_ready(); };
    read_handle_ = new CallbackHandle<decltype(read)>(1, read);
    write_handle_ = new CallbackHandle<decltype(write)>(1, write);
  }
  ~DatagramTransportState() {
    for (HandleBase* h : {read_handle_, write_handle_}) {
      h->cancel();  // a run still queued does nothing
      h->release();
    }
  }
  DatagramTransportState(const DatagramTransportState&) = delete;
  DatagramTransportState& operator=(const DatagramTransportState&) = delete;

  // What the loop wakes: queues the read or write step.
  struct Edge final : IoWaiter {
    DatagramTransportState* s;
    bool write;
    Edge(DatagramTransportState* state, bool w) : s(state), write(w) {}
    void on_io_ready() noexcept override {
      if (write) {
        s->write_waiting_ = false;
        s->queue(true);
      } else {
        s->read_waiting_ = false;
        s->queue(false);
      }
    }
    void on_io_abandoned() noexcept override { s->abandon(write); }
  };

  void start(std::shared_ptr<DatagramProtocol> protocol) {
    protocol_ = std::move(protocol);
    keep_ = shared_from_this();
  }

  // --- reading

  void queue(bool write) noexcept {
    bool& queued = write ? write_queued_ : read_queued_;
    if (queued) return;
    queued = true;
    HandleBase* h = write ? write_handle_ : read_handle_;
    h->add_ref();  // the ready queue's reference, dropped when it runs
    loop_->push_ready(h);
  }

  void start_reading() {
    if (closing_ || conn_lost_ > 0) return;
    queue(false);
  }

  void read_ready() {
    read_queued_ = false;
    if (closing_ || conn_lost_ > 0) return;
    const int fd = sock_.fileno();
    if (rbuf_ == nullptr) rbuf_ = std::make_unique<char[]>(max_size);
    SockAddr from;
    socklen_t len = SockAddr::capacity;
    const ssize_t n = ::recvfrom(fd, rbuf_.get(), max_size, 0, from.data(), &len);
    if (n >= 0) {
      from.resize(len);
      // The next one on the next iteration, after what the protocol schedules now
      // (asyncio polls again first), and even if the protocol throws.
      struct Again {
        DatagramTransportState* s;
        ~Again() { s->queue(false); }
      } again{this};
      protocol_->datagram_received(std::string_view(rbuf_.get(), static_cast<std::size_t>(n)), from);
      return;
    }
    const int err = errno;
    if (err == EINTR) {
      queue(false);
      return;
    }
    if (would_block(err)) {
      loop_->clear_io_ready(fd, false);  // a datagram error is an edge too, not a hang-up
      loop_->set_io_waiter(fd, false, &read_edge_);
      read_waiting_ = true;
      return;
    }
    queue(false);
    with_os_error(err, "recvfrom " + where(), [&](const OSError& e) { protocol_->error_received(e); });
  }

  // --- writing

  // 0, or the errno of the send.
  int send_now(std::string_view data, const std::optional<SockAddr>& addr) noexcept {
    const int fd = sock_.fileno();
    for (;;) {
      ssize_t n;
      if (peer_) {
        n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      } else {
        n = ::sendto(fd, data.data(), data.size(), MSG_NOSIGNAL, addr ? addr->data() : nullptr, addr ? addr->size() : 0);
      }
      if (n >= 0) return 0;
      if (errno != EINTR) return errno;
    }
  }

  void sendto(std::string_view data, std::optional<SockAddr> addr) {
    if (data.empty()) return;
    if (address_) {
      if (addr && *addr != *address_) throw ValueError("Invalid address: must be None or " + address_->str());
      addr = address_;
    }
    if (conn_lost_ > 0) {
      // asyncio drops it when a remote address was given (and logs after a few); its
      // other transports fail on the socket they no longer have. Dropped here too.
      ++conn_lost_;
      return;
    }
    if (buffer_.empty()) {
      const int err = send_now(data, addr);
      if (err == 0) return;
      if (!would_block(err)) {
        report_send_error(err, addr);
        return;
      }
      wait_writable();
    }
    buffer_.emplace_back(std::string(data), std::move(addr));
    buffer_size_ += data.size();
    maybe_pause_protocol();
  }

  void wait_writable() {
    const int fd = sock_.fileno();
    if (fd < 0 || write_waiting_) return;
    loop_->clear_io_ready(fd, true);
    loop_->set_io_waiter(fd, true, &write_edge_);
    write_waiting_ = true;
  }

  void stop_waiting(bool write) noexcept {
    bool& waiting = write ? write_waiting_ : read_waiting_;
    if (!waiting) return;
    waiting = false;
    if (sock_.fileno() >= 0) loop_->set_io_waiter(sock_.fileno(), write, nullptr);
  }

  void write_ready() {
    write_queued_ = false;
    if (conn_lost_ > 0 || write_waiting_) return;
    while (!buffer_.empty()) {
      auto& [data, addr] = buffer_.front();
      const int err = send_now(data, addr);
      if (would_block(err)) {
        wait_writable();
        break;
      }
      std::string sent = std::move(data);
      std::optional<SockAddr> to = std::move(addr);
      buffer_.pop_front();
      buffer_size_ -= sent.size();
      if (err != 0) {
        queue(true);  // the rest on the next iteration (asyncio's writer stays registered)
        report_send_error(err, to);
        return;
      }
    }
    maybe_resume_protocol();
    if (buffer_.empty()) {
      stop_waiting(true);
      if (closing_) call_connection_lost(nullptr);
    }
  }

  void report_send_error(int err, const std::optional<SockAddr>& addr) {
    const std::string what = peer_ ? "send to " + peer_->str() : "sendto " + (addr ? addr->str() : std::string("None"));
    with_os_error(err, what, [&](const OSError& e) { protocol_->error_received(e); });
  }

  void maybe_pause_protocol() {
    if (buffer_size_ <= high_ || paused_) return;
    paused_ = true;
    protocol_call("protocol.pause_writing() failed", &DatagramProtocol::pause_writing);
  }
  void maybe_resume_protocol() {
    if (!paused_ || buffer_size_ > low_) return;
    paused_ = false;
    protocol_call("protocol.resume_writing() failed", &DatagramProtocol::resume_writing);
  }
  void protocol_call(const char* message, void (DatagramProtocol::*fn)()) {
    try {
      ((*protocol_).*fn)();
    } catch (const std::exception&) {
      ExceptionContext ctx;
      ctx.message = message;
      ctx.exception = std::current_exception();
      loop_->call_exception_handler(ctx);
    }
  }

  // --- closing

  void close() {
    if (closing_) return;
    closing_ = true;
    stop_waiting(false);
    if (buffer_.empty()) {
      ++conn_lost_;
      stop_waiting(true);
      schedule_connection_lost(nullptr);
    }
  }

  void force_close(std::exception_ptr exc) {
    if (conn_lost_ > 0) return;
    if (!buffer_.empty()) {
      buffer_.clear();
      buffer_size_ = 0;
      stop_waiting(true);
    }
    if (!closing_) {
      closing_ = true;
      stop_waiting(false);
    }
    ++conn_lost_;
    schedule_connection_lost(std::move(exc));
  }

  void schedule_connection_lost(std::exception_ptr exc) {
    loop_->call_soon([self = shared_from_this(), exc] { self->call_connection_lost(exc); });
  }

  void call_connection_lost(std::exception_ptr exc) {
    struct Finally {
      DatagramTransportState* s;
      ~Finally() {
        s->sock_.close();
        std::shared_ptr<DatagramProtocol> protocol = std::move(s->protocol_);
        std::shared_ptr<DatagramTransportState> self = std::move(s->keep_);  // last: may free s
      }
    } finally{this};
    if (protocol_) protocol_->connection_lost(std::move(exc));
  }

  // The loop closed while we waited on it: nothing will run again.
  void abandon(bool write) noexcept {
    (write ? write_waiting_ : read_waiting_) = false;
    closing_ = true;
    ++conn_lost_;
    buffer_.clear();
    buffer_size_ = 0;
    sock_.close();
    std::shared_ptr<DatagramProtocol> protocol = std::move(protocol_);
    std::shared_ptr<DatagramTransportState> self = std::move(keep_);  // last: may free this
  }

  std::string where() const { return peer_ ? peer_->str() : sockname_str(sock_); }

  EventLoop* loop_;
  Socket sock_;
  std::optional<SockAddr> address_;  // the remote address given: every datagram's destination
  std::optional<SockAddr> peer_;     // the connected peer (getpeername)
  std::shared_ptr<DatagramProtocol> protocol_;
  std::shared_ptr<DatagramTransportState> keep_;  // self, until connection_lost was called

  std::unique_ptr<char[]> rbuf_;  // max_size bytes, made on the first read
  std::deque<std::pair<std::string, std::optional<SockAddr>>> buffer_;  // datagrams the kernel refused so far
  std::size_t buffer_size_ = 0;
  std::size_t high_ = 64 * 1024;
  std::size_t low_ = 16 * 1024;
  bool paused_ = false;  // pause_writing called, resume_writing not yet

  // Each direction is in one of three states: idle, waiting for an edge (the Edge is
  // the loop's waiter: *_waiting_), or its step queued in the ready queue (*_queued_).
  Edge read_edge_{this, false};
  Edge write_edge_{this, true};
  HandleBase* read_handle_ = nullptr;   // the steps, made once and queued again and again
  HandleBase* write_handle_ = nullptr;
  bool read_waiting_ = false;
  bool write_waiting_ = false;
  bool read_queued_ = false;
  bool write_queued_ = false;

  bool closing_ = false;
  int conn_lost_ = 0;  // asyncio's _conn_lost: >0 once connection_lost is scheduled
};

Coro<DatagramTransport> make_transport(EventLoop& loop, DatagramFactory& factory, Socket sock,
                                       std::optional<SockAddr> r_addr) {
  std::shared_ptr<DatagramProtocol> protocol = factory();
  if (!protocol) throw TypeError("protocol_factory returned no protocol");
  auto state = std::make_shared<DatagramTransportState>(loop, std::move(sock), std::move(r_addr));
  state->start(protocol);
  DatagramTransport transport(state);
  // As asyncio: connection_made, then the waiter and reading, on the loop. asyncio
  // registers the reader before it resolves the waiter, but reads only after its next
  // poll, so the caller resumes before the first datagram_received: here reading is
  // queued after the waiter's wake-up to keep that order.
  loop.call_soon([protocol, transport] { protocol->connection_made(transport); });
  Future<void> waiter = loop.create_future();
  loop.call_soon([waiter]() mutable {
    if (!waiter.done()) waiter.set_result();
  });
  loop.call_soon([state] { state->start_reading(); });
  try {
    co_await waiter;
  } catch (...) {
    state->close();
    throw;
  }
  co_return transport;
}

Coro<DatagramTransport> datagram_endpoint(EventLoop& loop, DatagramFactory factory, std::optional<HostPort> local_addr,
                                          std::optional<HostPort> remote_addr, DatagramOptions options) {
  auto [sock, r_addr] = co_await open_datagram_socket(loop, std::move(local_addr), std::move(remote_addr), options);
  co_return co_await make_transport(loop, factory, std::move(sock), std::move(r_addr));
}

Coro<DatagramTransport> datagram_endpoint_on(EventLoop& loop, DatagramFactory factory, Socket sock) {
  if (sock.type() != SOCK_DGRAM) throw ValueError("A UDP Socket was expected, got fd " + std::to_string(sock.fileno()));
  co_return co_await make_transport(loop, factory, std::move(sock), std::nullopt);
}

// --- DatagramSocket

class DatagramSocketState {
 public:
  explicit DatagramSocketState(Socket sock, std::optional<SockAddr> address)
      : sock_(std::move(sock)), address_(std::move(address)) {
    try {
      peer_ = sock_.getpeername();
    } catch (const OSError&) {
      // not connected
    }
  }

  Socket sock_;
  std::optional<SockAddr> address_;  // the default destination
  std::optional<SockAddr> peer_;
  bool receiving_ = false;
  bool sending_ = false;

  std::string where() const { return peer_ ? peer_->str() : sockname_str(sock_); }
};

}  // namespace detail

// --- DatagramTransport

void DatagramTransport::sendto(std::string_view data, std::optional<SockAddr> addr) { s_->sendto(data, std::move(addr)); }
void DatagramTransport::close() { s_->close(); }
void DatagramTransport::abort() { s_->force_close(nullptr); }
bool DatagramTransport::is_closing() const noexcept { return s_->closing_; }
std::size_t DatagramTransport::get_write_buffer_size() const noexcept { return s_->buffer_size_; }

void DatagramTransport::set_write_buffer_limits(std::optional<std::size_t> high, std::optional<std::size_t> low) {
  const std::size_t h = high ? *high : (low ? 4 * *low : 64 * 1024);
  const std::size_t l = low ? *low : h / 4;
  if (l > h) throw ValueError("high (" + std::to_string(h) + ") must be >= low (" + std::to_string(l) + ") must be >= 0");
  s_->high_ = h;
  s_->low_ = l;
  s_->maybe_pause_protocol();
}

std::pair<std::size_t, std::size_t> DatagramTransport::get_write_buffer_limits() const noexcept {
  return {s_->low_, s_->high_};
}

SockAddr DatagramTransport::sockname() const { return s_->sock_.getsockname(); }
std::optional<SockAddr> DatagramTransport::peername() const { return s_->peer_; }
int DatagramTransport::fileno() const noexcept { return s_->sock_.fileno(); }
std::shared_ptr<DatagramProtocol> DatagramTransport::get_protocol() const noexcept { return s_->protocol_; }

// --- DatagramSocket

DatagramSocket::DatagramSocket(Socket sock) {
  if (sock.type() != SOCK_DGRAM) throw ValueError("A UDP Socket was expected, got fd " + std::to_string(sock.fileno()));
  s_ = std::make_shared<detail::DatagramSocketState>(std::move(sock), std::nullopt);
}

Coro<std::pair<std::string, SockAddr>> DatagramSocket::recvfrom(std::size_t bufsize) {
  auto s = s_;
  if (s->receiving_) throw RuntimeError("recvfrom() called while another coroutine is already waiting for a datagram");
  detail::BusyFlag busy(s->receiving_);
  co_return co_await get_running_loop().sock_recvfrom(s->sock_, bufsize);
}

Coro<std::string> DatagramSocket::recv(std::size_t bufsize) {
  auto [data, from] = co_await recvfrom(bufsize);
  co_return std::move(data);
}

namespace {

using detail::still_open;
using detail::watched_fd;
using detail::would_block;

Coro<std::size_t> send_datagram(std::shared_ptr<detail::DatagramSocketState> s, std::string data,
                                std::optional<SockAddr> addr) {
  if (s->sending_) throw RuntimeError("send() called while another coroutine is already waiting to send");
  EventLoop& loop = get_running_loop();
  int fd = watched_fd(loop, s->sock_);
  detail::BusyFlag busy(s->sending_);
  for (;;) {
    const ssize_t n = addr ? ::sendto(fd, data.data(), data.size(), MSG_NOSIGNAL, addr->data(), addr->size())
                           : ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n >= 0) co_return static_cast<std::size_t>(n);
    const int err = errno;
    if (err == EINTR) continue;
    if (!would_block(err)) {
      detail::throw_os_error(err, addr ? "sendto " + addr->str() : "send to " + (s->peer_ ? s->peer_->str() : "None"));
    }
    loop.clear_io_ready(fd, true);
    co_await detail::IoWait(loop, fd, true);
    fd = still_open(s->sock_);
  }
}

}  // namespace

Coro<std::size_t> DatagramSocket::sendto(std::string data, SockAddr addr) {
  return send_datagram(s_, std::move(data), std::move(addr));
}

Coro<std::size_t> DatagramSocket::send(std::string data) {
  std::optional<SockAddr> to;
  if (!s_->peer_ && s_->address_) to = s_->address_;  // allow_broadcast: not connected
  return send_datagram(s_, std::move(data), std::move(to));
}

void DatagramSocket::close() noexcept { s_->sock_.close(); }
bool DatagramSocket::is_closed() const noexcept { return s_->sock_.fileno() < 0; }
SockAddr DatagramSocket::sockname() const { return s_->sock_.getsockname(); }
std::optional<SockAddr> DatagramSocket::peername() const { return s_->peer_; }
int DatagramSocket::fileno() const noexcept { return s_->sock_.fileno(); }
Socket& DatagramSocket::socket() const noexcept { return s_->sock_; }

Coro<DatagramSocket> open_datagram_endpoint(std::optional<HostPort> local_addr, std::optional<HostPort> remote_addr,
                                            DatagramOptions options) {
  EventLoop& loop = get_running_loop();
  auto [sock, r_addr] =
      co_await detail::open_datagram_socket(loop, std::move(local_addr), std::move(remote_addr), options);
  co_return DatagramSocket(std::make_shared<detail::DatagramSocketState>(std::move(sock), std::move(r_addr)));
}

}  // namespace aio
