// aio/streams.hpp: asyncio's streams. open_connection / start_server and their Unix
// socket forms give a StreamReader and a StreamWriter:
//
//   auto [reader, writer] = co_await aio::open_connection("127.0.0.1", 8888);
//   writer.write("hello\n");
//   co_await writer.drain();
//   std::string line = co_await reader.readline();
//   writer.close();
//   co_await writer.wait_closed();
//
// StreamReader and StreamWriter are handles (copyable, like Python references) to one
// connection; it is closed when the last handle goes. The reader pulls from the socket
// only when its buffer cannot answer, so unread data waits in the kernel and bounds
// the peer. The writer sends at once when it can and buffers the rest; drain() waits
// while more than the high-water mark (64 KiB) is buffered, until it falls to the
// low-water mark (16 KiB).
//
// TLS (aio/ssl.hpp): `{.ssl = ctx}` in the options, or writer.start_tls() on an open
// connection. The reader and writer work the same over it; the writer shows the
// session (ssl_version, cipher, peercert, selected_alpn_protocol).
#pragma once

#include <coroutine>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "aio/coro.hpp"
#include "aio/futures.hpp"
#include "aio/socket.hpp"
#include "aio/ssl.hpp"

namespace aio {

class EventLoop;

namespace detail {
class StreamState;
}

/// The default buffer limit of a StreamReader (asyncio's _DEFAULT_LIMIT): 64 KiB.
inline constexpr std::size_t DEFAULT_LIMIT = 64 * 1024;

class StreamReader {
 public:
  /// A reader fed by hand (feed_data/feed_eof), as asyncio.StreamReader().
  explicit StreamReader(std::size_t limit = DEFAULT_LIMIT);
  explicit StreamReader(std::shared_ptr<detail::StreamState> s) noexcept : s_(std::move(s)) {}

  /// Up to n bytes (n < 0: everything until EOF); "" at EOF. Every read method
  /// raises the connection's error (ConnectionResetError after a reset, an SSLError,
  /// or what set_exception gave) once there is one, as asyncio's, buffered data or not.
  Coro<std::string> read(long n = -1);
  /// One line with its "\n"; the partial line at EOF; ValueError past the limit.
  Coro<std::string> readline();
  /// Exactly n bytes, else IncompleteReadError with what came. A cancelled call
  /// leaves everything it saw in the buffer for the next read.
  Coro<std::string> readexactly(std::size_t n);
  /// Up to and including `separator`; IncompleteReadError at EOF, LimitOverrunError
  /// when the buffer passes the limit without it.
  Coro<std::string> readuntil(std::string_view separator = "\n");
  /// EOF seen and the buffer empty.
  bool at_eof() const noexcept;

  void feed_data(std::string_view data);
  void feed_eof();
  void set_exception(std::exception_ptr e);
  std::exception_ptr exception() const noexcept;
  std::size_t limit() const noexcept;

  /// For protocol parsers that work on the buffer in place (aio's addition; asyncio's
  /// protocols get data_received instead): the bytes buffered and not yet read, with
  /// no copy. The view is valid until the next call that reads or fills.
  std::string_view buffered() const noexcept;
  /// Drops the first n buffered bytes (at most buffered().size()), as a read would.
  void consume(std::size_t n) noexcept;
  /// Waits until more bytes are buffered; false at EOF (nothing more will come).
  /// Raises what a read would (ConnectionResetError, ...). The buffer is not bounded
  /// by the limit here: the caller consumes or gives up.
  Coro<bool> fill();

 private:
  std::shared_ptr<detail::StreamState> s_;
};

class StreamWriter {
 public:
  explicit StreamWriter(std::shared_ptr<detail::StreamState> s) noexcept : s_(std::move(s)) {}

  /// Sends what the socket takes now and buffers the rest (never blocks).
  void write(std::string_view data);
  template <class R>
  void writelines(const R& lines) {
    for (const auto& line : lines) write(line);
  }
  /// The awaitable drain() returns: with nothing to wait for (the usual case) it is
  /// ready at once and makes no coroutine frame; otherwise it runs the waiting
  /// coroutine inline. Like sleep(), it can also be given to create_task or wait_for.
  class [[nodiscard]] Drain {
   public:
    explicit Drain(std::shared_ptr<detail::StreamState> s) noexcept : s_(std::move(s)) {}
    bool await_ready() const noexcept;
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller);
    void await_resume();

   private:
    std::shared_ptr<detail::StreamState> s_;
    Coro<void> slow_;
    std::optional<Coro<void>::Awaiter> waiting_;
  };
  /// Waits while the buffer is above the high-water mark; raises the connection's
  /// error if it was lost (ConnectionResetError, BrokenPipeError, ...).
  Drain drain() { return Drain(s_); }
  /// Half-closes after the buffered data is sent (shutdown(SHUT_WR)).
  void write_eof();
  bool can_write_eof() const noexcept;
  /// Closes once the buffered data is sent.
  void close();
  bool is_closing() const noexcept;
  /// Waits until the connection is closed.
  Coro<void> wait_closed();
  /// Bytes buffered and not yet taken by the kernel.
  std::size_t get_write_buffer_size() const noexcept;
  /// The high and low water marks of drain (asyncio's set_write_buffer_limits).
  void set_write_buffer_limits(std::optional<std::size_t> high = std::nullopt, std::optional<std::size_t> low = std::nullopt);

