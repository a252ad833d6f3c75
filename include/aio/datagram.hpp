// aio/datagram.hpp: UDP endpoints, in two shapes.
//
// asyncio's, callbacks (loop.create_datagram_endpoint): a DatagramTransport and the
// user's DatagramProtocol.
//
//   struct Echo : aio::DatagramProtocol {
//     aio::DatagramTransport transport;
//     void connection_made(aio::DatagramTransport t) override { transport = t; }
//     void datagram_received(std::string_view data, const aio::SockAddr& addr) override {
//       transport.sendto(data, addr);
//     }
//   };
//   auto [transport, protocol] = co_await aio::create_datagram_endpoint(
//       loop, [] { return std::make_shared<Echo>(); }, {{"127.0.0.1", 9999}}, std::nullopt);
//
// Coroutines (aio's own; asyncio has no such object): a DatagramSocket.
//
//   aio::DatagramSocket s = co_await aio::open_datagram_endpoint(std::nullopt, {{"127.0.0.1", 9999}});
//   co_await s.send("ping");
//   std::string reply = co_await s.recv();
//
// Host names in the addresses are resolved with getaddrinfo (type SOCK_DGRAM); every
// (family, proto) pair that both addresses resolve to is tried in turn, as asyncio does.
// OS failures throw aio::OSError or its subclass (ConnectionRefusedError, ...),
// naming the address.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <string_view>
#include <utility>

#include "aio/coro.hpp"
#include "aio/errors.hpp"
#include "aio/socket.hpp"

namespace aio {

class EventLoop;
class DatagramTransport;

namespace detail {
class DatagramTransportState;
class DatagramSocketState;
}  // namespace detail

/// A host (a name or a numeric address) and a port, as Python's (host, port) tuple.
using HostPort = std::pair<std::string, int>;

/// The keyword arguments of create_datagram_endpoint.
struct DatagramOptions {
  /// AF_INET, AF_INET6 (AF_UNSPEC: whatever the addresses resolve to). Required when
  /// neither address is given.
  int family = AF_UNSPEC;
  int proto = 0;
  /// getaddrinfo's flags.
  int flags = 0;
  /// SO_REUSEPORT before binding.
  bool reuse_port = false;
  /// SO_BROADCAST; with a remote address the socket is then not connected, and the
  /// address only becomes the default destination (as asyncio).
  bool allow_broadcast = false;
};
static_assert(std::is_trivially_destructible_v<DatagramOptions>);  // see ConnectionOptions

/// The user's side of a datagram endpoint (asyncio.DatagramProtocol). The methods are
/// called from the loop's callbacks, except error_received for a send that fails at
/// once, which sendto() calls before it returns (as asyncio). An exception leaving a
/// callback goes to the loop's exception handler ("Exception in callback ...").
class DatagramProtocol {
 public:
  virtual ~DatagramProtocol() = default;
  /// The endpoint is ready; the transport handle may be kept.
  virtual void connection_made(DatagramTransport transport);
  /// One datagram. `data` is valid during the call only (copy what you keep).
  virtual void datagram_received(std::string_view data, const SockAddr& addr) {
    (void)data;
    (void)addr;
  }
  /// A send or receive failed (for a connected endpoint, ConnectionRefusedError when
  /// the peer's port is closed). The endpoint stays open.
  virtual void error_received(const OSError& exc) { (void)exc; }
  /// The endpoint closed: null after close() or abort().
  virtual void connection_lost(std::exception_ptr exc) { (void)exc; }
  /// Flow control: the transport's buffer passed the high-water mark, and fell back
  /// to the low one.
  virtual void pause_writing() {}
  virtual void resume_writing() {}
};

/// The loop's side of a datagram endpoint (asyncio.DatagramTransport). A copyable
/// handle; the endpoint lives until it is closed (the loop holds it while it reads),
/// not as long as a handle does.
class DatagramTransport {
 public:
  DatagramTransport() = default;
  explicit DatagramTransport(std::shared_ptr<detail::DatagramTransportState> s) noexcept : s_(std::move(s)) {}

  /// Sends at once when the socket takes it, else buffers (never blocks). `addr` must
  /// be empty or the remote address when one was given (ValueError). A failure is
  /// passed to the protocol's error_received; an empty datagram is not sent (3.12),
  /// nor one given after close() or abort().
  void sendto(std::string_view data, std::optional<SockAddr> addr = std::nullopt);
  /// Stops reading; connection_lost(null) follows once the buffer is sent.
  void close();
  /// Drops the buffer and closes; connection_lost(null) follows on the next iteration.
  void abort();
  bool is_closing() const noexcept;
  /// Bytes of the datagrams buffered and not yet taken by the kernel.
  std::size_t get_write_buffer_size() const noexcept;
  /// pause_writing above `high`, resume_writing at `low` (defaults 64 KiB and 16 KiB).
  void set_write_buffer_limits(std::optional<std::size_t> high = std::nullopt,
                               std::optional<std::size_t> low = std::nullopt);
  std::pair<std::size_t, std::size_t> get_write_buffer_limits() const noexcept;

