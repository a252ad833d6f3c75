// aio/http/web_exceptions.hpp: aiohttp.web_exceptions, responses that are thrown.
//
//   if (!found) throw web::HTTPNotFound();
//   throw web::HTTPFound("/login");
//
// Each is a Response (status, reason, headers, a "404: Not Found" text body by default)
// and a std::exception whose what() is the reason. The server answers with it; a
// middleware may catch it. Its own status classes group them as aiohttp's do:
// HTTPException <- HTTPSuccessful, HTTPRedirection (<- HTTPMove with a Location),
// HTTPError <- HTTPClientError, HTTPServerError.
#pragma once

#include <exception>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "aio/http/web_response.hpp"

namespace aio::http {

/// The arguments every HTTPException takes (aiohttp's headers=, reason=, text=,
/// content_type=).
struct HTTPExceptionInit {
  Headers headers{};
  std::string reason{};
  std::optional<std::string> text{};
  std::string content_type{};
};

class HTTPException : public Response, public std::exception {
 public:
  HTTPException(int status, HTTPExceptionInit init);
  const char* what() const noexcept override { return what_.c_str(); }

 private:
  std::string what_;
};

#define AIO_HTTP_STATUS_CLASS(Name, Base) \
  class Name : public Base {              \
   public:                                \
    using Base::Base;                     \
  };

AIO_HTTP_STATUS_CLASS(HTTPSuccessful, HTTPException)
AIO_HTTP_STATUS_CLASS(HTTPRedirection, HTTPException)
AIO_HTTP_STATUS_CLASS(HTTPError, HTTPException)
AIO_HTTP_STATUS_CLASS(HTTPClientError, HTTPError)
AIO_HTTP_STATUS_CLASS(HTTPServerError, HTTPError)
#undef AIO_HTTP_STATUS_CLASS

/// A redirection with a Location (aiohttp's HTTPMove); ValueError for an empty one.
class HTTPMove : public HTTPRedirection {
 public:
  HTTPMove(int status, std::string_view location, HTTPExceptionInit init);
  std::string_view location() const noexcept { return headers().get("Location", ""); }
};

#define AIO_HTTP_EXCEPTION(Name, Base, code)                            \
  class Name : public Base {                                            \
   public:                                                              \
    static constexpr int status_code = code;                            \
    explicit Name(HTTPExceptionInit init = {}) : Base(code, std::move(init)) {} \
  };
#define AIO_HTTP_MOVE(Name, code)                                                  \
  class Name : public HTTPMove {                                                   \
   public:                                                                         \
    static constexpr int status_code = code;                                       \
    explicit Name(std::string_view location, HTTPExceptionInit init = {})          \
        : HTTPMove(code, location, std::move(init)) {}                             \
  };

AIO_HTTP_EXCEPTION(HTTPOk, HTTPSuccessful, 200)
AIO_HTTP_EXCEPTION(HTTPCreated, HTTPSuccessful, 201)
AIO_HTTP_EXCEPTION(HTTPAccepted, HTTPSuccessful, 202)
AIO_HTTP_EXCEPTION(HTTPNonAuthoritativeInformation, HTTPSuccessful, 203)
AIO_HTTP_EXCEPTION(HTTPNoContent, HTTPSuccessful, 204)
AIO_HTTP_EXCEPTION(HTTPResetContent, HTTPSuccessful, 205)
AIO_HTTP_EXCEPTION(HTTPPartialContent, HTTPSuccessful, 206)

AIO_HTTP_MOVE(HTTPMultipleChoices, 300)
AIO_HTTP_MOVE(HTTPMovedPermanently, 301)
AIO_HTTP_MOVE(HTTPFound, 302)
AIO_HTTP_MOVE(HTTPSeeOther, 303)
AIO_HTTP_EXCEPTION(HTTPNotModified, HTTPRedirection, 304)
AIO_HTTP_MOVE(HTTPUseProxy, 305)
AIO_HTTP_MOVE(HTTPTemporaryRedirect, 307)
AIO_HTTP_MOVE(HTTPPermanentRedirect, 308)

AIO_HTTP_EXCEPTION(HTTPBadRequest, HTTPClientError, 400)
AIO_HTTP_EXCEPTION(HTTPUnauthorized, HTTPClientError, 401)
AIO_HTTP_EXCEPTION(HTTPPaymentRequired, HTTPClientError, 402)
AIO_HTTP_EXCEPTION(HTTPForbidden, HTTPClientError, 403)
AIO_HTTP_EXCEPTION(HTTPNotFound, HTTPClientError, 404)
AIO_HTTP_EXCEPTION(HTTPNotAcceptable, HTTPClientError, 406)
AIO_HTTP_EXCEPTION(HTTPProxyAuthenticationRequired, HTTPClientError, 407)
AIO_HTTP_EXCEPTION(HTTPRequestTimeout, HTTPClientError, 408)
AIO_HTTP_EXCEPTION(HTTPConflict, HTTPClientError, 409)
AIO_HTTP_EXCEPTION(HTTPGone, HTTPClientError, 410)
AIO_HTTP_EXCEPTION(HTTPLengthRequired, HTTPClientError, 411)
AIO_HTTP_EXCEPTION(HTTPPreconditionFailed, HTTPClientError, 412)
AIO_HTTP_EXCEPTION(HTTPRequestURITooLong, HTTPClientError, 414)
AIO_HTTP_EXCEPTION(HTTPUnsupportedMediaType, HTTPClientError, 415)
AIO_HTTP_EXCEPTION(HTTPRequestRangeNotSatisfiable, HTTPClientError, 416)
AIO_HTTP_EXCEPTION(HTTPExpectationFailed, HTTPClientError, 417)
AIO_HTTP_EXCEPTION(HTTPMisdirectedRequest, HTTPClientError, 421)
AIO_HTTP_EXCEPTION(HTTPUnprocessableEntity, HTTPClientError, 422)
AIO_HTTP_EXCEPTION(HTTPTooManyRequests, HTTPClientError, 429)
AIO_HTTP_EXCEPTION(HTTPRequestHeaderFieldsTooLarge, HTTPClientError, 431)
AIO_HTTP_EXCEPTION(HTTPUnavailableForLegalReasons, HTTPClientError, 451)

AIO_HTTP_EXCEPTION(HTTPInternalServerError, HTTPServerError, 500)
AIO_HTTP_EXCEPTION(HTTPNotImplemented, HTTPServerError, 501)
AIO_HTTP_EXCEPTION(HTTPBadGateway, HTTPServerError, 502)
AIO_HTTP_EXCEPTION(HTTPServiceUnavailable, HTTPServerError, 503)
AIO_HTTP_EXCEPTION(HTTPGatewayTimeout, HTTPServerError, 504)
AIO_HTTP_EXCEPTION(HTTPVersionNotSupported, HTTPServerError, 505)
#undef AIO_HTTP_EXCEPTION
#undef AIO_HTTP_MOVE

/// 405 with an Allow header listing `allowed_methods` sorted (aiohttp's
/// HTTPMethodNotAllowed(method, allowed_methods)).
class HTTPMethodNotAllowed : public HTTPClientError {
 public:
  static constexpr int status_code = 405;
  HTTPMethodNotAllowed(std::string_view method, std::vector<std::string> allowed_methods,
                       HTTPExceptionInit init = {});
  const std::string& method() const noexcept { return method_; }
  const std::vector<std::string>& allowed_methods() const noexcept { return allowed_; }

 private:
  std::string method_;
  std::vector<std::string> allowed_;
};

/// 413 "Maximum request body size {max_size} exceeded, actual body size {actual_size}".
class HTTPRequestEntityTooLarge : public HTTPClientError {
 public:
  static constexpr int status_code = 413;
  HTTPRequestEntityTooLarge(std::uint64_t max_size, std::uint64_t actual_size, HTTPExceptionInit init = {});
};

}  // namespace aio::http
