// Socket addresses and non-blocking sockets.
#include "aio/socket.hpp"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <utility>

#include "aio/coro.hpp"
#include "aio/detail/io_wait.hpp"
#include "aio/errors.hpp"
#include "aio/events.hpp"

namespace aio {

// --- SockAddr

SockAddr::SockAddr(std::string_view host, int port) {
  if (port < 0 || port > 65535) throw ValueError("port must be 0-65535, not " + std::to_string(port));
  const std::string h(host);
  if (h.empty() || h == "0.0.0.0") {
    auto* in = reinterpret_cast<sockaddr_in*>(&ss_);
    in->sin_family = AF_INET;
    in->sin_port = htons(static_cast<std::uint16_t>(port));
    in->sin_addr.s_addr = htonl(INADDR_ANY);
    len_ = sizeof(sockaddr_in);
    return;
  }
  auto* in = reinterpret_cast<sockaddr_in*>(&ss_);
  if (::inet_pton(AF_INET, h.c_str(), &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons(static_cast<std::uint16_t>(port));
    len_ = sizeof(sockaddr_in);
    return;
  }
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss_);
  std::string bare = h;
  if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']') bare = bare.substr(1, bare.size() - 2);
  std::string scope;
  if (auto pct = bare.find('%'); pct != std::string::npos) {
    scope = bare.substr(pct + 1);
    bare.resize(pct);
  }
  if (::inet_pton(AF_INET6, bare.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(static_cast<std::uint16_t>(port));
    if (!scope.empty()) in6->sin6_scope_id = ::if_nametoindex(scope.c_str());
    len_ = sizeof(sockaddr_in6);
    return;
  }
  ss_ = {};
  throw ValueError("not a numeric address: '" + h + "' (resolve host names with getaddrinfo)");
}

SockAddr SockAddr::unix_path(std::string_view path) {
  SockAddr a;
  auto* un = reinterpret_cast<sockaddr_un*>(&a.ss_);
  if (path.size() >= sizeof(un->sun_path)) throw ValueError("AF_UNIX path too long: " + std::string(path));
  un->sun_family = AF_UNIX;
  std::memcpy(un->sun_path, path.data(), path.size());
  a.len_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + (path.empty() || path[0] != '\0'));
  return a;
}

SockAddr SockAddr::from(const sockaddr* sa, socklen_t len) {
  SockAddr a;
  if (len > capacity) len = capacity;
  std::memcpy(&a.ss_, sa, len);
  a.len_ = len;
  return a;
}

std::string SockAddr::host() const {
  char buf[INET6_ADDRSTRLEN] = {};
  switch (ss_.ss_family) {
    case AF_INET:
      ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&ss_)->sin_addr, buf, sizeof buf);
      return buf;
    case AF_INET6:
      ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&ss_)->sin6_addr, buf, sizeof buf);
      return buf;
    case AF_UNIX: {
      const auto* un = reinterpret_cast<const sockaddr_un*>(&ss_);
      const std::size_t off = offsetof(sockaddr_un, sun_path);
      if (len_ <= off) return {};
      std::size_t n = len_ - off;
      if (un->sun_path[0] != '\0') n = ::strnlen(un->sun_path, n);
      return std::string(un->sun_path, n);
    }
    default:
      return {};
  }
}

int SockAddr::port() const noexcept {
  if (ss_.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&ss_)->sin_port);
  if (ss_.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&ss_)->sin6_port);
  return 0;
}

std::string SockAddr::str() const {
  switch (ss_.ss_family) {
    case AF_INET:
      return "('" + host() + "', " + std::to_string(port()) + ")";
    case AF_INET6: {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&ss_);
      return "('" + host() + "', " + std::to_string(port()) + ", " + std::to_string(ntohl(in6->sin6_flowinfo)) +
             ", " + std::to_string(in6->sin6_scope_id) + ")";
    }
    case AF_UNIX:
      return "'" + host() + "'";
    default:
      return "None";
  }
}

bool operator==(const SockAddr& a, const SockAddr& b) noexcept {
  return a.len_ == b.len_ && std::memcmp(&a.ss_, &b.ss_, a.len_) == 0;
}

// --- Socket

namespace detail {

void throw_os_error(int err, const std::string& what) {
  const std::string msg = "[Errno " + std::to_string(err) + "] " + what;
  switch (err) {
    case ECONNREFUSED:
      throw ConnectionRefusedError(err, msg);
    case ECONNRESET:
      throw ConnectionResetError(err, msg);
    case ECONNABORTED:
      throw ConnectionAbortedError(err, msg);
    case EPIPE:
    case ESHUTDOWN:
      throw BrokenPipeError(err, msg);
    case ENOENT:
      throw FileNotFoundError(err, msg);
    case EACCES:
    case EPERM:
      throw PermissionError(err, msg);
    case ESRCH:
      throw ProcessLookupError(err, msg);
    default:
      throw OSError(err, msg);
  }
}

int socket_error(int fd) noexcept {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return errno;
  return err;
}

}  // namespace detail