  /// The transport's details (asyncio's get_extra_info("peername"), ...).
  SockAddr peername() const;
  SockAddr sockname() const;
  int fileno() const noexcept;

  /// Upgrades the open connection to TLS in place (asyncio 3.11's start_tls): drains,
  /// then runs the handshake (the client side, or the server side on a connection
  /// start_server accepted). Reader and writer go on, encrypted. ConnectionAbortedError
  /// when it takes longer than ssl_handshake_timeout seconds.
  Coro<void> start_tls(SSLContext ctx, std::string server_hostname = "", double ssl_handshake_timeout = 60.0,
                       double ssl_shutdown_timeout = 30.0);
  /// The TLS details (get_extra_info("ssl_object"), "peercert", "cipher"); empty or
  /// nullopt on a plain connection. The peer's certificate is there even when it was
  /// not verified.
  bool is_tls() const noexcept;
  std::string ssl_version() const;
  std::optional<CipherInfo> cipher() const;
  std::optional<PeerCertificate> peercert() const;
  std::string selected_alpn_protocol() const;

 private:
  std::shared_ptr<detail::StreamState> s_;
};

/// A listening server (asyncio.Server).
class Server {
 public:
  using Handler = std::function<Coro<void>(StreamReader, StreamWriter)>;
  struct State;
  explicit Server(std::shared_ptr<State> s) noexcept : s_(std::move(s)) {}

  /// Accepting connections (start_serving, which start_server does by default).
  void start_serving();
  bool is_serving() const noexcept;
  /// Serves until cancelled; the server is then closed.
  Coro<void> serve_forever();
  /// Stops listening; connections already accepted go on.
  void close();
  /// Closes the accepted connections (after their buffered data), or aborts them.
  void close_clients();
  void abort_clients();
  /// Waits until the server is closed and its connections are gone.
  Coro<void> wait_closed();
  /// The listening sockets' addresses; port() of the first gives a port picked for 0.
  std::vector<SockAddr> sockets() const;
  int port() const;
  /// The loop the server runs on.
  EventLoop& get_loop() const noexcept;

  /// `async with server:` (aio::async_with): the body gets the server; leaving it, by
  /// any path, closes the server and waits for it to be closed (wait_closed()).
  Coro<void> aenter();
  Coro<void> aexit(std::exception_ptr e);

 private:
  std::shared_ptr<State> s_;
};

struct ConnectionOptions {
  std::size_t limit = DEFAULT_LIMIT;
  int family = AF_UNSPEC;
  /// Bind the client socket here first (asyncio's local_addr): a numeric host and a
  /// port, read when open_connection is called (like `server_hostname`).
  std::optional<std::pair<std::string_view, int>> local_addr{};
  /// Happy Eyeballs delay between attempts (RFC 8305 says 0.25 s); none: one by one.
  std::optional<double> happy_eyeballs_delay = 0.25;
  /// TLS: a context, or true for create_default_context().
  SSLOption ssl{};
  /// The name to send (SNI) and check; default: the host connected to. Read when
  /// open_connection is called (like `ssl`, it refers to the caller's string).
  std::string_view server_hostname{};
  double ssl_handshake_timeout = 60.0;
  /// How long close() waits for our close_notify to go out and the peer's to come
  /// back before it aborts.
  double ssl_shutdown_timeout = 30.0;
};

// The options structs own nothing (they point at the caller's strings and contexts,
// copied when the call is made): g++ 12 destroys an aggregate made in a co_await
// expression twice, which is harmless only for what has a trivial destructor.
static_assert(std::is_trivially_destructible_v<ConnectionOptions>);

struct ServerOptions {
  std::size_t limit = DEFAULT_LIMIT;
  int family = AF_UNSPEC;
  int backlog = 100;
  std::optional<bool> reuse_address{};  // default: true on Unix, as asyncio
  bool reuse_port = false;
  bool start_serving = true;
  /// TLS: a server context (with its certificate); each connection's handshake runs
  /// before the handler, and a failed one goes to the loop's exception handler.
  SSLOption ssl{};
  double ssl_handshake_timeout = 60.0;
  double ssl_shutdown_timeout = 30.0;
};
static_assert(std::is_trivially_destructible_v<ServerOptions>);

/// Connects to host:port (a name is resolved; every address is tried).
Coro<std::pair<StreamReader, StreamWriter>> open_connection(std::string host, int port, ConnectionOptions options = {});
/// Listens on host:port ("" or "0.0.0.0": every IPv4 address; port 0: a free one) and
/// runs `handler(reader, writer)` as a task for each connection.
Coro<Server> start_server(Server::Handler handler, std::string host, int port, ServerOptions options = {});
Coro<std::pair<StreamReader, StreamWriter>> open_unix_connection(std::string path, ConnectionOptions options = {});
Coro<Server> start_unix_server(Server::Handler handler, std::string path, ServerOptions options = {});
/// Serves on a bound stream socket of the caller's, TCP or Unix (asyncio's
/// start_server(sock=)): it listens with `options.backlog`; the address options do
/// not apply. ValueError for a socket that is not SOCK_STREAM.
Coro<Server> start_server(Server::Handler handler, Socket sock, ServerOptions options = {});

/// Streams over a connected socket of the caller's.
std::pair<StreamReader, StreamWriter> open_stream(Socket sock, std::size_t limit = DEFAULT_LIMIT);

}  // namespace aio
