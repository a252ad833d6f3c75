// aio/http/parser.hpp: the HTTP/1.1 message parser (RFC 9112), for the server and the
// client. It plays the part of aiohttp's HttpRequestParser/HttpResponseParser, but as
// two plain functions over a buffer plus a body decoder, so the read loop owns the I/O.
//
// Zero-copy: a parsed head is a set of views into the caller's buffer (usually
// StreamReader::buffered()); nothing is copied, and the `headers` vector's capacity is
// reused from one message to the next, so parsing a head allocates nothing once warm.
// Nothing ever reads outside the buffer given.
//
// Strict where looseness is an attack (request smuggling, response splitting); each
// rejection throws a BadHttpMessage subclass (aio/http/exceptions.hpp), after which the
// connection must be closed. Rejected: Content-Length with Transfer-Encoding; two
// different Content-Lengths; a Content-Length that is not 1*DIGIT or overflows; a
// Transfer-Encoding whose final coding is not `chunked`, or with `chunked` before the
// end (on a request, anything but `chunked` alone); Transfer-Encoding in HTTP/1.0;
// control characters or DEL in a name or value; whitespace before the colon; obsolete
// line folding; an empty name; a method that is not a token; a request target that is
// not origin-form, absolute-form (scheme "://"), authority-form (CONNECT only) or `*`
// (OPTIONS only); a version other than HTTP/1.0 and HTTP/1.1 (HttpVersionNotSupported,
// 505, when it is well formed); a bare CR; a bare LF as line end (RFC 9112 lets a
// server accept it, aiohttp's strict llhttp does not: neither do we); an HTTP/1.1
// request with no Host or with two; lines and fields over ParserLimits.
//
// Identical repeated Content-Lengths ("42, 42", or two lines of 42) are accepted as one,
// as RFC 9110 section 8.6 and RFC 9112 section 6.3 allow; aiohttp rejects them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aio/http/exceptions.hpp"

namespace aio::http {

/// One header field: views into the caller's buffer, the value without its leading and
/// trailing whitespace. They live as long as the buffer's bytes stay where they are.
struct HeaderField {
  std::string_view name, value;
};

/// Limits, as aiohttp's parser arguments of the same names. A request or status line
/// over max_line_size throws LineTooLong; a header field line (name, colon and value)
/// over max_field_size throws LineTooLong; more than max_headers fields throws
/// BadHttpMessage("Too many headers"). Trailers obey the same field limits.
struct ParserLimits {
  std::size_t max_line_size = 8190, max_field_size = 8190, max_headers = 100;
};

/// How the body after a head is framed.
enum class BodyKind {
  none,         ///< no body (or a zero Content-Length)
  length,       ///< content_length bytes
  chunked,      ///< chunked transfer coding, then trailers
  until_close,  ///< a response that ends when the server closes (no length given)
};

namespace detail {
/// Where an incomplete head's scan stopped (the parser's own state, see MessageHead).
struct HeadScan {
  std::size_t offset = 0;  // bytes known to be whole, valid lines of this head
  std::size_t lines = 0;   // how many lines those are (start line included)
  std::size_t size = 0;    // the buffer's size when it was saved
};
}  // namespace detail

/// A parsed request or response head. Reuse one per connection: parsing clears it and
/// keeps the headers vector's capacity.
struct MessageHead {
  std::string_view method, target;          ///< requests ("GET", "/index.html?q=1")
  int status = 0;                           ///< responses (200)
  std::string_view reason;                  ///< responses ("OK"; may be empty)
  int version_major = 1, version_minor = 1;  ///< 1.0 or 1.1
  std::vector<HeaderField> headers;         ///< in order received; capacity reused
  BodyKind body = BodyKind::none;
  std::uint64_t content_length = 0;         ///< Content-Length's value when given
  /// HTTP/1.1 without `Connection: close`, or HTTP/1.0 with `Connection: keep-alive`;
  /// false for a response read until close.
  bool keep_alive = true;
  /// An HTTP/1.1 request with `Expect: 100-continue` (ignored for HTTP/1.0, as RFC 9110
  /// says).
  bool expect_continue = false;
  /// The connection leaves HTTP after this head: a request with `Connection: upgrade`
  /// and an Upgrade header, or CONNECT; a 101 response, or a 2xx response to CONNECT.
  bool upgrade = false;

  /// The first field with this name (ASCII case-insensitive), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const;

  /// Forgets everything, including a partial scan (see parse_request_head); keeps the
  /// headers vector's capacity.
  void clear() noexcept;

