// aio/socket.hpp: the part of Python's socket module asyncio programs use: addresses
// and non-blocking sockets, for the loop's sock_* coroutines (events.hpp) and the
// streams built on them.
//
//   aio::Socket s(AF_INET, SOCK_STREAM);
//   co_await loop.sock_connect(s, aio::SockAddr("127.0.0.1", 8888));
//   co_await loop.sock_sendall(s, "hello");
//   std::string reply = co_await loop.sock_recv(s, 1024);
//
// OS failures throw aio::OSError (a std::system_error) or the subclass Python would
// raise (ConnectionRefusedError, ConnectionResetError, ...), naming the address.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <string>
#include <utility>
#include <string_view>

namespace aio {

class EventLoop;

/// A socket address: IPv4, IPv6 or a Unix socket path.
class SockAddr {
 public:
  SockAddr() = default;
  /// A numeric host ("127.0.0.1", "::1", "" for any IPv4 address) and a port;
  /// ValueError when the host is not a numeric address (resolve names with getaddrinfo).
  SockAddr(std::string_view host, int port);
  static SockAddr unix_path(std::string_view path);
  static SockAddr from(const sockaddr* sa, socklen_t len);

  int family() const noexcept { return ss_.ss_family; }
  /// The numeric host, or a Unix socket's path.
  std::string host() const;
  int port() const noexcept;
  /// As Python shows the address: ('127.0.0.1', 8080), ('::1', 8080, 0, 0), '/tmp/s'.
  std::string str() const;
  bool empty() const noexcept { return len_ == 0; }

  const sockaddr* data() const noexcept { return reinterpret_cast<const sockaddr*>(&ss_); }
  sockaddr* data() noexcept { return reinterpret_cast<sockaddr*>(&ss_); }
  socklen_t size() const noexcept { return len_; }
  void resize(socklen_t len) noexcept { len_ = len; }
  static constexpr socklen_t capacity = sizeof(sockaddr_storage);

  friend bool operator==(const SockAddr& a, const SockAddr& b) noexcept;

 private:
  sockaddr_storage ss_{};
  socklen_t len_ = 0;
};

/// An owning, non-blocking, close-on-exec socket (Python's socket.socket with
/// setblocking(False)). Move-only; closes on destruction.
class Socket {
 public:
  Socket() noexcept = default;
  Socket(int family, int type, int proto = 0);
  /// Takes ownership of an open socket and makes it non-blocking.
  static Socket from_fd(int fd);
  Socket(Socket&& o) noexcept;
  Socket& operator=(Socket&& o) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket() { close(); }

  /// The descriptor, -1 once closed.
  int fileno() const noexcept { return fd_; }
  int family() const noexcept { return family_; }
  int type() const noexcept { return type_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }

  void bind(const SockAddr& addr);
  void listen(int backlog = 100);
  void setsockopt(int level, int name, int value);
  int getsockopt(int level, int name) const;
  SockAddr getsockname() const;
  SockAddr getpeername() const;
  /// SHUT_RD, SHUT_WR or SHUT_RDWR.
  void shutdown(int how);
  /// Closes the socket (stopping the loop from watching it first). Idempotent.
  void close() noexcept;
  /// Gives the descriptor up without closing it.
  int detach() noexcept;

  /// The loop watching this socket, if any (set by the loop on first wait).
  EventLoop* loop() const noexcept { return loop_; }
  void set_loop(EventLoop* loop) noexcept { loop_ = loop; }

 private:
  int fd_ = -1;
  int family_ = 0;
  int type_ = 0;
  EventLoop* loop_ = nullptr;
};

namespace detail {
/// Throws the OSError subclass Python raises for `err`, with "what: strerror".
[[noreturn]] void throw_os_error(int err, const std::string& what);
/// throw_os_error for errno as it is now, with the message made afterwards: a message
/// that looks something up (getsockname) cannot change the error it reports.
template <class F>
[[noreturn]] void throw_errno(F&& what) {
  const int err = errno;
  throw_os_error(err, std::forward<F>(what)());
}
/// The pending error of a socket (SO_ERROR).
int socket_error(int fd) noexcept;
/// The loop watches `sock` from its first operation on (it may have been watched by
/// another loop before); returns the descriptor. OSError(EBADF) once it is closed.
int watched_fd(EventLoop& loop, Socket& sock);
/// The descriptor after a wait: OSError(EBADF) when it was closed meanwhile.
int still_open(const Socket& sock);
constexpr bool would_block(int err) noexcept { return err == EAGAIN || err == EWOULDBLOCK; }
}  // namespace detail

}  // namespace aio
