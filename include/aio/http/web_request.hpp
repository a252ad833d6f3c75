// aio/http/web_request.hpp: the request a handler gets (aiohttp.web_request.Request).
//
//   aio::Coro<web::StreamResponse> hello(web::Request& request) {
//     std::string name = request.match_info()["name"];
//     nlohmann::json body = co_await request.json();
//     co_return web::json_response({{"hello", name}});
//   }
//
// The request lives while its handler runs: the server reuses it for the connection's
// next request, so a task the handler starts must copy what it needs. Its views
// (method(), raw_path(), ...) point into the connection's read buffer until the body is
// read and into the request's own copy afterwards; headers(), query(), cookies() are
// made on first use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "aio/coro.hpp"
#include "aio/http/headers.hpp"
#include "aio/http/multipart.hpp"
#include "aio/socket.hpp"

namespace aio::http {

class Application;
class ConfigDict;
namespace detail {
class WebConnection;
}

/// request.content (aiohttp's StreamReader over the body): the body as it arrives,
/// de-chunked. Reads return "" at the end. Reading it sends "100 Continue" first when
/// the client asked for it. Not bounded by client_max_size (read() is).
class BodyReader {
 public:
  /// Up to n bytes (n < 0: the whole rest).
  Coro<std::string> read(long n = -1);
  /// What is there now, or the next piece when nothing is (readany).
  Coro<std::string> readany();
  /// One line with its "\n" (the rest at the end).
  Coro<std::string> readline();
  /// Exactly n bytes; IncompleteReadError at an early end.
  Coro<std::string> readexactly(std::size_t n);
  /// The next chunk of up to n bytes, for `async for chunk in content.iter_chunked(n)`:
  /// while (!(chunk = co_await request.content.iter_chunked(n)).empty()) ...
  Coro<std::string> iter_chunked(std::size_t n) { return read(static_cast<long>(n)); }
  /// The whole body was read.
  bool at_eof() const noexcept;

 private:
  friend class detail::WebConnection;
  friend class Request;
  Coro<bool> more();  // appends the next decoded piece to pending_; false at the end
  detail::WebConnection* conn_ = nullptr;
  std::string pending_;
};

/// An entity tag of If-Match / If-None-Match (aiohttp's ETag): the opaque value
/// without its quotes ("*" alone for any), and whether it is weak (`W/`).
struct ETag {
  std::string value;
  bool is_weak = false;
  bool operator==(const ETag&) const = default;
};

/// The byte range of a Range header as aiohttp's http_range slice: [start, stop); a
/// negative start with no stop is the last -start bytes ("bytes=-N"); no stop, the
/// rest ("bytes=A-"); neither, no Range header.
struct HttpRange {
  std::optional<std::int64_t> start;
  std::optional<std::int64_t> stop;
  bool operator==(const HttpRange&) const = default;
};

class Request {
 public:
  Request() = default;
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;

