// aio/http/web_response.hpp: what a handler answers (aiohttp.web_response):
// StreamResponse, Response, FileResponse and json_response.
//
//   co_return web::Response({.text = "Hello, World!"});
//
//   web::StreamResponse resp;
//   co_await resp.prepare(request);          // the head goes out (chunked: no length)
//   co_await resp.write("part 1");
//   co_await resp.write_eof();
//   co_return resp;
//
// A handler returns Coro<StreamResponse>. Response, FileResponse and the HTTPException
// family derive from StreamResponse and add no data member, so returning one by value
// (co_return Response(...)) keeps everything: the server reads the fields it needs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "aio/coro.hpp"
#include "aio/http/headers.hpp"

namespace aio::http {

class Request;
class WebSocketResponse;
class ZLibCompressor;
namespace detail {
class WebConnection;
}

/// The standard reason phrase of a status ("Not Found"); "" for an unknown one.
std::string_view reason_phrase(int status) noexcept;

/// How a response's body is compressed (aiohttp's ContentCoding).
enum class ContentCoding : std::uint8_t { identity, deflate, gzip };

/// Options of set_cookie (the Morsel attributes aiohttp takes as keyword arguments).
struct CookieOptions {
  std::string_view expires{}, domain{};
  std::optional<long> max_age{};
  std::string_view path = "/";
  bool secure = false, httponly = false;
  std::string_view samesite{};
};

/// aiohttp's StreamResponse: a status, a reason and headers, then a body written in
/// pieces after prepare(). Without a Content-Length the body is sent chunked (HTTP/1.1)
/// or until the connection closes (HTTP/1.0).
class StreamResponse {
 public:
  explicit StreamResponse(int status = 200, std::string_view reason = {});
  StreamResponse(const StreamResponse&);
  StreamResponse(StreamResponse&&) noexcept;
  StreamResponse& operator=(const StreamResponse&);
  StreamResponse& operator=(StreamResponse&&) noexcept;
  virtual ~StreamResponse();

  int status() const noexcept { return status_; }
  /// The reason phrase: the one given, else the standard one.
  std::string_view reason() const noexcept;
  /// set_status(status, reason): before prepare() only (RuntimeError after).
  void set_status(int status, std::string_view reason = {});

  /// The header fields the program set. Content-Type and Content-Length are kept apart
  /// (content_type(), content_length()) and written from there unless set here.
  Headers& headers() noexcept { return headers_; }
  const Headers& headers() const noexcept { return headers_; }

  const std::string& content_type() const noexcept { return content_type_; }
  void set_content_type(std::string_view ct) { content_type_ = ct; }
  const std::string& charset() const noexcept { return charset_; }
  void set_charset(std::string_view cs) { charset_ = cs; }
  std::optional<std::uint64_t> content_length() const noexcept {
    return has_length_ ? std::optional<std::uint64_t>(content_length_) : std::nullopt;
  }
  /// A length for a streamed body (the writes must add up to it).
  void set_content_length(std::optional<std::uint64_t> n) {
    has_length_ = n.has_value();
    content_length_ = n.value_or(0);
  }
  /// Sends the body chunked even with a length (aiohttp's enable_chunked_encoding).
  void enable_chunked_encoding() noexcept { chunked_ = true; }
  bool chunked() const noexcept { return chunked_; }
  /// Compresses the body with the coding the request accepts (gzip first, then
  /// deflate), or with `force` whatever the request says. Done when the head is sent.
  void enable_compression(std::optional<ContentCoding> force = std::nullopt);
  bool compression() const noexcept { return compression_; }
  /// Keep-alive for this response; false closes the connection after it
  /// (aiohttp's force_close).
  void force_close() noexcept { force_close_ = true; }

  /// Adds a Set-Cookie header (aiohttp's set_cookie); del_cookie sets it expired.
  void set_cookie(std::string_view name, std::string_view value, const CookieOptions& options = {});
  void del_cookie(std::string_view name, std::string_view domain = {}, std::string_view path = "/");

  /// Sends the head (once; later calls return at once). The response is then bound to
  /// the request's connection until write_eof(). RuntimeError for a request that is
  /// not being handled any more.
  Coro<void> prepare(Request& request);
  bool prepared() const noexcept { return conn_ != nullptr; }
  /// Sends a piece of the body (compressed and chunk-framed as needed), waiting while
  /// the connection's write buffer is above its high-water mark. RuntimeError before
  /// prepare() or after write_eof(); ConnectionResetError when the client went.
  Coro<void> write(std::string_view data);
  /// Ends the body (the last chunk, the compressor's tail) and drains.
  Coro<void> write_eof();
  bool eof_sent() const noexcept { return eof_sent_; }

