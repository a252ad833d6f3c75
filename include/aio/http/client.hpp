// aio/http/client.hpp: the HTTP/1.1 client, aiohttp's ClientSession.
//
//   aio::http::ClientSession session;
//   aio::http::ClientResponse resp = co_await session.get("http://127.0.0.1:8080/x",
//                                                        {.params = {{"q", "1"}}});
//   resp.raise_for_status();
//   std::string body = co_await resp.text();
//   nlohmann::json j = co_await (co_await session.post(url, {.json = payload})).json();
//   co_await session.close();
//
// `async with session.get(url) as resp:` is the ClientResponse's scope: when it goes,
// its connection goes back to the pool if the body was read to its end and was cleanly
// framed, and is closed otherwise (release()). A request cancelled while in flight
// closes its connection too, so no later request can read a stale response.
//
// RequestOptions own nothing (views and references into the caller's values), and the
// request refers to them: they must live until the co_await of the request ends, as
// temporaries in the same expression do (`co_await session.get(url, {...})`; not
// `create_task(session.get(url, {...}))`): g++ 12 destroys an aggregate with members that own memory twice when
// it is built inside a co_await expression (README).
//
// g++ 12 cannot build a braced list of pairs inside a co_await expression ("array used
// as initializer", a compiler bug): with g++, name a MultiDict / CIMultiDict first and
// pass it (`.params = params`); clang takes `{.params = {{"q", "1"}}}` as it is.
//
// Cancellation: every call may be cancelled; the connection it used is closed. Errors:
// aio/http/exceptions.hpp (ClientConnectorError, ServerDisconnectedError,
// ClientPayloadError, TooManyRedirects, InvalidURL, ...); ClientTimeout.total raises
// aio::TimeoutError, sock_read SocketTimeoutError, connect/sock_connect
// ConnectionTimeoutError.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "aio/asyncgen.hpp"
#include "aio/coro.hpp"
#include "aio/http/cookies.hpp"
#include "aio/http/exceptions.hpp"
#include "aio/http/headers.hpp"
#include "aio/http/multipart.hpp"
#include "aio/http/parser.hpp"
#include "aio/http/url.hpp"
#include "aio/ssl.hpp"

namespace aio::http {

namespace detail {
class ConnectorState;
struct Connection;
struct ResponseState;
struct RequestState;
class Deadline;
}  // namespace detail

/// aiohttp's ClientTimeout, in seconds; nullopt: no limit. total covers the whole
/// request, from waiting for a connection to the body's end (aio::TimeoutError);
/// connect covers waiting for a free connection and connecting, sock_connect the
/// connect itself (ConnectionTimeoutError); sock_read each wait for bytes from the
/// server (SocketTimeoutError). The default is aiohttp's: total 300, sock_connect 30.
struct ClientTimeout {
  std::optional<double> total = 300.0;
  std::optional<double> connect{};
  std::optional<double> sock_read{};
  std::optional<double> sock_connect = 30.0;
};

/// aiohttp's BasicAuth: the Authorization header "Basic base64(login:password)".
struct BasicAuth {
  std::string login, password;
  std::string encode() const;
};

/// The `ssl` setting of a connector or a request (aiohttp's ssl=): verification on
/// with the system's certificates (the default), `false` to turn verification off
/// explicitly, or an SSLContext of the caller's. A request's setting refers to the
/// caller's context (as options do).
class ClientSSL {
 public:
  ClientSSL() = default;
  ClientSSL(bool verify) : mode_(verify ? Mode::verify : Mode::off) {}  // NOLINT: ssl=False
  ClientSSL(const SSLContext& ctx) : mode_(Mode::context), ctx_(&ctx) {}  // NOLINT
  enum class Mode { unset, verify, off, context };
  Mode mode() const noexcept { return mode_; }
  const SSLContext* context() const noexcept { return ctx_; }

