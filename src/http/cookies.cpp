// The client's cookie jar (RFC 6265 sections 5.1 to 5.4) and the server's Cookie
// header parsing.
#include "aio/http/cookies.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <limits>
#include "http/text.hpp"

namespace aio::http {
namespace {

using detail::trim_blanks;
using detail::ascii_lower;
bool has_ctl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char ch) {
    auto c = static_cast<unsigned char>(ch);
    return (c < 0x20 && c != '\t') || c == 0x7f;
  });
}

bool is_ip_address(std::string_view host) {
  std::string h(host.substr(0, host.find('%')));  // an IPv6 zone is not part of the address
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, h.c_str(), buf) == 1 || inet_pton(AF_INET6, h.c_str(), buf) == 1;
}

// RFC 6265 5.1.3.
bool domain_match(std::string_view host, std::string_view domain) {
  if (host == domain) return true;
  if (domain.empty() || host.size() <= domain.size() || !host.ends_with(domain)) return false;
  if (host[host.size() - domain.size() - 1] != '.') return false;
  return !is_ip_address(host);
}

// RFC 6265 5.1.4.
bool path_match(std::string_view request_path, std::string_view cookie_path) {
  if (request_path == cookie_path) return true;
  if (!request_path.starts_with(cookie_path)) return false;
  return cookie_path.ends_with('/') || request_path[cookie_path.size()] == '/';
}
std::string default_path(std::string_view uri_path) {
  if (uri_path.empty() || uri_path[0] != '/') return "/";
  auto last = uri_path.rfind('/');
  if (last == 0) return "/";
  return std::string(uri_path.substr(0, last));
}

// --- cookie-date (RFC 6265 5.1.1) ---

bool is_date_delimiter(unsigned char c) {
  return c == 0x09 || (c >= 0x20 && c <= 0x2F) || (c >= 0x3B && c <= 0x40) || (c >= 0x5B && c <= 0x60) ||
         (c >= 0x7B && c <= 0x7E);
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads 1..max_digits digits at the start of `s`; the digits must be followed by the
// end or a non-digit. Returns the value and moves `s` past the digits.
std::optional<int> take_digits(std::string_view& s, std::size_t min_digits, std::size_t max_digits) {
  std::size_t n = 0;
  while (n < s.size() && is_digit(s[n])) ++n;
  if (n < min_digits || n > max_digits) return std::nullopt;
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) v = v * 10 + (s[i] - '0');
  s.remove_prefix(n);
  return v;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
long long days_from_civil(long long y, unsigned m, unsigned d) {
  y -= m <= 2;
  const long long era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<long long>(doe) - 719468;
}

}  // namespace

std::optional<double> parse_cookie_date(std::string_view s) {
  std::optional<int> hour, minute, second, day, month, year;
  static constexpr std::string_view kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                                 "jul", "aug", "sep", "oct", "nov", "dec"};
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_date_delimiter(static_cast<unsigned char>(s[i]))) ++i;
    std::size_t start = i;
    while (i < s.size() && !is_date_delimiter(static_cast<unsigned char>(s[i]))) ++i;
    std::string_view token = s.substr(start, i - start);
    if (token.empty()) continue;
    if (!hour) {  // time = hms-time ( non-digit *OCTET ); hms-time = 1*2DIGIT ":" 1*2DIGIT ":" 1*2DIGIT
      std::string_view t = token;
      auto h = take_digits(t, 1, 2);
      if (h && t.starts_with(':')) {
        t.remove_prefix(1);
        auto m = take_digits(t, 1, 2);
        if (m && t.starts_with(':')) {
          t.remove_prefix(1);
          auto sec = take_digits(t, 1, 2);
          if (sec) {
            hour = h;
            minute = m;
            second = sec;
            continue;
          }
        }
      }
    }
    if (!day) {  // day-of-month = 1*2DIGIT ( non-digit *OCTET )
      std::string_view t = token;
      if (auto d = take_digits(t, 1, 2)) {
        day = d;
        continue;
      }
    }
    if (!month && token.size() >= 3) {
      std::string m = ascii_lower(token.substr(0, 3));
      auto it = std::find(std::begin(kMonths), std::end(kMonths), m);
      if (it != std::end(kMonths)) {
        month = static_cast<int>(it - std::begin(kMonths)) + 1;
        continue;
      }
    }
    if (!year) {  // year = 2*4DIGIT ( non-digit *OCTET )
      std::string_view t = token;
      if (auto y = take_digits(t, 2, 4)) {
        year = y;
        continue;
      }
    }
  }
  if (!hour || !day || !month || !year) return std::nullopt;
  int y = *year;
  if (y >= 70 && y <= 99) y += 1900;
  if (y >= 0 && y <= 69) y += 2000;
  if (*day < 1 || *day > 31 || y < 1601 || *hour > 23 || *minute > 59 || *second > 59) return std::nullopt;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  int max_day = kDays[*month - 1] + (*month == 2 && leap ? 1 : 0);
  if (*day > max_day) return std::nullopt;  // "the date does not exist"
  long long days = days_from_civil(y, static_cast<unsigned>(*month), static_cast<unsigned>(*day));
  return static_cast<double>(days * 86400 + *hour * 3600 + *minute * 60 + *second);
}

