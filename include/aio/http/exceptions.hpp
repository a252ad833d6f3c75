// aio/http/exceptions.hpp: every exception aio::http raises, mirroring aiohttp's
// http_exceptions (the parser's, with an HTTP status code) and client_exceptions.
//
// All of them derive from std::runtime_error through the two roots HttpProcessingError
// and ClientError, and what() is the text aiohttp's str() gives. Python's multiple
// bases cannot be mirrored without two std::exception subobjects (which would make
// `catch (const std::exception&)` miss them): ClientOSError is not an aio::OSError,
// ServerTimeoutError is not an aio::TimeoutError and InvalidURL is not an
// aio::ValueError (docs/asyncio-to-aio.md).
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace aio::http {

// ---------------------------------------------------------------------------------
// Parser and protocol errors (aiohttp.http_exceptions)

/// The root of the errors that map to an HTTP status (aiohttp's HttpProcessingError).
/// what() is aiohttp's str(): "400, message:\n  Bad status line 'x'".
class HttpProcessingError : public std::runtime_error {
 public:
  HttpProcessingError(int code, std::string message);
  /// The HTTP status a server answers with (400, 505, ...).
  int code() const noexcept { return code_; }
  /// The message alone, without the code.
  const std::string& message() const noexcept { return message_; }

 private:
  int code_;
  std::string message_;
};

/// A message that is not valid HTTP/1.1 (aiohttp's BadHttpMessage): 400.
class BadHttpMessage : public HttpProcessingError {
 public:
  explicit BadHttpMessage(std::string message) : HttpProcessingError(400, std::move(message)) {}

 protected:
  BadHttpMessage(int code, std::string message) : HttpProcessingError(code, std::move(message)) {}
};

/// A line or a header over its limit: "Got more than 8190 bytes (9000) when reading
/// request header."
class LineTooLong : public BadHttpMessage {
 public:
  LineTooLong(const std::string& line, std::size_t limit, std::size_t actual_size);
};

/// A malformed header field: "Invalid HTTP header: 'X Y'" (the header's text as
/// Python's repr shows it).
class InvalidHeader : public BadHttpMessage {
 public:
  explicit InvalidHeader(std::string_view header);
  /// The offending header text.
  const std::string& header() const noexcept { return header_; }

 private:
  std::string header_;
};

/// A malformed request line or status line: "Bad status line 'GET'", or the `error`
/// given instead.
class BadStatusLine : public BadHttpMessage {
 public:
  explicit BadStatusLine(std::string_view line, std::string error = {});
  /// The offending line.
  const std::string& line() const noexcept { return line_; }

 protected:
  BadStatusLine(int code, std::string_view line, std::string error);

 private:
  std::string line_;
};

/// A well-formed HTTP version other than 1.0 and 1.1 ("HTTP/2.0", "HTTP/0.9"): code 505,
/// "HTTP Version Not Supported". aiohttp raises a plain BadStatusLine; this one is a
/// BadStatusLine too, so code that catches that still catches it.
class HttpVersionNotSupported : public BadStatusLine {
 public:
  explicit HttpVersionNotSupported(std::string_view line);
};

/// A request target that is not origin-, absolute-, authority- (CONNECT) or
/// asterisk-form (OPTIONS).
class InvalidURLError : public BadHttpMessage {
 public:
  using BadHttpMessage::BadHttpMessage;
};

/// The body's framing or coding is broken (aiohttp's PayloadEncodingError).
class PayloadEncodingError : public BadHttpMessage {
 public:
  using BadHttpMessage::BadHttpMessage;
};

/// The body ended before its Content-Length: "Not enough data for satisfy content
/// length header."
class ContentLengthError : public PayloadEncodingError {
 public:
  using PayloadEncodingError::PayloadEncodingError;
};

/// Broken chunked framing: "Not enough data for satisfy transfer length header.", a bad
/// chunk size, a missing CRLF.
class TransferEncodingError : public PayloadEncodingError {
 public:
  using PayloadEncodingError::PayloadEncodingError;
};

/// A body that gzip/deflate cannot decode, or an unknown Content-Encoding.
class ContentEncodingError : public PayloadEncodingError {
 public:
  using PayloadEncodingError::PayloadEncodingError;
};

// ---------------------------------------------------------------------------------
// Client errors (aiohttp.client_exceptions)

/// The root of every error ClientSession raises (aiohttp's ClientError).
class ClientError : public std::runtime_error {
 public:
  explicit ClientError(const std::string& message) : std::runtime_error(message) {}
};

/// A connection could not be made or was lost.
class ClientConnectionError : public ClientError {
 public:
  using ClientError::ClientError;
};

/// An OS error on a client connection; `error_code()` is the errno's.
class ClientOSError : public ClientConnectionError {
 public:
  ClientOSError(std::error_code ec, const std::string& message)
      : ClientConnectionError(message), ec_(ec) {}
  explicit ClientOSError(std::error_code ec) : ClientOSError(ec, ec.message()) {}
  std::error_code error_code() const noexcept { return ec_; }
  /// Python's OSError.errno.
  int errno_() const noexcept { return ec_.value(); }

 private:
  std::error_code ec_;
};

/// Connecting to host:port failed: "Cannot connect to host example.com:443 ssl:default
/// [Connection refused]". `ssl` is "default" (verification on), "False", or the
/// context's description; `strerror` defaults to the error code's message.
class ClientConnectorError : public ClientOSError {
 public:
  ClientConnectorError(std::string host, int port, std::string ssl, std::error_code ec,
                       std::string strerror = {});
  const std::string& host() const noexcept { return host_; }
  int port() const noexcept { return port_; }
  const std::string& ssl() const noexcept { return ssl_; }

 protected:
  struct Whole {};  // the message is given whole
  ClientConnectorError(Whole, std::string host, int port, std::string ssl, std::error_code ec,
                       const std::string& message);

 private:
  std::string host_;
  int port_;
  std::string ssl_;
};

/// The TLS handshake failed while connecting.
class ClientSSLError : public ClientConnectorError {
 public:
  using ClientConnectorError::ClientConnectorError;
};

/// The server's certificate did not verify: "Cannot connect to host h:443 ssl:True
/// [SSLCertVerificationError: (1, '[SSL: CERTIFICATE_VERIFY_FAILED] ...')]".
class ClientConnectorCertificateError : public ClientSSLError {
 public:
  /// `certificate_error` is the SSLCertVerificationError's message.
  ClientConnectorCertificateError(std::string host, int port, std::string ssl,
                                  const std::string& certificate_error);
  const std::string& certificate_error() const noexcept { return certificate_error_; }

 private:
  std::string certificate_error_;
};

/// The server misbehaved at the connection level.
class ServerConnectionError : public ClientConnectionError {
 public:
  using ClientConnectionError::ClientConnectionError;
};

/// The server closed the connection before a whole response: "Server disconnected".
class ServerDisconnectedError : public ServerConnectionError {
 public:
  ServerDisconnectedError() : ServerConnectionError("Server disconnected") {}
  explicit ServerDisconnectedError(const std::string& message) : ServerConnectionError(message) {}
};

/// A ClientTimeout phase expired (aiohttp: "Timeout on reading data from socket").
class ServerTimeoutError : public ServerConnectionError {
 public:
  using ServerConnectionError::ServerConnectionError;
};

/// ClientTimeout.connect expired: "Connection timeout to host http://h:p/".
class ConnectionTimeoutError : public ServerTimeoutError {
 public:
  using ServerTimeoutError::ServerTimeoutError;
};

/// ClientTimeout.sock_read expired: "Timeout on reading data from socket".
class SocketTimeoutError : public ServerTimeoutError {
 public:
  using ServerTimeoutError::ServerTimeoutError;
};

/// The response body was broken (framing, length, encoding): aiohttp's
/// "Response payload is not completed".
class ClientPayloadError : public ClientError {
 public:
  using ClientError::ClientError;
};

/// An error status (raise_for_status) or a response that cannot be used: what() is
/// "404, message='Not Found', url='http://example.com/x'".
class ClientResponseError : public ClientError {
 public:
  using HeaderList = std::vector<std::pair<std::string, std::string>>;
  ClientResponseError(int status, std::string message, std::string url, HeaderList headers = {});
  int status() const noexcept { return status_; }
  const std::string& message() const noexcept { return message_; }
  const std::string& url() const noexcept { return url_; }
  const HeaderList& headers() const noexcept { return headers_; }

 private:
  int status_;
  std::string message_;
  std::string url_;
  HeaderList headers_;
};

/// json() on a response whose Content-Type is not JSON.
class ContentTypeError : public ClientResponseError {
 public:
  using ClientResponseError::ClientResponseError;
};

/// ws_connect's handshake failed (aiohttp's WSServerHandshakeError): the status and
/// what was wrong ("Invalid response status", "Invalid challenge response", ...).
class WSServerHandshakeError : public ClientResponseError {
 public:
  using ClientResponseError::ClientResponseError;
};

/// More redirects than max_redirects (10): status is the last response's.
class TooManyRedirects : public ClientResponseError {
 public:
  using ClientResponseError::ClientResponseError;
};

/// A URL the client cannot use (aiohttp's InvalidURL, also a ValueError there): what()
/// is the URL, or "URL - description".
class InvalidURL : public ClientError {
 public:
  explicit InvalidURL(std::string url, std::string description = {});
  const std::string& url() const noexcept { return url_; }
  const std::string& description() const noexcept { return description_; }

 private:
  std::string url_;
  std::string description_;
};

/// Python's repr() of a string, as aiohttp's messages show it: 'abc', "it's",
/// '\x00\r\n'. Bytes that are not UTF-8 appear as \xNN.
std::string py_repr(std::string_view s);

}  // namespace aio::http