  /// get_extra_info("sockname"), ("peername": empty when the socket is not connected),
  /// ("socket").fileno() (-1 once closed).
  SockAddr sockname() const;
  std::optional<SockAddr> peername() const;
  int fileno() const noexcept;
  std::shared_ptr<DatagramProtocol> get_protocol() const noexcept;

  explicit operator bool() const noexcept { return s_ != nullptr; }

 private:
  std::shared_ptr<detail::DatagramTransportState> s_;
};

inline void DatagramProtocol::connection_made(DatagramTransport transport) { (void)transport; }

namespace detail {
using DatagramFactory = std::function<std::shared_ptr<DatagramProtocol>()>;
/// The untyped core of create_datagram_endpoint.
Coro<DatagramTransport> datagram_endpoint(EventLoop& loop, DatagramFactory factory, std::optional<HostPort> local_addr,
                                          std::optional<HostPort> remote_addr, DatagramOptions options);
Coro<DatagramTransport> datagram_endpoint_on(EventLoop& loop, DatagramFactory factory, Socket sock);
}  // namespace detail

/// Makes a UDP endpoint (asyncio's loop.create_datagram_endpoint): binds to
/// `local_addr` and/or connects to `remote_addr` (std::nullopt: None), calls
/// `factory()` (a std::shared_ptr to a DatagramProtocol subclass) and returns the
/// transport and that protocol once connection_made() has run.
/// Cancellation: the endpoint, if made, is closed. Throws OSError (the first
/// attempt's), gaierror, or ValueError("unexpected address family") without addresses
/// and family.
template <class Factory>
auto create_datagram_endpoint(EventLoop& loop, Factory factory, std::optional<HostPort> local_addr,
                              std::optional<HostPort> remote_addr, DatagramOptions options = {})
    -> Coro<std::pair<DatagramTransport, decltype(factory())>> {
  using Ptr = decltype(factory());
  Ptr protocol;
  detail::DatagramFactory make = [&protocol, &factory] {
    protocol = factory();
    return std::shared_ptr<DatagramProtocol>(protocol);
  };
  DatagramTransport transport =
      co_await detail::datagram_endpoint(loop, std::move(make), std::move(local_addr), std::move(remote_addr), options);
  co_return std::pair<DatagramTransport, Ptr>(std::move(transport), std::move(protocol));
}

/// The same over a datagram socket of the caller's (asyncio's sock=).
template <class Factory>
auto create_datagram_endpoint(EventLoop& loop, Factory factory, Socket sock)
    -> Coro<std::pair<DatagramTransport, decltype(factory())>> {
  using Ptr = decltype(factory());
  Ptr protocol;
  detail::DatagramFactory make = [&protocol, &factory] {
    protocol = factory();
    return std::shared_ptr<DatagramProtocol>(protocol);
  };
  DatagramTransport transport = co_await detail::datagram_endpoint_on(loop, std::move(make), std::move(sock));
  co_return std::pair<DatagramTransport, Ptr>(std::move(transport), std::move(protocol));
}

/// A UDP socket used with coroutines. A copyable handle; the socket closes when the
/// last handle goes, or on close(). One coroutine at a time may wait to receive, and
/// one to send (RuntimeError otherwise).
class DatagramSocket {
 public:
  DatagramSocket() = default;
  explicit DatagramSocket(std::shared_ptr<detail::DatagramSocketState> s) noexcept : s_(std::move(s)) {}
  /// Adopts a datagram socket of the caller's.
  explicit DatagramSocket(Socket sock);

  /// One datagram of at most `bufsize` bytes (a longer one is cut, the rest dropped,
  /// as Python's recvfrom) and its sender. Cancellation: no datagram is taken by a
  /// call that raises CancelledError. Throws the OSError of the socket (for a
  /// connected one, ConnectionRefusedError after the peer's port refused a datagram).
  Coro<std::pair<std::string, SockAddr>> recvfrom(std::size_t bufsize = 65536);
  Coro<std::string> recv(std::size_t bufsize = 65536);
  /// Sends one datagram to `addr`; returns the bytes sent. Waits only when the
  /// kernel's buffer is full. Cancellation: a call that raises CancelledError sent
  /// nothing. Throws the OSError of the send, naming the address.
  Coro<std::size_t> sendto(std::string data, SockAddr addr);
  /// Sends to the remote address (connected, or the default given with allow_broadcast).
  Coro<std::size_t> send(std::string data);
  /// Closes the socket; a coroutine waiting on it gets OSError(EBADF). Idempotent.
  void close() noexcept;
  bool is_closed() const noexcept;

  SockAddr sockname() const;
  /// The connected peer; empty when not connected.
  std::optional<SockAddr> peername() const;
  int fileno() const noexcept;
  /// The socket, for setsockopt/getsockopt.
  Socket& socket() const noexcept;

 private:
  std::shared_ptr<detail::DatagramSocketState> s_;
};

/// A DatagramSocket bound to `local_addr` and/or connected to `remote_addr`, resolved
/// and tried as create_datagram_endpoint does.
Coro<DatagramSocket> open_datagram_endpoint(std::optional<HostPort> local_addr, std::optional<HostPort> remote_addr,
                                            DatagramOptions options = {});

}  // namespace aio