  /// The parser's own record of an incomplete head, so that feeding a head a few bytes
  /// at a time scans each byte a bounded number of times. Not for callers.
  detail::HeadScan scan_;
};

/// Parse a request head from the start of `buf`.
///
/// Returns the size of the head (through the blank line) when it is complete, 0 when
/// more bytes are needed, and throws a BadHttpMessage subclass when the bytes can never
/// be a valid head (including a line or header already over its limit before it is
/// complete). The views in `out` point into `buf`. Up to one empty line before the
/// request line is skipped, as RFC 9112 section 2.2 allows.
///
/// When it returns 0, `out` remembers how far the bytes were checked, and the next call
/// with the same bytes and more after them goes on from there: the caller passes a
/// buffer that still starts at this head (StreamReader::buffered() before consume()). To
/// parse a buffer that starts elsewhere after a 0, call out.clear() first.
std::size_t parse_request_head(std::string_view buf, MessageHead& out, const ParserLimits& = {});

/// Parse a response head from the start of `buf`, as parse_request_head. `request_method`
/// is the method of the request it answers: a response to HEAD has no body, nor has a
/// 1xx, 204 or 304, nor a 2xx to CONNECT. Without Content-Length or Transfer-Encoding
/// (or with a final coding other than chunked) the body runs until the server closes.
std::size_t parse_response_head(std::string_view buf, MessageHead& out,
                                std::string_view request_method, const ParserLimits& = {});

/// Decodes the body framing after a head: Content-Length, chunked (chunk extensions
/// skipped, bounded by max_line_size; trailers parsed with the header rules and
/// limits), until close (responses only) or none. It never copies body bytes: each step
/// gives a view into the bytes it was fed. Trailers are copied (they outlive the buffer).
class BodyDecoder {
 public:
  /// Decodes the body `head` announces. Only the framing is taken from `head`: the head
  /// and its buffer may go away afterwards.
  explicit BodyDecoder(const MessageHead& head, const ParserLimits& = {});

  struct Step {
    std::size_t consumed = 0;  ///< bytes of `in` used (framing and data)
    std::string_view data;     ///< body bytes, a view into `in` (may be empty)
    bool done = false;         ///< the body (and its trailers) is complete
  };

  /// Decodes from the start of `in` (the bytes earlier steps did not consume); `data`
  /// is a view into `in`. consumed == 0 && !done: more bytes are needed. A step gives at
  /// most one piece of data; call again with the rest. Every body byte before an error is
  /// given before the error is thrown (by the next call, when the step had data). Never consumes past the body's
  /// end, so pipelined bytes after it stay for the next head. Throws
  /// TransferEncodingError / ContentLengthError on bad framing, and LineTooLong,
  /// InvalidHeader or BadHttpMessage for bad trailers.
  Step feed(std::string_view in);

  /// The peer closed: done for until_close; throws ContentLengthError / TransferEncodingError
  /// ("Not enough data for satisfy ...") otherwise if not done.
  void feed_eof();

  bool done() const noexcept { return state_ == State::done; }

  /// The chunked body's trailer fields, in order, once done.
  const std::vector<std::pair<std::string, std::string>>& trailers() const noexcept {
    return trailers_;
  }

 private:
  // The decoder's position. length: in `length` until remaining_ == 0. until_close: in
  // `until_close` until feed_eof. chunked: size (hex digits) -> size_ws (blanks after
  // them) -> ext (an extension, skipped) -> size_lf (after the CR) -> data (remaining_
  // bytes) -> data_cr -> data_lf -> size ...; a zero size goes size_lf -> trailer
  // (lines accumulate in line_) -> done at the empty line. failed: an error was found
  // after a step had taken data; that step returned the data, and every later call
  // throws error_ (so the data before an error never depends on how input was split).
  enum class State {
    length, until_close, size, size_ws, ext, size_lf, data, data_cr, data_lf, trailer, done, failed
  };
  Step decode(std::string_view in, std::size_t& pos, std::string_view& data);

  State state_;
  std::uint64_t remaining_ = 0;  // length: body bytes left; data: chunk bytes left
  std::size_t line_len_ = 0;     // bytes of the current chunk-size line so far
  unsigned digits_ = 0;          // hex digits of the current size
  ParserLimits limits_;
  std::string line_;             // the trailer line being collected
  std::vector<std::pair<std::string, std::string>> trailers_;
  std::exception_ptr error_;
};

}  // namespace aio::http
