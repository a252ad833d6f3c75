// Responses and the HTTPException family (aio/http/web_response.hpp,
// aio/http/web_exceptions.hpp). Sending them is the connection's (web_protocol.cpp).
#include <algorithm>
#include <string>

#include "aio/errors.hpp"
#include "aio/http/compression.hpp"
#include "aio/http/web_exceptions.hpp"
#include "aio/http/web_response.hpp"

namespace aio::http {

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 305: return "Use Proxy";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Request Entity Too Large";
    case 414: return "Request-URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Requested Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 418: return "I'm a Teapot";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 451: return "Unavailable For Legal Reasons";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "";
  }
}

StreamResponse::StreamResponse(int status, std::string_view reason) : status_(status), reason_(reason) {}
StreamResponse::StreamResponse(const StreamResponse&) = default;
StreamResponse::StreamResponse(StreamResponse&&) noexcept = default;
StreamResponse& StreamResponse::operator=(const StreamResponse&) = default;
StreamResponse& StreamResponse::operator=(StreamResponse&&) noexcept = default;
StreamResponse::~StreamResponse() = default;

std::string_view StreamResponse::reason() const noexcept {
  if (!reason_.empty()) return reason_;
  return reason_phrase(status_);
}

void StreamResponse::set_status(int status, std::string_view reason) {
  if (prepared()) throw RuntimeError("Cannot change the response status code after the headers have been sent");
  status_ = status;
  reason_ = reason;
}

void StreamResponse::enable_compression(std::optional<ContentCoding> force) {
  compression_ = true;
  has_forced_coding_ = force.has_value();
  forced_coding_ = force.value_or(ContentCoding::identity);
}

void StreamResponse::set_cookie(std::string_view name, std::string_view value, const CookieOptions& o) {
  std::string c;
  c.append(name).append("=");
  const bool quote = value.empty() || value.find_first_of(" \",;\\") != std::string_view::npos;  // as SimpleCookie
  if (quote) c += '"';
  c.append(value);
  if (quote) c += '"';
  if (!o.domain.empty()) c.append("; Domain=").append(o.domain);
  if (!o.expires.empty()) c.append("; expires=").append(o.expires);
  if (o.httponly) c.append("; HttpOnly");
  if (o.max_age) c.append("; Max-Age=").append(std::to_string(*o.max_age));
  if (!o.path.empty()) c.append("; Path=").append(o.path);
  if (!o.samesite.empty()) c.append("; SameSite=").append(o.samesite);
  if (o.secure) c.append("; Secure");
  headers_.add("Set-Cookie", std::move(c));
}

void StreamResponse::del_cookie(std::string_view name, std::string_view domain, std::string_view path) {
  set_cookie(name, "", {.expires = "Thu, 01 Jan 1970 00:00:00 GMT", .domain = domain, .max_age = 0, .path = path});
}

Response::Response(ResponseInit init) : StreamResponse(init.status, init.reason) {
  headers() = std::move(init.headers);
  if (init.body && init.text) throw ValueError("body and text are not allowed together");
  if (init.text) {
    set_content_type(init.content_type.empty() ? "text/plain" : init.content_type);
    set_charset(init.charset.empty() ? "utf-8" : init.charset);
    set_body_(std::move(*init.text));
  } else if (init.body) {
    set_content_type(init.content_type.empty() ? "application/octet-stream" : init.content_type);
    set_charset(init.charset);
    set_body_(std::move(*init.body));
  } else {
    if (!init.content_type.empty()) set_content_type(init.content_type);
    set_charset(init.charset);
    set_body_({});
  }
}

void Response::set_text(std::string text) {
  if (content_type().empty()) set_content_type("text/plain");
  if (charset().empty()) set_charset("utf-8");
  set_body_(std::move(text));
}