  /// The body of a Response (empty for a streamed one; a FileResponse's path).
  const std::string& body() const noexcept { return body_; }
  bool has_body() const noexcept { return has_body_; }

 protected:
  void set_body_(std::string body) {
    body_ = std::move(body);
    has_body_ = true;
  }

 private:
  friend class detail::WebConnection;
  friend class WebSocketResponse;

  // The fields are packed so that a handler's coroutine frame holding a Response (and
  // its ResponseInit) stays within the frame pool's 512-byte blocks.
  int status_;
  std::uint32_t file_chunk_size_ = 256 * 1024;  // FileResponse
  std::string reason_;
  Headers headers_;
  std::string content_type_, charset_;
  std::uint64_t content_length_ = 0;
  std::string body_;  // the body; a FileResponse's path
  bool has_body_ = false;
  bool has_length_ = false;
  bool is_file_ = false;
  bool chunked_ = false;
  bool compression_ = false;
  bool has_forced_coding_ = false;
  ContentCoding forced_coding_ = ContentCoding::identity;
  bool force_close_ = false;

  // After prepare(): the connection, whether the body is chunk-framed, the coding.
  bool eof_sent_ = false;
  bool chunking_ = false;
  bool head_only_ = false;  // HEAD, 204, 304: no body goes out
  detail::WebConnection* conn_ = nullptr;
  std::uint64_t body_sent_ = 0;
  std::shared_ptr<ZLibCompressor> compressor_;

  friend class FileResponse;
};

/// The arguments of aiohttp's Response(body=, status=, reason=, text=, headers=,
/// content_type=, charset=). `text` gives "text/plain; charset=utf-8" by default,
/// `body` "application/octet-stream".
struct ResponseInit {
  std::optional<std::string> body{};
  int status = 200;
  std::string reason{};
  std::optional<std::string> text{};
  Headers headers{};
  std::string content_type{};
  std::string charset{};
};

/// aiohttp's Response: a StreamResponse whose whole body is known, sent with its
/// Content-Length in one write with the head.
class Response : public StreamResponse {
 public:
  explicit Response(ResponseInit init = {});
  /// The body (bytes), replacing any earlier one.
  void set_body(std::string body) { set_body_(std::move(body)); }
  /// The body as text (sets the charset to utf-8 when none).
  void set_text(std::string text);
  const std::string& text() const noexcept { return body(); }
};

/// aiohttp's json_response: `data.dump()` as application/json.
Response json_response(const nlohmann::json& data, int status = 200, std::string_view reason = {},
                       Headers headers = {}, std::string_view content_type = "application/json");

/// aiohttp's FileResponse: the file at `path`, sent with sendfile(2) (read and written
/// over TLS); Content-Type from its extension, Last-Modified, ETag (the modification
/// time in nanoseconds and the size, in hex, as aiohttp) and Accept-Ranges: bytes.
/// Conditional requests as RFC 9110 and aiohttp: If-None-Match, else If-Modified-Since,
/// answers 304 Not Modified; If-Match, else If-Unmodified-Since, 412 Precondition
/// Failed. A GET with one byte range (`bytes=A-B`, `bytes=A-`, `bytes=-N`), if If-Range
/// still holds, answers 206 Partial Content with Content-Range; an unsatisfiable or
/// malformed one 416 with `Content-Range: bytes */SIZE`; several ranges, or another
/// unit, get the whole file. When Accept-Encoding takes it, a pre-compressed sibling
/// (`path + ".br"`, then `path + ".gz"`; a regular file, not a symlink) is sent
/// instead, with Content-Encoding and `Vary: Accept-Encoding`. A missing file answers
/// 404, a directory or an unreadable file 403.
class FileResponse : public StreamResponse {
 public:
  explicit FileResponse(std::string path, std::size_t chunk_size = 256 * 1024, int status = 200,
                        Headers headers = {});
  const std::string& path() const noexcept { return body(); }
};

/// The Content-Type of a file name from its extension ("application/octet-stream" for
/// an unknown one), as mimetypes.guess_type.
std::string_view guess_content_type(std::string_view filename) noexcept;

}  // namespace aio::http