Socket::Socket(int family, int type, int proto) : family_(family), type_(type) {
  fd_ = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
  if (fd_ < 0) detail::throw_os_error(errno, "socket(" + std::to_string(family) + ", " + std::to_string(type) + ")");
}

Socket Socket::from_fd(int fd) {
  Socket s;
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    detail::throw_os_error(errno, "fcntl(O_NONBLOCK) on fd " + std::to_string(fd));
  }
  s.fd_ = fd;
  socklen_t len = sizeof(int);
  ::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &s.family_, &len);
  len = sizeof(int);
  ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &s.type_, &len);
  return s;
}

Socket::Socket(Socket&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), family_(o.family_), type_(o.type_), loop_(std::exchange(o.loop_, nullptr)) {}

Socket& Socket::operator=(Socket&& o) noexcept {
  if (this != &o) {
    close();
    fd_ = std::exchange(o.fd_, -1);
    family_ = o.family_;
    type_ = o.type_;
    loop_ = std::exchange(o.loop_, nullptr);
  }
  return *this;
}

void Socket::bind(const SockAddr& addr) {
  if (::bind(fd_, addr.data(), addr.size()) < 0) {
    detail::throw_os_error(errno, "error while attempting to bind on address " + addr.str());
  }
}

void Socket::listen(int backlog) {
  if (::listen(fd_, backlog) < 0) detail::throw_errno([&] { return "listen on " + getsockname().str(); });
}

void Socket::setsockopt(int level, int name, int value) {
  if (::setsockopt(fd_, level, name, &value, sizeof value) < 0) {
    detail::throw_os_error(errno, "setsockopt(" + std::to_string(level) + ", " + std::to_string(name) + ")");
  }
}

int Socket::getsockopt(int level, int name) const {
  int v = 0;
  socklen_t len = sizeof v;
  if (::getsockopt(fd_, level, name, &v, &len) < 0) {
    detail::throw_os_error(errno, "getsockopt(" + std::to_string(level) + ", " + std::to_string(name) + ")");
  }
  return v;
}

SockAddr Socket::getsockname() const {
  SockAddr a;
  socklen_t len = SockAddr::capacity;
  if (::getsockname(fd_, a.data(), &len) < 0) detail::throw_os_error(errno, "getsockname");
  a.resize(len);
  return a;
}

SockAddr Socket::getpeername() const {
  SockAddr a;
  socklen_t len = SockAddr::capacity;
  if (::getpeername(fd_, a.data(), &len) < 0) detail::throw_os_error(errno, "getpeername");
  a.resize(len);
  return a;
}

void Socket::shutdown(int how) {
  if (::shutdown(fd_, how) < 0 && errno != ENOTCONN) detail::throw_os_error(errno, "shutdown");
}

void Socket::close() noexcept {
  if (fd_ < 0) return;
  // A socket may outlive the loop that watched it (made before aio::run, closed after).
  if (loop_ != nullptr && detail::loop_is_alive(loop_)) loop_->detach_io(fd_);
  ::close(fd_);
  fd_ = -1;
  loop_ = nullptr;
}

int Socket::detach() noexcept {
  if (loop_ != nullptr && fd_ >= 0 && detail::loop_is_alive(loop_)) loop_->detach_io(fd_);
  loop_ = nullptr;
  return std::exchange(fd_, -1);
}

}  // namespace aio

// --- the loop's sock_* coroutines