 private:
  Mode mode_ = Mode::unset;
  const SSLContext* ctx_ = nullptr;
};

/// Key/value pairs given to a request: a braced list `{{"a", "1"}, {"b", "2"}}`, or a
/// MultiDict / CIMultiDict of the caller's. Refers to them; owns nothing.
class PairsRef {
 public:
  using Pair = std::pair<std::string_view, std::string_view>;
  PairsRef() = default;
  // The list's array lives until the end of the full-expression that made it, which is
  // as long as a request's options are used.
  PairsRef(std::initializer_list<Pair> items) : list_(items), n_(items.size()) {}  // NOLINT
  PairsRef(const MultiDict& d) : md_(&d), n_(d.size()) {}                                   // NOLINT
  PairsRef(const CIMultiDict& d) : cd_(&d), n_(d.size()) {}                                 // NOLINT
  bool empty() const noexcept { return n_ == 0; }
  std::size_t size() const noexcept { return n_; }
  template <class F>
  void for_each(F&& f) const {
    if (md_) {
      for (const auto& [k, v] : *md_) f(std::string_view(k), std::string_view(v));
    } else if (cd_) {
      for (const auto& [k, v] : *cd_) f(std::string_view(k), std::string_view(v));
    } else {
      for (const Pair& p : list_) f(p.first, p.second);
    }
  }
  MultiDict to_multidict() const;

 private:
  std::initializer_list<Pair> list_{};
  const MultiDict* md_ = nullptr;
  const CIMultiDict* cd_ = nullptr;
  std::size_t n_ = 0;
};

/// A reference to a caller's value (owns nothing; empty by default).
template <class T>
class Ref {
 public:
  Ref() = default;
  Ref(const T& v) : p_(&v) {}  // NOLINT
  explicit operator bool() const noexcept { return p_ != nullptr; }
  const T& operator*() const noexcept { return *p_; }
  const T* operator->() const noexcept { return p_; }
  const T* get() const noexcept { return p_; }

 private:
  const T* p_ = nullptr;
};

/// A body given as an async generator of byte strings, sent chunked (no length known).
using BodyStream = AsyncGenerator<std::string>;

/// The keyword arguments of ClientSession.request (aiohttp's names). At most one of
/// data, form, form_data, multipart, json, stream is given.
struct RequestOptions {
  PairsRef params{};                 ///< added to the URL's query
  PairsRef headers{};                ///< added to (and replacing) the session's
  std::optional<std::string_view> data{};  ///< bytes (Content-Type application/octet-stream)
  PairsRef form{};                   ///< data=dict: application/x-www-form-urlencoded
  Ref<FormData> form_data{};         ///< data=FormData(...): urlencoded, or multipart/form-data with files
  Ref<MultipartWriter> multipart{};  ///< data=MultipartWriter(...)
  Ref<nlohmann::json> json{};        ///< application/json
  BodyStream* stream = nullptr;      ///< data=async generator: chunked upload
  PairsRef cookies{};                ///< sent with this request (not stored in the jar)
  Ref<BasicAuth> auth{};
  std::optional<bool> allow_redirects{};  ///< default true (false for head())
  int max_redirects = 10;
  std::optional<ClientTimeout> timeout{};  ///< default: the session's
  ClientSSL ssl{};                   ///< default: the connector's
  std::optional<bool> raise_for_status{};  ///< default: the session's
  /// Send `Expect: 100-continue` and wait for the server's 100 before the body.
  bool expect100 = false;
  /// Chunked upload of `data` too (aiohttp's chunked=True).
  bool chunked = false;
};
static_assert(std::is_trivially_destructible_v<RequestOptions>);

/// The keyword arguments of ClientSession.ws_connect (aiohttp's names). Like
/// RequestOptions they own nothing and must live until the co_await ends; with g++ 12,
/// name them first when they hold `protocols` (its braced-list bug inside co_await).
struct WSConnectOptions {
  /// Subprotocols to offer, preferred first (Sec-WebSocket-Protocol).
  std::initializer_list<std::string_view> protocols{};
  /// How long close() waits for the server's close frame, in seconds.
  double timeout = 10.0;
  /// receive()'s default timeout (none: no limit).
  std::optional<double> receive_timeout{};
  /// Answer the server's close frame inside receive().
  bool autoclose = true;
  /// Answer pings (and drop pongs) inside receive().
  bool autoping = true;
  /// Ping after this many quiet seconds; close when no answer comes within half of it.
  std::optional<double> heartbeat{};
  /// Sent as the Origin header when given.
  std::string_view origin{};
  PairsRef params{};
  PairsRef headers{};
  Ref<BasicAuth> auth{};
  ClientSSL ssl{};
  /// Messages larger than this fail the connection with MESSAGE_TOO_BIG (0: no limit).
  std::size_t max_msg_size = 4 * 1024 * 1024;
  /// Offer permessage-deflate, the server's messages compressed with a window of this
  /// many bits (9 to 15; aiohttp's compress=15); 0: no compression. A server that
  /// declines leaves the messages plain.
  int compress = 0;
};
static_assert(std::is_trivially_destructible_v<WSConnectOptions>);

/// aiohttp's TCPConnector: the connection pool.
struct TCPConnectorOptions {
  /// Connections in use at once, over all hosts (0: no limit).
  std::size_t limit = 100;
  /// Connections in use at once to one (host, port, ssl) (0: no limit).
  std::size_t limit_per_host = 0;
  /// An idle keep-alive connection is closed after this many seconds.
  double keepalive_timeout = 15.0;
  /// TLS verification for https URLs (default on; false turns it off; a context).
  std::optional<SSLContext> ssl_context{};
  bool verify_ssl = true;
  /// Close every connection after its response (no reuse).
  bool force_close = false;
};

class TCPConnector {
 public:
  using Options = TCPConnectorOptions;
  explicit TCPConnector(Options options = {});
  ~TCPConnector();
  TCPConnector(const TCPConnector&) = delete;
  TCPConnector& operator=(const TCPConnector&) = delete;

