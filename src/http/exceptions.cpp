// The messages of aio/http/exceptions.hpp, worded as aiohttp's str() words them.
#include "aio/http/exceptions.hpp"

namespace aio::http {

namespace {

// aiohttp's HttpProcessingError.__str__: f"{code}, message:\n{indent(message, '  ')}".
std::string processing_what(int code, const std::string& message) {
  std::string out = std::to_string(code) + ", message:\n";
  bool at_line_start = true;
  for (char c : message) {
    if (at_line_start && c != '\n') out += "  ";
    out += c;
    at_line_start = c == '\n';
  }
  return out;
}

// The length of the UTF-8 sequence starting at s[i], or 0 when it is not valid there.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  std::size_t n = 0;
  if (b >= 0xC2 && b <= 0xDF) {
    n = 2;
  } else if (b >= 0xE0 && b <= 0xEF) {
    n = 3;
  } else if (b >= 0xF0 && b <= 0xF4) {
    n = 4;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  return n;
}

}  // namespace

std::string py_repr(std::string_view s) {
  // Python picks double quotes only when the text has a single quote and no double one.
  const bool dq = s.find('\'') != std::string_view::npos && s.find('"') == std::string_view::npos;
  const char quote = dq ? '"' : '\'';
  static constexpr char hex[] = "0123456789abcdef";
  std::string out(1, quote);
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b >= 0x80) {
      if (std::size_t n = utf8_length(s, i); n != 0) {
        out.append(s.substr(i, n));
        i += n;
        continue;
      }
    }
    if (b == '\\' || b == static_cast<unsigned char>(quote)) {
      out += '\\';
      out += static_cast<char>(b);
    } else if (b == '\n') {
      out += "\\n";
    } else if (b == '\r') {
      out += "\\r";
    } else if (b == '\t') {
      out += "\\t";
    } else if (b < 0x20 || b >= 0x7F) {
      out += "\\x";
      out += hex[b >> 4];
      out += hex[b & 0xF];
    } else {
      out += static_cast<char>(b);
    }
    ++i;
  }
  out += quote;
  return out;
}

HttpProcessingError::HttpProcessingError(int code, std::string message)
    : std::runtime_error(processing_what(code, message)), code_(code), message_(std::move(message)) {}

LineTooLong::LineTooLong(const std::string& line, std::size_t limit, std::size_t actual_size)
    : BadHttpMessage("Got more than " + std::to_string(limit) + " bytes (" +
                     std::to_string(actual_size) + ") when reading " + line + ".") {}

InvalidHeader::InvalidHeader(std::string_view header)
    : BadHttpMessage("Invalid HTTP header: " + py_repr(header)), header_(header) {}

BadStatusLine::BadStatusLine(std::string_view line, std::string error)
    : BadStatusLine(400, line, std::move(error)) {}

BadStatusLine::BadStatusLine(int code, std::string_view line, std::string error)
    : BadHttpMessage(code, error.empty() ? "Bad status line " + py_repr(line) : std::move(error)),
      line_(line) {}

HttpVersionNotSupported::HttpVersionNotSupported(std::string_view line)
    : BadStatusLine(505, line, "HTTP Version Not Supported: " + py_repr(line)) {}

ClientConnectorError::ClientConnectorError(std::string host, int port, std::string ssl,
                                           std::error_code ec, std::string strerror)
    : ClientConnectorError(Whole{}, host, port, ssl, ec,
                           "Cannot connect to host " + host + ":" + std::to_string(port) +
                               " ssl:" + ssl + " [" +
                               (strerror.empty() ? ec.message() : strerror) + "]") {}

ClientConnectorError::ClientConnectorError(Whole, std::string host, int port, std::string ssl,
                                           std::error_code ec, const std::string& message)
    : ClientOSError(ec, message), host_(std::move(host)), port_(port), ssl_(std::move(ssl)) {}

ClientConnectorCertificateError::ClientConnectorCertificateError(
    std::string host, int port, std::string ssl, const std::string& certificate_error)
    : ClientSSLError(Whole{}, host, port, ssl, std::error_code{},
                     "Cannot connect to host " + host + ":" + std::to_string(port) + " ssl:" +
                         ssl + " [SSLCertVerificationError: " + certificate_error + "]"),
      certificate_error_(certificate_error) {}

ClientResponseError::ClientResponseError(int status, std::string message, std::string url,
                                         HeaderList headers)
    : ClientError(std::to_string(status) + ", message=" + py_repr(message) + ", url=" +
                  py_repr(url)),
      status_(status),
      message_(std::move(message)),
      url_(std::move(url)),
      headers_(std::move(headers)) {}

InvalidURL::InvalidURL(std::string url, std::string description)
    : ClientError(description.empty() ? url : url + " - " + description),
      url_(std::move(url)),
      description_(std::move(description)) {}

}  // namespace aio::http