std::optional<Cookie> parse_set_cookie(std::string_view value, double now) {
  // RFC 6265 5.2: the name-value-pair up to the first ';', then the attributes.
  std::string_view pair = value.substr(0, value.find(';'));
  std::string_view attrs = pair.size() < value.size() ? value.substr(pair.size()) : std::string_view();
  auto eq = pair.find('=');
  if (eq == std::string_view::npos) return std::nullopt;
  std::string_view name = trim_blanks(pair.substr(0, eq)), val = trim_blanks(pair.substr(eq + 1));
  if (name.empty() || has_ctl(name) || has_ctl(val)) return std::nullopt;
  Cookie c;
  c.name.assign(name);
  c.value.assign(val);
  c.path.clear();  // none yet: update_cookies gives the default-path
  std::optional<double> max_age_expiry, expires_expiry;
  while (!attrs.empty()) {
    attrs.remove_prefix(1);  // the ';'
    std::string_view av = attrs.substr(0, attrs.find(';'));
    attrs.remove_prefix(av.size());
    auto aeq = av.find('=');
    std::string key = ascii_lower(trim_blanks(av.substr(0, aeq)));
    std::string_view aval = aeq == std::string_view::npos ? std::string_view() : trim_blanks(av.substr(aeq + 1));
    if (key == "expires") {
      if (auto t = parse_cookie_date(aval)) expires_expiry = t;
    } else if (key == "max-age") {
      // delta-seconds with an optional '-'; anything else leaves the attribute out.
      std::string_view digits = aval;
      bool negative = digits.starts_with('-');
      if (negative) digits.remove_prefix(1);
      if (digits.empty() || !std::all_of(digits.begin(), digits.end(), is_digit)) continue;
      double delta = 0;
      for (char ch : digits) delta = delta * 10 + (ch - '0');
      max_age_expiry = (negative || delta == 0) ? -std::numeric_limits<double>::infinity() : now + delta;
    } else if (key == "domain") {
      if (aval.empty()) continue;
      if (aval.starts_with('.')) aval.remove_prefix(1);
      c.domain = ascii_lower(aval);
    } else if (key == "path") {
      c.path = (aval.empty() || aval[0] != '/') ? std::string() : std::string(aval);
    } else if (key == "secure") {
      c.secure = true;
    } else if (key == "httponly") {
      c.httponly = true;
    } else if (key == "samesite") {
      c.samesite.assign(aval);
    }
  }
  // Max-Age wins over Expires (5.3 step 3).
  c.expires = max_age_expiry ? max_age_expiry : expires_expiry;
  return c;
}

MultiDict parse_cookie_header(std::string_view header) {
  MultiDict out;
  while (!header.empty()) {
    std::string_view item = header.substr(0, header.find(';'));
    header.remove_prefix(std::min(header.size(), item.size() + 1));
    item = trim_blanks(item);
    auto eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view name = trim_blanks(item.substr(0, eq)), value = trim_blanks(item.substr(eq + 1));
    if (name.empty()) continue;
    std::string v;
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      // http.cookies' _unquote: \ooo octal escapes and \c for c.
      value = value.substr(1, value.size() - 2);
      for (std::size_t i = 0; i < value.size(); ++i) {
        if (value[i] == '\\' && i + 1 < value.size()) {
          if (i + 3 < value.size() && value[i + 1] >= '0' && value[i + 1] <= '3' && value[i + 2] >= '0' &&
              value[i + 2] <= '7' && value[i + 3] >= '0' && value[i + 3] <= '7') {
            v += static_cast<char>((value[i + 1] - '0') * 64 + (value[i + 2] - '0') * 8 + (value[i + 3] - '0'));
            i += 3;
          } else {
            v += value[++i];
          }
        } else {
          v += value[i];
        }
      }
    } else {
      v.assign(value);
    }
    out.add(name, std::move(v));
  }
  return out;
}

// ---------------------------------------------------------------------------

