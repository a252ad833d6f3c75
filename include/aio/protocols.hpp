// aio/protocols.hpp: asyncio's transports and protocols for TCP and Unix sockets and
// for pipes (asyncio.protocols and asyncio.transports; loop.create_connection,
// create_server, connect_read_pipe, connect_write_pipe).
// The loop reads, and calls the user's protocol with what came; the transport writes.
//
//   struct Echo : aio::Protocol {
//     aio::Transport transport;
//     void connection_made(aio::Transport t) override { transport = t; }
//     void data_received(std::string_view data) override { transport.write(data); }
//   };
//   aio::Server server = co_await aio::create_server(
//       loop, [] { return std::make_shared<Echo>(); }, "127.0.0.1", 8888);
//   auto [transport, client] = co_await aio::create_connection(
//       loop, [] { return std::make_shared<Client>(); }, "127.0.0.1", 8888);
//
// The same connection as the streams' (aio/streams.hpp), driven by callbacks instead
// of coroutines: the options (ConnectionOptions, ServerOptions), TLS, the errors and
// the Server are the streams' own. A protocol's callbacks run on the loop; one that
// throws goes to the loop's exception handler ("Fatal error: protocol.data_received()
// call failed.") and the connection is closed with that exception.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "aio/coro.hpp"
#include "aio/socket.hpp"
#include "aio/ssl.hpp"
#include "aio/streams.hpp"
#include "aio/subprocess.hpp"

namespace aio {

class EventLoop;
class Transport;

/// What every protocol has (asyncio.BaseProtocol).
class BaseProtocol {
 public:
  virtual ~BaseProtocol() = default;
  /// The connection is up (for TLS: the handshake is done); keep the transport.
  virtual void connection_made(Transport transport);
  /// The connection closed: null after close(), abort() or the peer's EOF, else the
  /// error that ended it (ConnectionResetError, an SSLError, a callback's exception).
  /// Called once, on a later loop iteration than the close.
  virtual void connection_lost(std::exception_ptr exc) { (void)exc; }
  /// Flow control: the transport's write buffer passed the high-water mark, and fell
  /// back to the low one (set_write_buffer_limits: 64 KiB and 16 KiB by default).
  virtual void pause_writing() {}
  virtual void resume_writing() {}
};

/// A protocol that is given each piece of data as it comes (asyncio.Protocol).
class Protocol : public BaseProtocol {
 public:
  /// Bytes received, in order. `data` is valid during the call only.
  virtual void data_received(std::string_view data) { (void)data; }
  /// The peer half-closed. Returning false (the default) closes the transport;
  /// true keeps it open for writing (not over TLS, which closes it either way).
  virtual bool eof_received() { return false; }
};

/// A protocol that gives the buffer to read into (asyncio.BufferedProtocol): no copy
/// between the kernel and the protocol's own buffer.
class BufferedProtocol : public BaseProtocol {
 public:
  /// Where the next read goes: at least one byte (RuntimeError otherwise). `sizehint`
  /// is -1, as asyncio passes: any size will do.
  virtual std::span<char> get_buffer(long sizehint) = 0;
  /// The first `nbytes` of the buffer get_buffer gave now hold data.
  virtual void buffer_updated(std::size_t nbytes) = 0;
  /// As Protocol::eof_received.
  virtual bool eof_received() { return false; }
};

/// The loop's side of a connection (asyncio.Transport). A copyable handle; the
/// connection lives until it is closed and connection_lost has run (the loop holds
/// it while it reads), not as long as a handle does.
class Transport {
 public:
  Transport() = default;
  explicit Transport(std::shared_ptr<detail::StreamState> s) noexcept : s_(std::move(s)) {}