  std::size_t limit() const noexcept;
  std::size_t limit_per_host() const noexcept;
  bool force_close() const noexcept;
  /// Closes the idle connections; connections in use close when released.
  void close();
  bool closed() const noexcept;

  /// Statistics (aio's addition): connections opened so far, in use, idle.
  struct Statistics {
    std::size_t connections_made = 0, acquired = 0, idle = 0;
  };
  Statistics statistics() const noexcept;

  const std::shared_ptr<detail::ConnectorState>& state() const noexcept { return s_; }

 private:
  std::shared_ptr<detail::ConnectorState> s_;
};

class ClientResponse;
class ClientWebSocketResponse;  // aio/http/websocket.hpp

/// The response body as a stream (aiohttp's resp.content, a StreamReader). Reads give
/// decoded bytes (after Content-Encoding when auto_decompress is on); "" at the end.
/// Throws ClientPayloadError when the framing is broken, SocketTimeoutError, ...
class ResponseContent {
 public:
  /// Up to n bytes (n < 0: all the rest).
  Coro<std::string> read(long n = -1);
  /// What is buffered, else waits for the next piece (aiohttp's readany).
  Coro<std::string> readany();
  /// One line with its "\n" (the partial line at the end).
  Coro<std::string> readline();
  /// Exactly n bytes, else aio::IncompleteReadError.
  Coro<std::string> readexactly(std::size_t n);
  /// Pieces of at most n bytes until the end (async for chunk in iter_chunked(n)).
  AsyncGenerator<std::string> iter_chunked(std::size_t n);
  /// Pieces as they come (iter_any).
  AsyncGenerator<std::string> iter_any();
  /// The whole body has been read.
  bool at_eof() const noexcept;

 private:
  friend class ClientResponse;
  explicit ResponseContent(detail::ResponseState* s) noexcept : s_(s) {}
  detail::ResponseState* s_;
};

/// aiohttp's ClientResponse. Move-only; its destruction is release().
class ClientResponse {
 public:
  ClientResponse() noexcept;
  explicit ClientResponse(std::unique_ptr<detail::ResponseState> s) noexcept;
  ClientResponse(ClientResponse&&) noexcept;
  ClientResponse& operator=(ClientResponse&&) noexcept;
  ~ClientResponse();

  int status() const noexcept;
  /// The reason phrase ("OK").
  std::string_view reason() const noexcept;
  /// Status below 400.
  bool ok() const noexcept { return status() < 400; }
  /// The response's header fields (built on first use from the head kept as received).
  const CIMultiDict& headers() const;
  /// The first field `name` without building headers(): a view into the head.
  std::optional<std::string_view> header(std::string_view name) const noexcept;
  /// The URL of this response (after redirects) and the URL as requested.
  const URL& url() const noexcept;
  const URL& real_url() const noexcept;
  std::string_view method() const noexcept;
  /// The responses that redirected to this one, in order.
  const std::vector<ClientResponse>& history() const noexcept;
  /// (major, minor): (1, 1).
  std::pair<int, int> version() const noexcept;
  /// The media type of Content-Type in lower case; "application/octet-stream" when
  /// there is none (aiohttp's content_type).
  std::string content_type() const;
  /// The charset parameter of Content-Type, or nullopt.
  std::optional<std::string> charset() const;
  /// Content-Length, when given.
  std::optional<std::uint64_t> content_length() const noexcept;
  /// The cookies this response set (name -> value).
  MultiDict cookies() const;