namespace aio {
namespace {

// Waits for the next edge in one direction (the operation found fd drained).
detail::IoWait drained(EventLoop& loop, int fd, bool write) {
  loop.clear_io_ready(fd, write);
  return detail::IoWait(loop, fd, write);
}

using detail::still_open;
using detail::watched_fd;
using detail::would_block;

// What an error names: the peer of a connected socket, else our own address.
std::string endpoint_str(const Socket& sock) {
  try {
    return sock.getpeername().str();
  } catch (const std::system_error&) {
    try {
      return sock.getsockname().str();
    } catch (const std::system_error&) {
      return "fd " + std::to_string(sock.fileno());
    }
  }
}

}  // namespace

namespace detail {

int watched_fd(EventLoop& loop, Socket& sock) {
  const int fd = sock.fileno();
  if (fd < 0) throw OSError(EBADF, "[Errno 9] Bad file descriptor: the socket is closed");
  if (sock.loop() != &loop) {
    if (sock.loop() != nullptr && loop_is_alive(sock.loop())) sock.loop()->detach_io(fd);
    loop.attach_io(fd);
    sock.set_loop(&loop);
  }
  return fd;
}

int still_open(const Socket& sock) {
  if (sock.fileno() < 0) throw OSError(EBADF, "[Errno 9] Bad file descriptor: the socket was closed");
  return sock.fileno();
}

}  // namespace detail

Coro<void> EventLoop::sock_connect(Socket& sock, SockAddr address) {
  int fd = watched_fd(*this, sock);
  int rc;
  do {
    rc = ::connect(fd, address.data(), address.size());
  } while (rc < 0 && errno == EINTR);
  if (rc == 0) co_return;
  if (errno != EINPROGRESS && errno != EAGAIN) detail::throw_os_error(errno, "Connect call failed " + address.str());
  for (;;) {
    co_await drained(*this, fd, true);
    const int err = detail::socket_error(still_open(sock));
    if (err == 0) co_return;
    if (err != EINPROGRESS) detail::throw_os_error(err, "Connect call failed " + address.str());
  }
}

Coro<std::pair<Socket, SockAddr>> EventLoop::sock_accept(Socket& sock) {
  int fd = watched_fd(*this, sock);
  if (!io_ready(fd, false)) {
    co_await detail::IoWait(*this, fd, false);
    fd = still_open(sock);
  }
  for (;;) {
    SockAddr peer;
    socklen_t len = SockAddr::capacity;
    const int c = ::accept4(fd, peer.data(), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c >= 0) {
      peer.resize(len);
      Socket conn = Socket::from_fd(c);
      co_return std::pair<Socket, SockAddr>(std::move(conn), std::move(peer));
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (!would_block(errno)) detail::throw_errno([&] { return "accept on " + sock.getsockname().str(); });
    co_await drained(*this, fd, false);
    fd = still_open(sock);
  }
}

Coro<std::size_t> EventLoop::sock_recv_into(Socket& sock, std::span<char> buf) {
  int fd = watched_fd(*this, sock);
  if (!io_ready(fd, false)) {
    co_await detail::IoWait(*this, fd, false);
    fd = still_open(sock);
  }
  for (;;) {
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n >= 0) {
      // A short read of a stream socket emptied the kernel's buffer: wait next time.
      if (sock.type() == SOCK_STREAM && static_cast<std::size_t>(n) < buf.size() && n > 0) clear_io_ready(fd, false);
      co_return static_cast<std::size_t>(n);
    }
    if (errno == EINTR) continue;
    if (!would_block(errno)) detail::throw_errno([&] { return "recv from " + endpoint_str(sock); });
    co_await drained(*this, fd, false);
    fd = still_open(sock);
  }
}

Coro<std::string> EventLoop::sock_recv(Socket& sock, std::size_t nbytes) {
  std::string data(nbytes, '\0');
  const std::size_t n = co_await sock_recv_into(sock, std::span<char>(data.data(), data.size()));
  data.resize(n);
  co_return data;
}

Coro<void> EventLoop::sock_sendall(Socket& sock, std::string data) {
  int fd = watched_fd(*this, sock);
  std::size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n >= 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (!would_block(errno)) detail::throw_errno([&] { return "send to " + endpoint_str(sock); });
    co_await drained(*this, fd, true);
    fd = still_open(sock);
  }
}

Coro<std::pair<std::string, SockAddr>> EventLoop::sock_recvfrom(Socket& sock, std::size_t bufsize) {
  int fd = watched_fd(*this, sock);
  std::string data(bufsize, '\0');
  if (!io_ready(fd, false)) {
    co_await detail::IoWait(*this, fd, false);
    fd = still_open(sock);
  }
  for (;;) {
    SockAddr from;
    socklen_t len = SockAddr::capacity;
    const ssize_t n = ::recvfrom(fd, data.data(), data.size(), 0, from.data(), &len);
    if (n >= 0) {
      data.resize(static_cast<std::size_t>(n));
      from.resize(len);
      co_return std::pair<std::string, SockAddr>(std::move(data), std::move(from));
    }
    if (errno == EINTR) continue;
    if (!would_block(errno)) detail::throw_errno([&] { return "recvfrom " + endpoint_str(sock); });
    co_await drained(*this, fd, false);
    fd = still_open(sock);
  }
}

Coro<std::size_t> EventLoop::sock_sendto(Socket& sock, std::string data, SockAddr address) {
  int fd = watched_fd(*this, sock);
  for (;;) {
    const ssize_t n = ::sendto(fd, data.data(), data.size(), MSG_NOSIGNAL, address.data(), address.size());
    if (n >= 0) co_return static_cast<std::size_t>(n);
    if (errno == EINTR) continue;
    if (!would_block(errno)) detail::throw_os_error(errno, "sendto " + address.str());
    co_await drained(*this, fd, true);
    fd = still_open(sock);
  }
}

Coro<std::size_t> EventLoop::sock_sendfile(Socket& sock, int file_fd, std::size_t offset,
                                           std::optional<std::size_t> count) {
  int fd = watched_fd(*this, sock);
  std::size_t total;
  if (count) {
    total = *count;
  } else {
    struct stat st {};
    if (::fstat(file_fd, &st) < 0) detail::throw_os_error(errno, "fstat of fd " + std::to_string(file_fd));
    total = static_cast<std::size_t>(st.st_size) > offset ? static_cast<std::size_t>(st.st_size) - offset : 0;
  }
  auto off = static_cast<off_t>(offset);
  std::size_t sent = 0;
  while (sent < total) {
    const ssize_t n = ::sendfile(fd, file_fd, &off, std::min<std::size_t>(total - sent, 1 << 30));
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n == 0) break;  // the file is shorter than asked
    if (errno == EINTR) continue;
    if (!would_block(errno)) detail::throw_errno([&] { return "sendfile to " + endpoint_str(sock); });
    co_await drained(*this, fd, true);
    fd = still_open(sock);
  }
  co_return sent;
}

}  // namespace aio