  std::string_view method() const noexcept;
  /// The request target as sent ("/path?q=1"; aiohttp's raw_path).
  std::string_view raw_path() const noexcept;
  /// The path, percent-decoded.
  std::string path() const;
  /// The query as sent, after the '?' (aiohttp's query_string is the decoded one).
  std::string_view query_string() const noexcept;
  /// The query parsed (parse_qsl, blank values kept), made on first use.
  const MultiDict& query() const;
  /// path_qs: the path and the query as sent.
  std::string_view path_qs() const noexcept { return raw_path(); }
  /// The headers, copied on first use (header() reads one without a copy).
  const CIMultiDict& headers() const;
  /// The first header of this name, or nullopt; a view, no copy.
  std::optional<std::string_view> header(std::string_view name) const noexcept;
  /// The path parameters the route matched ({name} -> value, decoded).
  const MultiDict& match_info() const noexcept { return match_info_; }
  MultiDict& match_info() noexcept { return match_info_; }
  /// The peer's address ("127.0.0.1"; "" for a Unix socket).
  std::string remote() const;
  const SockAddr& peername() const noexcept;
  /// The Host header, else the address the connection came in on.
  std::string host() const;
  std::string scheme() const;
  bool secure() const noexcept;
  /// (major, minor): (1, 1) or (1, 0).
  std::pair<int, int> version() const noexcept;
  bool keep_alive() const noexcept;
  /// Content-Type without parameters ("application/octet-stream" when missing).
  std::string content_type() const;
  /// Content-Type's charset parameter, or "".
  std::string charset() const;
  std::optional<std::uint64_t> content_length() const noexcept;
  /// The Cookie header as name/value pairs.
  const MultiDict& cookies() const;
  /// If-Modified-Since, If-Unmodified-Since and If-Range as POSIX times in seconds;
  /// nullopt when missing or not a date (aiohttp gives datetimes, or None).
  std::optional<double> if_modified_since() const;
  std::optional<double> if_unmodified_since() const;
  std::optional<double> if_range() const;
  /// If-Match and If-None-Match's entity tags ({"*"} for any); nullopt when missing.
  /// A malformed tag ends the list, as aiohttp.
  std::optional<std::vector<ETag>> if_match() const;
  std::optional<std::vector<ETag>> if_none_match() const;
  /// The Range header's single byte range (aiohttp's http_range): {} without one;
  /// ValueError when it is not `bytes=A-B`, `bytes=A-` or `bytes=-N`, or A is past B.
  HttpRange http_range() const;
  /// The request has a body (Content-Length > 0 or chunked) / it can still be read.
  bool body_exists() const noexcept;
  bool can_read_body() const noexcept;
  /// The time the head was parsed (loop time), for access logs.
  double start_time() const noexcept { return start_time_; }

  /// The whole body (cached: a second call returns it again). HTTPRequestEntityTooLarge
  /// (413) over client_max_size.
  Coro<std::string> read();
  /// The body as text (decoded as UTF-8: the bytes as they are).
  Coro<std::string> text();
  /// The body parsed as JSON; HTTPBadRequest when it is not JSON.
  Coro<nlohmann::json> json();
  /// The form the body holds: application/x-www-form-urlencoded, or
  /// multipart/form-data, whose files come in files() (their bytes are the field's
  /// value); empty for another content type. Cached: a second call gives it again.
  /// HTTPRequestEntityTooLarge (413) when the fields' bytes pass client_max_size;
  /// HTTPBadRequest (400) for a malformed multipart body, a part without a name or a
  /// nested multipart part (read those with multipart()).
  Coro<PostData> post();
  /// The multipart body as a stream of parts (aiohttp's multipart()), for uploads of
  /// any size: not bounded by client_max_size. After read(), the parts of the body it
  /// kept. HTTPBadRequest (400) when the body is not multipart or is malformed.
  Coro<MultipartReader> multipart();

  /// The body as a stream.
  BodyReader content;

  /// The application whose route took the request: a sub-application inside its
  /// prefix (in its middlewares and handlers; the parent's middlewares see the parent),
  /// as aiohttp's request.app.
  Application& app() const noexcept { return *app_; }
  /// The state of app() and of the applications above it, looked up in that order
  /// (aiohttp's request.config_dict): request.config_dict()[db_key] finds the root
  /// application's database from a sub-application's handler.
  ConfigDict config_dict() const;

 private:
  friend class detail::WebConnection;
  friend class StreamResponse;
  friend class Application;
  void reset() noexcept;
  // The reader multipart() gives; `taken` (when given) counts the bytes it reads.
  MultipartReader multipart_reader(std::uint64_t* taken);

  detail::WebConnection* conn_ = nullptr;
  Application* app_ = nullptr;
  Application* served_ = nullptr;    // the application served: config_dict() ends there
  std::size_t client_max_size_ = 0;  // the served application's, whichever app() is
  MultiDict match_info_;
  mutable std::optional<MultiDict> query_;
  mutable std::optional<CIMultiDict> headers_;
  mutable std::optional<MultiDict> cookies_;
  std::optional<std::string> body_;
  std::optional<PostData> post_;
  double start_time_ = 0;
  // No route matched: the methods of the resources whose path matched (405), or
  // nullopt (404).
  std::optional<std::vector<std::string>> allowed_methods_;
};

}  // namespace aio::http