  /// Sends what the socket takes now and buffers the rest (never blocks); calls the
  /// protocol's pause_writing when the buffer passes the high-water mark. Dropped
  /// after close() or once the connection is lost; RuntimeError after write_eof().
  void write(std::string_view data);
  template <class R>
  void writelines(const R& lines) {
    for (const auto& line : lines) write(line);
  }
  /// Half-closes once the buffer is sent (shutdown(SHUT_WR)); NotImplementedError
  /// over TLS, which cannot.
  void write_eof();
  bool can_write_eof() const noexcept;
  /// Stops reading and closes once the buffer is sent; connection_lost(null) follows.
  void close();
  /// Closes at once, dropping the buffer; connection_lost(null) follows.
  void abort();
  bool is_closing() const noexcept;

  /// Stops and restarts the calls of data_received (asyncio's pause_reading,
  /// resume_reading): unread data waits in the kernel and so holds back the peer.
  void pause_reading();
  void resume_reading();
  bool is_reading() const noexcept;

  /// Bytes buffered and not yet taken by the kernel.
  std::size_t get_write_buffer_size() const noexcept;
  /// pause_writing above `high`, resume_writing at `low` (64 KiB and 16 KiB by
  /// default; one given alone sets the other as asyncio does). ValueError unless
  /// high >= low.
  void set_write_buffer_limits(std::optional<std::size_t> high = std::nullopt,
                               std::optional<std::size_t> low = std::nullopt);
  /// (low, high), as asyncio returns them.
  std::pair<std::size_t, std::size_t> get_write_buffer_limits() const noexcept;

  /// The protocol the transport calls; set_protocol switches to another one (a
  /// Protocol or a BufferedProtocol) from the next read on.
  std::shared_ptr<BaseProtocol> get_protocol() const noexcept;
  void set_protocol(std::shared_ptr<BaseProtocol> protocol);

  /// get_extra_info("peername"), ("sockname"), ("socket").fileno() (-1 once closed).
  SockAddr peername() const;
  SockAddr sockname() const;
  int fileno() const noexcept;
  /// The TLS details (get_extra_info("ssl_object"), "peercert", "cipher"), as
  /// StreamWriter's; empty or nullopt on a plain connection.
  bool is_tls() const noexcept;
  std::string ssl_version() const;
  std::optional<CipherInfo> cipher() const;
  std::optional<PeerCertificate> peercert() const;
  std::string selected_alpn_protocol() const;

  explicit operator bool() const noexcept { return s_ != nullptr; }

 private:
  std::shared_ptr<detail::StreamState> s_;
};

inline void BaseProtocol::connection_made(Transport transport) { (void)transport; }

class SubprocessTransport;

/// A protocol for a child process and its pipes (asyncio.SubprocessProtocol). A
/// class of its own, not a BaseProtocol as in asyncio: its connection_made takes a
/// SubprocessTransport, and one override would hide the other.
class SubprocessProtocol {
 public:
  virtual ~SubprocessProtocol() = default;
  /// The child is running and its pipes are connected.
  virtual void connection_made(SubprocessTransport transport);
  /// Once the child has exited and every pipe has closed; null (asyncio passes None).
  virtual void connection_lost(std::exception_ptr exc) { (void)exc; }
  /// The child's stdin's flow control: its write buffer passed the high-water mark,
  /// and fell back to the low one.
  virtual void pause_writing() {}
  virtual void resume_writing() {}
  /// The child wrote `data` to its stdout (fd 1) or its stderr (fd 2); valid during the call.
  virtual void pipe_data_received(int fd, std::string_view data) {
    (void)fd;
    (void)data;
  }
  /// The pipe to the child's fd 0, 1 or 2 closed: null at its EOF or close, else the error.
  virtual void pipe_connection_lost(int fd, std::exception_ptr exc) {
    (void)fd;
    (void)exc;
  }
  /// The child exited; get_returncode() has its status.
  virtual void process_exited() {}
};

namespace detail {
struct SubprocessLink;
}

/// The loop's side of a child process (asyncio.SubprocessTransport): a copyable handle.
class SubprocessTransport {
 public:
  SubprocessTransport() = default;
  explicit SubprocessTransport(std::shared_ptr<detail::SubprocessLink> s) noexcept : s_(std::move(s)) {}