Response json_response(const nlohmann::json& data, int status, std::string_view reason, Headers headers,
                       std::string_view content_type) {
  return Response({.body = data.dump(),
                   .status = status,
                   .reason = std::string(reason),
                   .headers = std::move(headers),
                   .content_type = std::string(content_type)});
}

FileResponse::FileResponse(std::string path, std::size_t chunk_size, int status, Headers headers)
    : StreamResponse(status) {
  body_ = std::move(path);
  is_file_ = true;
  file_chunk_size_ = static_cast<std::uint32_t>(std::min<std::size_t>(chunk_size, 1u << 30));
  this->headers() = std::move(headers);
}

std::string_view guess_content_type(std::string_view filename) noexcept {
  const auto slash = filename.rfind('/');
  if (slash != std::string_view::npos) filename.remove_prefix(slash + 1);
  const auto dot = filename.rfind('.');
  if (dot == std::string_view::npos) return "application/octet-stream";
  std::string ext(filename.substr(dot + 1));
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  static constexpr std::pair<std::string_view, std::string_view> table[] = {
      {"html", "text/html"},        {"htm", "text/html"},           {"css", "text/css"},
      {"js", "text/javascript"},    {"mjs", "text/javascript"},     {"json", "application/json"},
      {"txt", "text/plain"},        {"csv", "text/csv"},            {"xml", "application/xml"},
      {"png", "image/png"},         {"jpg", "image/jpeg"},          {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},         {"svg", "image/svg+xml"},       {"ico", "image/vnd.microsoft.icon"},
      {"webp", "image/webp"},       {"pdf", "application/pdf"},     {"zip", "application/zip"},
      {"gz", "application/gzip"},   {"tar", "application/x-tar"},   {"wasm", "application/wasm"},
      {"mp4", "video/mp4"},         {"mp3", "audio/mpeg"},          {"wav", "audio/x-wav"},
      {"woff", "font/woff"},        {"woff2", "font/woff2"},        {"md", "text/markdown"},
  };
  for (const auto& [e, t] : table)
    if (e == ext) return t;
  return "application/octet-stream";
}

// --- exceptions

HTTPException::HTTPException(int status, HTTPExceptionInit init) : Response({.status = status, .reason = std::move(init.reason)}) {
  headers() = std::move(init.headers);
  what_ = std::string(reason());
  if (init.text) {
    set_body(std::move(*init.text));
    set_content_type(init.content_type.empty() ? "text/plain" : init.content_type);
    set_charset("utf-8");
  } else if (status != 204 && status != 304 && status >= 200) {
    // aiohttp's default body: "404: Not Found" (none for 204 and 304)
    set_text(std::to_string(status) + ": " + what_);
  } else {
    set_body({});
  }
  if (!init.content_type.empty()) set_content_type(init.content_type);
}

HTTPMove::HTTPMove(int status, std::string_view location, HTTPExceptionInit init)
    : HTTPRedirection(status, std::move(init)) {
  if (location.empty()) throw ValueError("HTTP redirects need a location to redirect to.");
  headers().set("Location", location);
}

HTTPMethodNotAllowed::HTTPMethodNotAllowed(std::string_view method, std::vector<std::string> allowed,
                                           HTTPExceptionInit init)
    : HTTPClientError(405, std::move(init)), method_(method), allowed_(std::move(allowed)) {
  std::sort(allowed_.begin(), allowed_.end());
  std::string allow;
  for (const auto& m : allowed_) {
    if (!allow.empty()) allow += ',';
    allow += m;
  }
  headers().set("Allow", allow);
}

HTTPRequestEntityTooLarge::HTTPRequestEntityTooLarge(std::uint64_t max_size, std::uint64_t actual_size,
                                                     HTTPExceptionInit init)
    : HTTPClientError(413, [&] {
        if (!init.text)
          init.text = "Maximum request body size " + std::to_string(max_size) + " exceeded, actual body size " +
                      std::to_string(actual_size);
        return std::move(init);
      }()) {}

}  // namespace aio::http