std::string AbstractCookieJar::filter_cookies(const URL& request_url) {
  std::string out;
  for (const auto& [name, value] : filter_cookies_pairs(request_url)) {
    if (!out.empty()) out += "; ";
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

CookieJar::CookieJar() = default;
CookieJar::CookieJar(Options options) : options_(std::move(options)) {}

double CookieJar::now() const {
  if (options_.clock) return options_.clock();
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void CookieJar::expire() const {
  double t = now();
  std::erase_if(cookies_, [t](const Entry& e) { return e.cookie.expires && *e.cookie.expires <= t; });
}

void CookieJar::store(Cookie c) {
  // 5.3 step 11: a cookie of the same name, domain and path is replaced, keeping its
  // creation time; an already expired one only removes it.
  auto same = std::find_if(cookies_.begin(), cookies_.end(), [&c](const Entry& e) {
    return e.cookie.name == c.name && e.cookie.domain == c.domain && e.cookie.path == c.path;
  });
  bool expired = c.expires && *c.expires <= now();
  if (same != cookies_.end()) {
    if (expired) {
      cookies_.erase(same);
    } else {
      same->cookie = std::move(c);
    }
    return;
  }
  if (!expired) cookies_.push_back(Entry{std::move(c), next_created_++});
}

void CookieJar::update_cookies(const std::vector<std::string>& set_cookie_values, const URL& response_url) {
  const std::optional<std::string>& raw_host = response_url.raw_host();
  if (raw_host && !options_.unsafe && is_ip_address(*raw_host)) return;  // aiohttp's rule
  double t = now();
  for (const std::string& value : set_cookie_values) {
    std::optional<Cookie> c = parse_set_cookie(value, t);
    if (!c) continue;
    if (raw_host) {
      const std::string& host = *raw_host;
      if (c->domain.empty()) {
        c->domain = host;
        c->host_only = true;
      } else if (!domain_match(host, c->domain)) {
        continue;  // 5.3 step 6: a cookie for another domain
      } else if (c->domain.find('.') == std::string::npos) {
        // No public suffix list: a single label ("com", "localhost") is taken as one,
        // allowed only as the host itself, and then host-only (5.3 step 5).
        if (c->domain != host) continue;
        c->host_only = true;
      }
    } else {
      c->domain.clear();  // a cookie given without a URL goes to every host
    }
    if (c->path.empty()) c->path = default_path(response_url.raw_path());
    store(std::move(*c));
  }
  expire();
}

void CookieJar::update_cookies(const MultiDict& cookies, const URL& response_url) {
  const std::optional<std::string>& raw_host = response_url.raw_host();
  if (raw_host && !options_.unsafe && is_ip_address(*raw_host)) return;
  for (const auto& [name, value] : cookies) {
    Cookie c;
    c.name = name;
    c.value = value;
    if (raw_host) {
      c.domain = *raw_host;
      c.host_only = true;
    }
    c.path = raw_host ? default_path(response_url.raw_path()) : "/";
    store(std::move(c));
  }
}

std::vector<std::pair<std::string, std::string>> CookieJar::filter_cookies_pairs(const URL& request_url) {
  expire();
  std::string host = request_url.raw_host().value_or("");
  bool secure = request_url.scheme() == "https" || request_url.scheme() == "wss";
  bool ip = is_ip_address(host);
  std::string path = request_url.path();
  std::vector<const Entry*> chosen;
  for (const Entry& e : cookies_) {
    const Cookie& c = e.cookie;
    if (!c.domain.empty()) {
      if (ip && !options_.unsafe) continue;
      if (c.host_only ? c.domain != host : !domain_match(host, c.domain)) continue;
    }
    if (!path_match(path, c.path)) continue;
    if (c.secure && !secure) continue;
    chosen.push_back(&e);
  }
  // 5.4 step 2: longer paths first, then earlier creation first.
  std::stable_sort(chosen.begin(), chosen.end(), [](const Entry* a, const Entry* b) {
    if (a->cookie.path.size() != b->cookie.path.size()) return a->cookie.path.size() > b->cookie.path.size();
    return a->created < b->created;
  });
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(chosen.size());
  for (const Entry* e : chosen) out.emplace_back(e->cookie.name, e->cookie.value);
  return out;
}

void CookieJar::clear() { cookies_.clear(); }

void CookieJar::clear_domain(std::string_view domain) {
  std::string d = ascii_lower(domain);
  std::erase_if(cookies_, [&d](const Entry& e) { return domain_match(e.cookie.domain, d); });
}

std::size_t CookieJar::size() const {
  expire();
  return cookies_.size();
}

std::vector<Cookie> CookieJar::cookies() const {
  expire();
  std::vector<Cookie> out;
  out.reserve(cookies_.size());
  for (const Entry& e : cookies_) out.push_back(e.cookie);
  return out;
}

}  // namespace aio::http