  /// The whole body (decoded); kept, so later calls (and text(), json()) give it again.
  Coro<std::string> read();
  /// The body as text: in this C++ version the bytes as they are, after checking
  /// that the charset (Content-Type's, else utf-8) is one we can pass through (utf-8,
  /// us-ascii, iso-8859-1 are converted to UTF-8).
  Coro<std::string> text(std::optional<std::string_view> encoding = std::nullopt);
  /// The body parsed as JSON. ContentTypeError when the Content-Type is not
  /// `content_type` ("application/json"); "" skips the check (aiohttp's None).
  Coro<nlohmann::json> json(std::optional<std::string_view> content_type = "application/json");
  /// The body read so far by read() (empty before).
  std::string_view body() const noexcept;

  /// The body as a stream.
  ResponseContent content() noexcept;

  /// Gives the connection back: to the pool when the body was read to its end and
  /// cleanly framed, else closed. Idempotent; the destructor calls it.
  void release() noexcept;
  /// Closes the connection (never reused).
  void close() noexcept;
  bool closed() const noexcept;
  /// ClientResponseError("404, message='Not Found', url='...'") when status >= 400.
  void raise_for_status() const;

  detail::ResponseState* state() const noexcept { return s_.get(); }

 private:
  std::unique_ptr<detail::ResponseState> s_;
};

/// aiohttp's ClientSession options. Environment proxies are never used (trust_env
/// is always false).
struct ClientSessionOptions {
  /// Relative request URLs are joined to it.
  std::optional<std::string> base_url{};
  /// Sent with every request.
  CIMultiDict headers{};
  /// Updated from every response, sent on every request; default: a CookieJar.
  std::shared_ptr<AbstractCookieJar> cookie_jar{};
  /// Stored in the jar at the start (ClientSession(cookies=...)).
  MultiDict cookies{};
  ClientTimeout timeout{};
  /// Default: a TCPConnector of the session's own.
  std::shared_ptr<TCPConnector> connector{};
  /// Close the connector with the session (default: when it is the session's own).
  std::optional<bool> connector_owner{};
  std::optional<BasicAuth> auth{};
  bool raise_for_status = false;
  bool auto_decompress = true;
  /// The User-Agent header sent unless one is given.
  std::string user_agent = "aio-http/1.0";
};

class ClientSession {
 public:
  using Options = ClientSessionOptions;
  ClientSession();
  explicit ClientSession(Options options);
  ~ClientSession();
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  /// Sends `method url` and returns the response once its head has arrived (the
  /// body waits in the connection for read()/content). Follows redirects unless
  /// allow_redirects is false. RuntimeError("Session is closed") after close().
  Coro<ClientResponse> request(std::string_view method, std::string_view url, const RequestOptions& options = {});
  Coro<ClientResponse> get(std::string_view url, const RequestOptions& options = {});
  Coro<ClientResponse> post(std::string_view url, const RequestOptions& options = {});
  Coro<ClientResponse> put(std::string_view url, const RequestOptions& options = {});
  Coro<ClientResponse> patch(std::string_view url, const RequestOptions& options = {});
  Coro<ClientResponse> delete_(std::string_view url, const RequestOptions& options = {});
  Coro<ClientResponse> head(std::string_view url, const RequestOptions& options = {});
  Coro<ClientResponse> options(std::string_view url, const RequestOptions& options = {});

  /// Opens a WebSocket (aiohttp's ws_connect): a GET with the upgrade headers, then
  /// the checks of the server's 101 answer (WSServerHandshakeError when one fails).
  /// The result is in aio/http/websocket.hpp.
  Coro<ClientWebSocketResponse> ws_connect(std::string_view url, const WSConnectOptions& options = {});

  /// Closes the session and (when it owns it) its connector's connections.
  Coro<void> close();
  bool closed() const noexcept { return closed_; }

  AbstractCookieJar& cookie_jar() noexcept { return *jar_; }
  TCPConnector& connector() noexcept { return *connector_; }
  const CIMultiDict& headers() const noexcept { return options_.headers; }
  const ClientTimeout& timeout() const noexcept { return options_.timeout; }

 private:
  // upgrade: a 101 answer keeps its connection for the caller (ws_connect).
  Coro<ClientResponse> request_(std::string_view method, std::string_view url, const RequestOptions& o,
                                bool follow_default, bool upgrade = false);
  Coro<ClientResponse> send(detail::RequestState& rq);

  Options options_;
  std::optional<URL> base_url_;
  std::shared_ptr<AbstractCookieJar> jar_;
  std::shared_ptr<TCPConnector> connector_;
  bool owner_ = true;
  bool closed_ = false;
  std::string default_headers_;  // the session's headers, preformatted "Name: value\r\n"
};

}  // namespace aio::http
