// aio/http/cookies.hpp: the client's cookie jar (aiohttp's CookieJar and
// DummyCookieJar) per RFC 6265, and the server's Cookie header parsing.
//
// No public suffix list is used: a Domain attribute must domain-match the host that
// set it and may not be a single label ("com"), as aiohttp's jar.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aio/http/headers.hpp"
#include "aio/http/url.hpp"

namespace aio::http {

/// One stored cookie (what aiohttp keeps as a Morsel).
struct Cookie {
  std::string name, value;
  /// Lower case, without a leading dot. Empty for a cookie given without a URL, which
  /// is sent to every host.
  std::string domain;
  /// The Path attribute, or the default-path of the URL that set it (RFC 6265 5.1.4).
  std::string path = "/";
  /// When it expires, in seconds since the epoch; nullopt for a session cookie.
  std::optional<double> expires;
  bool secure = false;
  bool httponly = false;
  /// Set without a Domain attribute: sent to that exact host only.
  bool host_only = false;
  /// The SameSite attribute as given ("Lax", "Strict", "None"), kept, not enforced.
  std::string samesite;
};

/// What a ClientSession's jar is: aiohttp's AbstractCookieJar.
class AbstractCookieJar {
 public:
  virtual ~AbstractCookieJar() = default;
  /// Stores the cookies of a response's Set-Cookie header values, received from
  /// `response_url`. A value that cannot be parsed, or whose Domain does not match the
  /// URL's host, is ignored (as browsers and aiohttp do).
  virtual void update_cookies(const std::vector<std::string>& set_cookie_values,
                              const URL& response_url) = 0;
  /// Stores name=value cookies given by the program (ClientSession(cookies=...)): sent
  /// to every host when `response_url` is relative (the default), else host-only to
  /// its host.
  virtual void update_cookies(const MultiDict& cookies, const URL& response_url = URL()) = 0;
  /// The cookies to send to `request_url`, as (name, value) pairs in RFC 6265 5.4's
  /// order: longer paths first, then earlier created first.
  virtual std::vector<std::pair<std::string, std::string>> filter_cookies_pairs(
      const URL& request_url) = 0;
  /// The Cookie header value for `request_url`: "a=1; b=2", empty when none.
  std::string filter_cookies(const URL& request_url);
  virtual void clear() = 0;
  virtual std::size_t size() const = 0;
};

/// aiohttp's CookieJar.
class CookieJar : public AbstractCookieJar {
 public:
  struct Options {
    /// Accept and send cookies of hosts that are IP addresses (aiohttp's unsafe).
    bool unsafe = false;
    /// Seconds since the epoch; the system clock when empty. Tests inject their own.
    std::function<double()> clock;
  };
  CookieJar();
  explicit CookieJar(Options options);

  void update_cookies(const std::vector<std::string>& set_cookie_values,
                      const URL& response_url) override;
  void update_cookies(const MultiDict& cookies, const URL& response_url = URL()) override;
  /// Expired cookies are dropped first. Secure cookies go only to https and wss URLs;
  /// host-only cookies only to their host; the others to their domain and its
  /// subdomains; a cookie's path must path-match the request's (RFC 6265 5.1.4).
  std::vector<std::pair<std::string, std::string>> filter_cookies_pairs(const URL& request_url) override;
  void clear() override;
  /// Removes the cookies of `domain` and its subdomains (clear_domain).
  void clear_domain(std::string_view domain);
  /// The live cookies (expired ones are dropped first), in creation order.
  std::size_t size() const override;
  std::vector<Cookie> cookies() const;
  bool unsafe() const noexcept { return options_.unsafe; }

 private:
  double now() const;
  void expire() const;
  void store(Cookie c);

  Options options_;
  struct Entry {
    Cookie cookie;
    std::uint64_t created;  // creation order, for 5.4's tie-break
  };
  mutable std::vector<Entry> cookies_;
  std::uint64_t next_created_ = 0;
};

/// aiohttp's DummyCookieJar: stores nothing, sends nothing.
class DummyCookieJar : public AbstractCookieJar {
 public:
  void update_cookies(const std::vector<std::string>&, const URL&) override {}
  void update_cookies(const MultiDict&, const URL& = URL()) override {}
  std::vector<std::pair<std::string, std::string>> filter_cookies_pairs(const URL&) override {
    return {};
  }
  void clear() override {}
  std::size_t size() const override { return 0; }
};

/// Parses one Set-Cookie header value into a cookie with attributes as given (domain
/// and path not yet defaulted from a URL; expires from Max-Age relative to `now`, else
/// from Expires). nullopt when it is not a cookie (no '=' in the first pair, or an
/// empty name).
std::optional<Cookie> parse_set_cookie(std::string_view value, double now);

/// Parses a request's Cookie header ("a=1; b=\"x y\"") into name/value pairs in order,
/// with double quotes around a value removed (aiohttp's Request.cookies, which is
/// http.cookies.SimpleCookie; here several cookies of a name are all kept).
MultiDict parse_cookie_header(std::string_view header);

/// The cookie-date of RFC 6265 5.1.1 ("Wed, 09 Jun 2021 10:18:14 GMT", the RFC 850 and
/// asctime forms, and the other variants the algorithm accepts) as seconds since the
/// epoch; nullopt when it is not a date.
std::optional<double> parse_cookie_date(std::string_view s);

}  // namespace aio::http