  int get_pid() const noexcept;
  /// None while the child runs (until process_exited); its exit status, or -N when
  /// signal N killed it.
  std::optional<int> get_returncode() const noexcept;
  /// The transport of the pipe to the child's fd 0 (a write pipe), 1 or 2 (read
  /// pipes); an empty Transport when that stream is not a PIPE. ValueError for
  /// another fd.
  Transport get_pipe_transport(int fd) const;
  /// As Process's: nothing once the child has been reaped.
  void send_signal(int sig);
  void terminate();
  void kill();
  /// Closes the pipes and kills the child if it still runs (asyncio's close).
  void close();
  bool is_closing() const noexcept;

  explicit operator bool() const noexcept { return s_ != nullptr; }

 private:
  std::shared_ptr<detail::SubprocessLink> s_;
};

inline void SubprocessProtocol::connection_made(SubprocessTransport transport) { (void)transport; }

namespace detail {
using ProtocolFactory = std::function<std::shared_ptr<BaseProtocol>()>;
/// The untyped cores of the functions below (protocols.cpp).
Coro<Transport> connect_protocol(EventLoop& loop, ProtocolFactory factory, std::string host, int port,
                                 ConnectionOptions options);
Coro<Transport> connect_unix_protocol(EventLoop& loop, ProtocolFactory factory, std::string path,
                                      ConnectionOptions options);
Coro<Transport> adopt_protocol(EventLoop& loop, ProtocolFactory factory, Socket sock, ConnectionOptions options);
Coro<Transport> adopt_accepted_protocol(EventLoop& loop, ProtocolFactory factory, Socket sock, ServerOptions options);
Coro<Transport> connect_read_pipe_protocol(EventLoop& loop, ProtocolFactory factory, int fd);
Coro<Transport> connect_write_pipe_protocol(EventLoop& loop, ProtocolFactory factory, int fd);
/// subprocess_exec's and subprocess_shell's core (subprocess.cpp). Not a coroutine:
/// what the options refer to is copied at the call.
using SubprocessProtocolFactory = std::function<std::shared_ptr<SubprocessProtocol>()>;
Coro<SubprocessTransport> spawn_subprocess_protocol(EventLoop& loop, SubprocessProtocolFactory factory,
                                                    std::vector<std::string> argv, SubprocessOptions options);
/// Tells the loop's exception handler that a protocol's callback failed.
void report(EventLoop& loop, const char* message, std::exception_ptr exc) noexcept;
inline constexpr SubprocessOptions kAllPipes{.stdin = PIPE, .stdout = PIPE, .stderr = PIPE};

/// Calls `factory` and keeps what it made, typed, for the caller's pair; the cores
/// get it as a `Base` (BaseProtocol, or SubprocessProtocol).
template <class Factory, class Base>
struct KeptFactory {
  using Ptr = decltype(std::declval<Factory&>()());
  Factory factory;
  Ptr made{};
  std::function<std::shared_ptr<Base>()> untyped() {
    return [this] {
      made = factory();
      return std::shared_ptr<Base>(made);
    };
  }
};

/// Awaits the connection and pairs its transport (a Transport or a
/// SubprocessTransport) with the protocol made for it.
template <class T, class Factory, class Base>
Coro<std::pair<T, typename KeptFactory<Factory, Base>::Ptr>> typed_pair(
    std::unique_ptr<KeptFactory<Factory, Base>> kept, Coro<T> connecting) {
  T transport = co_await std::move(connecting);
  co_return std::pair<T, typename KeptFactory<Factory, Base>::Ptr>(std::move(transport), std::move(kept->made));
}

/// What the public forms share: `connect(untyped factory)` starts one of the cores
/// above at once (so the options are read now), and the result comes back typed.
template <class Base = BaseProtocol, class Factory, class Connect>
auto with_protocol(Factory factory, Connect connect) {
  using Kept = KeptFactory<Factory, Base>;
  auto kept = std::make_unique<Kept>(Kept{std::move(factory)});
  auto connecting = connect(kept->untyped());
  return typed_pair(std::move(kept), std::move(connecting));
}
}  // namespace detail

// Not coroutines, as open_connection: what the options refer to (the context, the
// host name, the local address) is copied when they are called.

/// Connects to host:port as open_connection does (every address, Happy Eyeballs,
/// local_addr, TLS with its handshake), then calls `factory()` (a std::shared_ptr to
/// a Protocol or BufferedProtocol subclass) and returns the transport and that
/// protocol once connection_made() has run (asyncio's loop.create_connection).
template <class Factory>
auto create_connection(EventLoop& loop, Factory factory, std::string host, int port, ConnectionOptions options = {})
    -> Coro<std::pair<Transport, decltype(factory())>> {
  return detail::with_protocol(std::move(factory), [&](detail::ProtocolFactory made) {
    return detail::connect_protocol(loop, std::move(made), std::move(host), port, options);
  });
}

/// The same over a Unix socket (loop.create_unix_connection).
template <class Factory>
auto create_unix_connection(EventLoop& loop, Factory factory, std::string path, ConnectionOptions options = {})
    -> Coro<std::pair<Transport, decltype(factory())>> {
  return detail::with_protocol(std::move(factory), [&](detail::ProtocolFactory made) {
    return detail::connect_unix_protocol(loop, std::move(made), std::move(path), options);
  });
}

/// The same over a connected socket of the caller's (asyncio's create_connection
/// with sock=): TLS needs `server_hostname` then, unless the context checks no host
/// name (ValueError "You must set server_hostname when using ssl without a host").
template <class Factory>
auto create_connection(EventLoop& loop, Factory factory, Socket sock, ConnectionOptions options = {})
    -> Coro<std::pair<Transport, decltype(factory())>> {
  return detail::with_protocol(std::move(factory), [&](detail::ProtocolFactory made) {
    return detail::adopt_protocol(loop, std::move(made), std::move(sock), options);
  });
}

/// A connection accepted outside aio's servers, served with a protocol
/// (loop.connect_accepted_socket): the server side of TLS when `options.ssl` gives a
/// server context, with its handshake and shutdown timeouts; the other options but
/// `limit` do not apply.
template <class Factory>
auto connect_accepted_socket(EventLoop& loop, Factory factory, Socket sock, ServerOptions options = {})
    -> Coro<std::pair<Transport, decltype(factory())>> {
  return detail::with_protocol(std::move(factory), [&](detail::ProtocolFactory made) {
    return detail::adopt_accepted_protocol(loop, std::move(made), std::move(sock), options);
  });
}

/// Reads the pipe `fd` (or a socket, or a terminal: ValueError for anything else)
/// with a Protocol or BufferedProtocol from `factory()` (loop.connect_read_pipe):
/// data_received as data comes, eof_received() once every writer has closed, and the
/// transport closes then (whatever eof_received returns), connection_lost(null)
/// following. The transport takes `fd` (made non-blocking) and closes it when it
/// closes: pass dup(0) to read standard input and keep it. It cannot write (write()
/// and write_eof() throw NotImplementedError).
template <class Factory>
auto connect_read_pipe(EventLoop& loop, Factory factory, int fd) -> Coro<std::pair<Transport, decltype(factory())>> {
  return detail::with_protocol(std::move(factory), [&](detail::ProtocolFactory made) {
    return detail::connect_read_pipe_protocol(loop, std::move(made), fd);
  });
}

/// Writes to the pipe `fd` (or a socket, or a terminal) for any BaseProtocol from
/// `factory()` (loop.connect_write_pipe): write() sends what the pipe takes and
/// buffers the rest, with pause_writing/resume_writing at the write buffer's limits;
/// write_eof() and close() close the pipe once the buffer is out. When the reader
/// closes its end the transport closes too: connection_lost(null) with nothing
/// buffered, else BrokenPipeError. Takes `fd` as connect_read_pipe does, and also a
/// character device epoll cannot watch (/dev/null), which takes every write at once
/// (a write it refuses ends the transport with its OSError). It does not read
/// (pause_reading() and resume_reading() throw NotImplementedError).
template <class Factory>
auto connect_write_pipe(EventLoop& loop, Factory factory, int fd) -> Coro<std::pair<Transport, decltype(factory())>> {
  return detail::with_protocol(std::move(factory), [&](detail::ProtocolFactory made) {
    return detail::connect_write_pipe_protocol(loop, std::move(made), fd);
  });
}

/// Starts `program` with `args` and a SubprocessProtocol from `factory()`
/// (loop.subprocess_exec): returns the SubprocessTransport and that protocol once
/// connection_made() has run. By default the child's stdin, stdout and stderr are
/// all pipes, as asyncio's; options given are taken as they are (a stream not set
/// is inherited, as with create_subprocess_exec). Errors as create_subprocess_exec's.
template <class Factory>
auto subprocess_exec(EventLoop& loop, Factory factory, std::string program, std::vector<std::string> args = {},
                     SubprocessOptions options = detail::kAllPipes)
    -> Coro<std::pair<SubprocessTransport, decltype(factory())>> {
  args.insert(args.begin(), std::move(program));
  return detail::with_protocol<SubprocessProtocol>(std::move(factory), [&](detail::SubprocessProtocolFactory made) {
    return detail::spawn_subprocess_protocol(loop, std::move(made), std::move(args), options);
  });
}

/// The same with the arguments one by one, options last if any:
/// subprocess_exec(loop, factory, "ls", "-l").
template <class Factory, class... A>
  requires(sizeof...(A) > 0 && (detail::exec_arg_v<A> && ...))
auto subprocess_exec(EventLoop& loop, Factory factory, std::string program, A&&... args)
    -> Coro<std::pair<SubprocessTransport, decltype(factory())>> {
  std::vector<std::string> argv{std::move(program)};
  SubprocessOptions options = detail::kAllPipes;
  (detail::exec_arg(argv, options, std::forward<A>(args)), ...);
  return detail::with_protocol<SubprocessProtocol>(std::move(factory), [&](detail::SubprocessProtocolFactory made) {
    return detail::spawn_subprocess_protocol(loop, std::move(made), std::move(argv), options);
  });
}

/// Runs `cmd` with /bin/sh -c, as subprocess_exec (loop.subprocess_shell).
template <class Factory>
auto subprocess_shell(EventLoop& loop, Factory factory, std::string cmd, SubprocessOptions options = detail::kAllPipes)
    -> Coro<std::pair<SubprocessTransport, decltype(factory())>> {
  std::vector<std::string> argv{"/bin/sh", "-c", std::move(cmd)};
  return detail::with_protocol<SubprocessProtocol>(std::move(factory), [&](detail::SubprocessProtocolFactory made) {
    return detail::spawn_subprocess_protocol(loop, std::move(made), std::move(argv), options);
  });
}

/// Listens as start_server does and gives each connection a protocol from
/// `factory()` (loop.create_server). A factory that throws drops that connection
/// and goes to the loop's exception handler; so does a failed TLS handshake.
Coro<Server> create_server(EventLoop& loop, detail::ProtocolFactory factory, std::string host, int port,
                           ServerOptions options = {});
/// The same on a Unix socket (loop.create_unix_server).
Coro<Server> create_unix_server(EventLoop& loop, detail::ProtocolFactory factory, std::string path,
                                ServerOptions options = {});
/// The same on a bound stream socket of the caller's, TCP or Unix (create_server with
/// sock=), as start_server(handler, sock, options).
Coro<Server> create_server(EventLoop& loop, detail::ProtocolFactory factory, Socket sock, ServerOptions options = {});

}  // namespace aio
