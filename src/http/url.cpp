// yarl.URL: parsing (RFC 3986 appendix B's split, then each component validated and
// normalized), percent-encoding as yarl's quoters, and reference resolution (5.2).
#include "aio/http/url.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>

#include "aio/errors.hpp"
#include "aio/http/exceptions.hpp"

namespace aio::http {
namespace {

// --- character classes (RFC 3986 section 2) ---

constexpr bool is_alpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
constexpr bool is_unreserved(unsigned char c) {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
constexpr bool is_sub_delim(unsigned char c) {
  return c == '!' || c == '$' || c == '&' || c == '\'' || c == '(' || c == ')' || c == '*' ||
         c == '+' || c == ',' || c == ';' || c == '=';
}
int hex_value(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
constexpr char kHex[] = "0123456789ABCDEF";
void append_pct(std::string& out, unsigned char c) {
  out += '%';
  out += kHex[c >> 4];
  out += kHex[c & 15];
}
char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; }

// A table of the bytes a component may hold raw.
using CharSet = std::array<bool, 256>;
CharSet make_set(std::string_view extra, bool sub_delims) {
  CharSet s{};
  for (int c = 0; c < 256; ++c) {
    auto u = static_cast<unsigned char>(c);
    s[static_cast<std::size_t>(c)] = is_unreserved(u) || (sub_delims && is_sub_delim(u));
  }
  for (char c : extra) s[static_cast<unsigned char>(c)] = true;
  return s;
}

// One of yarl's quoters: bytes outside `allowed` become %XX. With `requote`, a valid
// %XX stays an escape (upper-cased), or is decoded when it stands for an allowed byte
// that is not `protected_` (yarl decodes %41 to A but keeps %2F in a path); an invalid
// one has its '%' encoded as %25. Without `requote` every '%' is data (%25).
// `qs`: a space is '+' (form encoding).
struct Quoter {
  CharSet allowed;
  std::string_view protected_;
  bool qs;

  std::string operator()(std::string_view s, bool requote = true) const {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
      auto c = static_cast<unsigned char>(s[i]);
      if (c == '%' && requote && i + 2 < s.size() && hex_value(static_cast<unsigned char>(s[i + 1])) >= 0 &&
          hex_value(static_cast<unsigned char>(s[i + 2])) >= 0) {
        auto d = static_cast<unsigned char>(hex_value(static_cast<unsigned char>(s[i + 1])) * 16 +
                                            hex_value(static_cast<unsigned char>(s[i + 2])));
        if (allowed[d] && protected_.find(static_cast<char>(d)) == std::string_view::npos &&
            !(qs && d == '+'))
          out += static_cast<char>(d);
        else
          append_pct(out, d);
        i += 2;
      } else if (qs && c == ' ') {
        out += '+';
      } else if (c != '%' && allowed[c]) {
        out += static_cast<char>(c);
      } else {
        append_pct(out, c);
      }
    }
    return out;
  }
};

const Quoter& user_quoter() {
  static const Quoter q{make_set("", true), "", false};
  return q;
}
const Quoter& path_quoter() {
  static const Quoter q{make_set(":@/", true), "/+", false};
  return q;
}
const Quoter& query_quoter() {
  static const Quoter q{make_set(":@/?", true), "=+&;", true};
  return q;
}
// A key or value inside a query made from pairs: '&', '=', '+' and ';' are data.
const Quoter& query_part_quoter() {
  static const Quoter q{[] {
                          CharSet s = make_set(":@/?", true);
                          for (char c : std::string_view("=+&;")) s[static_cast<unsigned char>(c)] = false;
                          return s;
                        }(),
                        "", true};
  return q;
}
const Quoter& fragment_quoter() {
  static const Quoter q{make_set(":@/?", true), "", false};
  return q;
}
// A path segment given to operator/ or with_name: '/' is data.
const Quoter& segment_quoter() {
  static const Quoter q{make_set(":@", true), "+", false};
  return q;
}

// Decodes %XX; the bytes in `keep` stay encoded, as do invalid escapes. `plus`: '+' is
// a space.
std::string unquote_impl(std::string_view s, bool plus, std::string_view keep = {}) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size() && hex_value(static_cast<unsigned char>(s[i + 1])) >= 0 &&
        hex_value(static_cast<unsigned char>(s[i + 2])) >= 0) {
      char d = static_cast<char>(hex_value(static_cast<unsigned char>(s[i + 1])) * 16 +
                                 hex_value(static_cast<unsigned char>(s[i + 2])));
      if (keep.find(d) != std::string_view::npos) {
        out.append(s.substr(i, 3));
      } else {
        out += d;
      }
      i += 2;
    } else if (plus && c == '+') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

[[noreturn]] void invalid(std::string_view url, std::string_view why) {
  throw InvalidURL(std::string(url), std::string(why));
}

std::optional<int> default_port(std::string_view scheme) {
  if (scheme == "http" || scheme == "ws") return 80;
  if (scheme == "https" || scheme == "wss") return 443;
  return std::nullopt;
}

bool valid_scheme(std::string_view s) {
  if (s.empty() || !is_alpha(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char ch) {
    auto c = static_cast<unsigned char>(ch);
    return is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.';
  });
}

// RFC 3986 5.2.4.
std::string remove_dot_segments(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  while (!in.empty()) {
    if (in.starts_with("../")) {
      in.remove_prefix(3);
    } else if (in.starts_with("./")) {
      in.remove_prefix(2);
    } else if (in.starts_with("/./")) {
      in.remove_prefix(2);
    } else if (in == "/.") {
      in = "/";
    } else if (in.starts_with("/../") || in == "/..") {
      if (in.size() == 3)
        in = "/";
      else
        in.remove_prefix(3);
      auto pos = out.rfind('/');
      out.erase(pos == std::string::npos ? 0 : pos);
    } else if (in == "." || in == "..") {
      in = {};
    } else {
      std::size_t end = in.find('/', in[0] == '/' ? 1 : 0);
      if (end == std::string_view::npos) end = in.size();
      out.append(in.substr(0, end));
      in.remove_prefix(end);
    }
  }
  return out;
}

// Validates an IPv6 literal (an optional %zone after it) and returns its canonical
// text (inet_ntop's, which is the compressed lower-case form Python's ipaddress gives).
std::optional<std::string> canonical_ipv6(std::string_view lit) {
  std::string_view zone;
  if (auto pct = lit.find('%'); pct != std::string_view::npos) {
    zone = lit.substr(pct);
    lit = lit.substr(0, pct);
    if (zone.size() < 2) return std::nullopt;
    for (char ch : zone.substr(1)) {
      auto c = static_cast<unsigned char>(ch);
      if (!is_unreserved(c) && c != '%') return std::nullopt;
    }
  }
  std::string addr(lit);
  in6_addr a{};
  if (inet_pton(AF_INET6, addr.c_str(), &a) != 1) return std::nullopt;
  char buf[INET6_ADDRSTRLEN];
  if (inet_ntop(AF_INET6, &a, buf, sizeof buf) == nullptr) return std::nullopt;
  std::string out(buf);
  out.append(zone);
  return out;
}

// --- IDNA: punycode (RFC 3492) for hosts with non-ASCII labels ---

namespace punycode {
constexpr std::uint32_t kBase = 36, kTMin = 1, kTMax = 26, kSkew = 38, kDamp = 700, kInitialBias = 72,
                        kInitialN = 128;

std::uint32_t adapt(std::uint32_t delta, std::uint32_t points, bool first) {
  delta = first ? delta / kDamp : delta / 2;
  delta += delta / points;
  std::uint32_t k = 0;
  while (delta > ((kBase - kTMin) * kTMax) / 2) {
    delta /= kBase - kTMin;
    k += kBase;
  }
  return k + (kBase - kTMin + 1) * delta / (delta + kSkew);
}
char digit(std::uint32_t d) { return static_cast<char>(d < 26 ? 'a' + d : '0' + (d - 26)); }
std::uint32_t threshold(std::uint32_t k, std::uint32_t bias) {
  return k <= bias ? kTMin : k >= bias + kTMax ? kTMax : k - bias;
}

std::optional<std::string> encode(const std::vector<std::uint32_t>& in) {
  std::string out;
  for (std::uint32_t c : in)
    if (c < 0x80) out += static_cast<char>(c);
  const auto b = static_cast<std::uint32_t>(out.size());
  if (b > 0) out += '-';
  std::uint64_t delta = 0;
  std::uint32_t n = kInitialN, bias = kInitialBias, h = b;
  while (h < in.size()) {
    std::uint32_t m = 0xFFFFFFFF;
    for (std::uint32_t c : in)
      if (c >= n && c < m) m = c;
    delta += static_cast<std::uint64_t>(m - n) * (h + 1);
    n = m;
    for (std::uint32_t c : in) {
      if (c < n) ++delta;
      if (delta > 0xFFFFFFFF) return std::nullopt;
      if (c == n) {
        auto q = static_cast<std::uint32_t>(delta);
        for (std::uint32_t k = kBase;; k += kBase) {
          std::uint32_t t = threshold(k, bias);
          if (q < t) break;
          out += digit(t + (q - t) % (kBase - t));
          q = (q - t) / (kBase - t);
        }
        out += digit(q);
        bias = adapt(static_cast<std::uint32_t>(delta), h + 1, h == b);
        delta = 0;
        ++h;
      }
    }
    ++delta;
    ++n;
  }
  return out;
}

std::optional<std::vector<std::uint32_t>> decode(std::string_view in) {
  std::vector<std::uint32_t> out;
  auto dash = in.rfind('-');
  std::size_t pos = 0;
  if (dash != std::string_view::npos) {
    for (char c : in.substr(0, dash)) {
      if (static_cast<unsigned char>(c) >= 0x80) return std::nullopt;
      out.push_back(static_cast<unsigned char>(c));
    }
    pos = dash + 1;
  }
  std::uint64_t i = 0;
  std::uint32_t n = kInitialN, bias = kInitialBias;
  while (pos < in.size()) {
    std::uint64_t old = i, w = 1;
    for (std::uint32_t k = kBase;; k += kBase) {
      if (pos >= in.size()) return std::nullopt;
      char c = in[pos++];
      std::uint32_t d;
      if (c >= 'a' && c <= 'z') d = static_cast<std::uint32_t>(c - 'a');
      else if (c >= 'A' && c <= 'Z') d = static_cast<std::uint32_t>(c - 'A');
      else if (c >= '0' && c <= '9') d = static_cast<std::uint32_t>(c - '0' + 26);
      else return std::nullopt;
      i += d * w;
      if (i > 0x10FFFF * 64ULL) return std::nullopt;
      std::uint32_t t = threshold(k, bias);
      if (d < t) break;
      w *= kBase - t;
      if (w > 0xFFFFFFFF) return std::nullopt;
    }
    auto points = static_cast<std::uint32_t>(out.size() + 1);
    bias = adapt(static_cast<std::uint32_t>(i - old), points, old == 0);
    std::uint64_t next = n + i / points;
    if (next > 0x10FFFF || (next >= 0xD800 && next <= 0xDFFF)) return std::nullopt;
    n = static_cast<std::uint32_t>(next);
    i %= points;
    out.insert(out.begin() + static_cast<std::ptrdiff_t>(i), n);
    ++i;
  }
  return out;
}
}  // namespace punycode

std::optional<std::vector<std::uint32_t>> utf8_decode(std::string_view s) {
  std::vector<std::uint32_t> out;
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return std::nullopt;
    std::uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (std::size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc >> 6) != 2) return std::nullopt;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
    out.push_back(cp);
    i += len;
  }
  return out;
}
void utf8_append(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}
// Lower case for the scripts whose capitals are a fixed offset away (Latin-1, Latin
// Extended-A, Greek, Cyrillic): not UTS 46's whole mapping.
std::uint32_t simple_lower(std::uint32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
  if (c >= 0x100 && c <= 0x17F && c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149 && c != 0x17F) {
    bool odd_lower = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
    if (odd_lower ? (c % 2 == 1) : (c % 2 == 0)) return c + 1;
    return c;
  }
  if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 32;
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  return c;
}

// One label to its ASCII form: "xn--" and punycode when it has non-ASCII characters.
std::optional<std::string> label_to_ascii(std::string_view label) {
  if (std::all_of(label.begin(), label.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; }))
    return std::string(label);
  auto cps = utf8_decode(label);
  if (!cps) return std::nullopt;
  for (auto& c : *cps) c = simple_lower(c);
  auto encoded = punycode::encode(*cps);
  if (!encoded) return std::nullopt;
  return "xn--" + *encoded;
}

// The host as written for people: "xn--" labels decoded (kept when not valid punycode).
std::string host_to_unicode(std::string_view host) {
  if (host.find("xn--") == std::string_view::npos) return std::string(host);
  std::string out;
  while (true) {
    auto dot = host.find('.');
    std::string_view label = host.substr(0, dot);
    std::optional<std::vector<std::uint32_t>> cps;
    if (label.starts_with("xn--")) cps = punycode::decode(label.substr(4));
    // IDNA: an A-label stands for a label with non-ASCII characters, and is its only
    // encoding (lower-case, re-encodes to itself).
    if (cps && (std::all_of(cps->begin(), cps->end(), [](std::uint32_t c) { return c < 0x80; }) ||
                punycode::encode(*cps) != std::optional<std::string>(std::string(label.substr(4)))))
      cps.reset();
    if (cps) {
      for (std::uint32_t c : *cps) utf8_append(out, c);
    } else {
      out.append(label);
    }
    if (dot == std::string_view::npos) break;
    out += '.';
    host.remove_prefix(dot + 1);
  }
  return out;
}

// A reg-name or IPv4 address: ASCII letters lower-cased, sub-delims kept, %XX of an
// unreserved or sub-delim byte decoded, non-ASCII (raw or percent-encoded UTF-8) in
// IDNA form ("xn--..."); anything else (space, controls, "<>\"{}|\\^`", an encoded
// ASCII delimiter, a bad %, invalid UTF-8) makes it invalid.
std::optional<std::string> normalize_reg_name(std::string_view h) {
  std::string bytes;
  bytes.reserve(h.size());
  bool non_ascii = false;
  for (std::size_t i = 0; i < h.size(); ++i) {
    auto c = static_cast<unsigned char>(h[i]);
    if (c == '%') {
      if (i + 2 >= h.size() || hex_value(static_cast<unsigned char>(h[i + 1])) < 0 ||
          hex_value(static_cast<unsigned char>(h[i + 2])) < 0)
        return std::nullopt;
      c = static_cast<unsigned char>(hex_value(static_cast<unsigned char>(h[i + 1])) * 16 +
                                     hex_value(static_cast<unsigned char>(h[i + 2])));
      i += 2;
      if (c < 0x80 && !is_unreserved(c) && !is_sub_delim(c)) return std::nullopt;
    }
    if (c >= 0x80) {
      non_ascii = true;
      bytes += static_cast<char>(c);
    } else if (is_unreserved(c) || is_sub_delim(c)) {
      bytes += ascii_lower(static_cast<char>(c));
    } else {
      return std::nullopt;
    }
  }
  if (!non_ascii) return bytes;
  std::string out;
  std::string_view rest = bytes;
  while (true) {
    auto dot = rest.find('.');
    auto label = label_to_ascii(rest.substr(0, dot));
    if (!label) return std::nullopt;
    out += *label;
    if (dot == std::string_view::npos) break;
    out += '.';
    rest.remove_prefix(dot + 1);
  }
  return out;
}

// Splits and validates "host[:port]" or "[v6]:port" into host (no brackets) and port.
void parse_hostport(std::string_view url, std::string_view hp, std::optional<std::string>& host,
                    std::optional<int>& port) {
  std::string_view h, p;
  bool has_port = false;
  if (!hp.empty() && hp[0] == '[') {
    auto close = hp.find(']');
    if (close == std::string_view::npos) invalid(url, "Invalid IPv6 URL");
    h = hp.substr(1, close - 1);
    std::string_view rest = hp.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') invalid(url, "Invalid IPv6 URL");
      p = rest.substr(1);
      has_port = true;
    }
    auto v6 = canonical_ipv6(h);
    if (!v6) invalid(url, "Invalid IPv6 URL");
    host = std::move(*v6);
  } else {
    if (hp.find(']') != std::string_view::npos) invalid(url, "Invalid IPv6 URL");
    auto colon = hp.rfind(':');
    if (colon != std::string_view::npos) {
      h = hp.substr(0, colon);
      p = hp.substr(colon + 1);
      has_port = true;
    } else {
      h = hp;
    }
    auto reg = normalize_reg_name(h);
    if (!reg) invalid(url, "Invalid host");
    host = std::move(*reg);
  }
  if (has_port && !p.empty()) {
    int v = 0;
    bool digits = std::all_of(p.begin(), p.end(), [](char c) { return is_digit(static_cast<unsigned char>(c)); });
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
    if (!digits || ec != std::errc() || ptr != p.data() + p.size() || v > 65535)
      invalid(url, "port can't be converted to integer");
    port = v;
  }
}

std::string join_query_pairs(const std::vector<std::pair<std::string, std::string>>& items) {
  std::string out;
  const Quoter& q = query_part_quoter();
  for (const auto& [k, v] : items) {
    if (!out.empty()) out += '&';
    out += q(k, false);
    out += '=';
    out += q(v, false);
  }
  return out;
}

const std::string kSlash = "/";

}  // namespace

// ---------------------------------------------------------------------------
// Parsing

URL::URL(std::string_view s) { parse(s, false); }
URL::URL(std::string_view s, bool encoded) { parse(s, encoded); }

void URL::parse(std::string_view input, bool encoded) {
  // As urllib.parse.urlsplit (and WHATWG): leading and trailing C0 controls and spaces
  // are stripped, tabs and newlines removed.
  while (!input.empty() && static_cast<unsigned char>(input.front()) <= 0x20) input.remove_prefix(1);
  while (!input.empty() && static_cast<unsigned char>(input.back()) <= 0x20) input.remove_suffix(1);
  std::string cleaned;
  if (input.find_first_of("\t\r\n") != std::string_view::npos) {
    for (char c : input)
      if (c != '\t' && c != '\r' && c != '\n') cleaned += c;
    input = cleaned;
  }
  const std::string_view url = input;
  std::string_view rest = input;

  // scheme ":" (the first ':' before any of "/?#", with a valid scheme before it)
  if (auto colon = rest.find(':'); colon != std::string_view::npos && colon > 0) {
    auto delim = rest.find_first_of("/?#");
    if ((delim == std::string_view::npos || colon < delim) && valid_scheme(rest.substr(0, colon))) {
      scheme_.assign(rest.substr(0, colon));
      for (char& c : scheme_) c = ascii_lower(c);
      rest.remove_prefix(colon + 1);
    }
  }
  std::string_view fragment, query, path;
  bool has_fragment = false, has_query = false;
  if (auto hash = rest.find('#'); hash != std::string_view::npos) {
    fragment = rest.substr(hash + 1);
    has_fragment = true;
    rest = rest.substr(0, hash);
  }
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    has_query = true;
    rest = rest.substr(0, q);
  }
  if (rest.starts_with("//")) {
    rest.remove_prefix(2);
    auto slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
    authority_ = true;
    std::string_view hostport = authority;
    if (auto at = authority.rfind('@'); at != std::string_view::npos) {
      std::string_view userinfo = authority.substr(0, at);
      hostport = authority.substr(at + 1);
      std::string_view u = userinfo, p;
      bool has_password = false;
      if (auto colon = userinfo.find(':'); colon != std::string_view::npos) {
        u = userinfo.substr(0, colon);
        p = userinfo.substr(colon + 1);
        has_password = true;
      }
      if (!u.empty() || has_password) user_ = encoded ? std::string(u) : user_quoter()(u);
      if (has_password) password_ = encoded ? std::string(p) : user_quoter()(p);
    }
    if (!hostport.empty()) parse_hostport(url, hostport, host_, port_);
    if (host_ && host_->empty()) host_.reset();
    if (!host_ && (user_ || port_)) invalid(url, "Invalid host");
  } else {
    path = rest;
  }
  (void)has_query;
  (void)has_fragment;
  path_.assign(path);
  if (!encoded) normalize_path();
  query_ = encoded ? std::string(query) : query_quoter()(query);
  fragment_ = encoded ? std::string(fragment) : fragment_quoter()(fragment);
}

// The path's normal form: yarl's encoding (idempotent), no dot segments under an
// authority, and no ':' in the first segment of a relative reference (it would read as
// a scheme). Every path made here (parse, join, /, with_path, with_name) goes through it,
// so str() parses back to itself.
void URL::normalize_path(bool requote) {
  if (requote) path_ = path_quoter()(path_);
  if (authority_) {
    path_ = remove_dot_segments(path_);
  } else if (scheme_.empty()) {
    std::size_t end = std::min(path_.find('/'), path_.size());
    for (std::size_t i = 0; i < end; ++i)
      if (path_[i] == ':') {
        path_.replace(i, 1, "%3A");
        end += 2;
      }
  }
}

// ---------------------------------------------------------------------------
// Accessors

std::optional<std::string> URL::user() const {
  if (!user_) return std::nullopt;
  return unquote_impl(*user_, false);
}
std::optional<std::string> URL::password() const {
  if (!password_) return std::nullopt;
  return unquote_impl(*password_, false);
}
std::optional<std::string> URL::host() const {
  if (!host_) return std::nullopt;
  return host_to_unicode(*host_);
}
std::optional<int> URL::port() const noexcept { return port_ ? port_ : default_port(scheme_); }
bool URL::is_default_port() const noexcept {
  if (!port_) return true;
  auto d = default_port(scheme_);
  return d && *d == *port_;
}

const std::string& URL::raw_path() const noexcept {
  if (path_.empty() && host_) return kSlash;
  return path_;
}

namespace {
std::string make_authority(const std::optional<std::string>& user, const std::optional<std::string>& password,
                           const std::optional<std::string>& host, std::optional<int> port) {
  std::string out;
  if (user || password) {
    if (user) out += *user;
    if (password) {
      out += ':';
      out += *password;
    }
    out += '@';
  }
  if (host) {
    if (host->find(':') != std::string::npos) {
      out += '[';
      out += *host;
      out += ']';
    } else {
      out += *host;
    }
  }
  if (port) {
    out += ':';
    out += std::to_string(*port);
  }
  return out;
}
}  // namespace

std::string URL::raw_authority() const { return make_authority(user_, password_, host_, port_); }
std::string URL::authority() const { return make_authority(user(), password(), host(), port_); }

std::string URL::path() const { return unquote_impl(raw_path(), false); }
// yarl's query_string decodes all but the escapes of the query's delimiters.
std::string URL::query_string() const { return unquote_impl(query_, true, "=+&;"); }
MultiDict URL::query() const { return MultiDict(parse_qsl(query_, true)); }
std::string URL::fragment() const { return unquote_impl(fragment_, false); }
std::string URL::path_qs() const {
  std::string out = path();
  if (!query_.empty()) {
    out += '?';
    out += query_string();
  }
  return out;
}
std::string URL::raw_path_qs() const {
  std::string out = raw_path();
  if (!query_.empty()) {
    out += '?';
    out += query_;
  }
  return out;
}

std::string URL::raw_name() const {
  const std::string& p = raw_path();
  if (p.empty() || p == "/") return {};
  auto slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}
std::string URL::name() const { return unquote_impl(raw_name(), false); }
std::string URL::suffix() const {
  std::string n = name();
  auto dot = n.rfind('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == n.size()) return {};
  return n.substr(dot);
}
std::vector<std::string> URL::parts() const {
  std::vector<std::string> out;
  std::string_view p = raw_path();
  if (p.starts_with('/')) {
    out.emplace_back("/");
    p.remove_prefix(1);
    if (p.empty()) return out;
  } else if (p.empty()) {
    return out;
  }
  for (;;) {
    auto slash = p.find('/');
    out.push_back(unquote_impl(p.substr(0, slash), false));
    if (slash == std::string_view::npos) break;
    p.remove_prefix(slash + 1);
  }
  return out;
}
URL URL::parent() const {
  URL u = *this;
  u.query_.clear();
  u.fragment_.clear();
  const std::string& p = raw_path();
  if (p.empty() || p == "/") return u;
  std::string_view trimmed = p;
  auto slash = trimmed.rfind('/');
  u.path_ = slash == std::string_view::npos ? std::string() : std::string(trimmed.substr(0, slash));
  if (u.path_.empty() && p.starts_with('/')) u.path_ = "/";
  return u;
}

URL URL::origin() const {
  if (!is_absolute()) throw ValueError("URL should be absolute");
  if (scheme_.empty()) throw ValueError("URL should have scheme");
  URL u;
  u.scheme_ = scheme_;
  u.authority_ = true;
  u.host_ = host_;
  u.port_ = port_;
  return u;
}
URL URL::relative() const {
  if (!is_absolute()) throw ValueError("URL should be absolute");
  URL u;
  u.path_ = raw_path();
  u.query_ = query_;
  u.fragment_ = fragment_;
  return u;
}

// ---------------------------------------------------------------------------
// Joining (RFC 3986 5.2.2, with 5.2.3's merge)

URL URL::join(const URL& ref) const {
  URL t;
  if (!ref.scheme_.empty()) {
    t = ref;
    t.path_ = remove_dot_segments(ref.path_);
    t.normalize_path();
    return t;
  }
  t.scheme_ = scheme_;
  if (ref.authority_) {
    t.authority_ = true;
    t.user_ = ref.user_;
    t.password_ = ref.password_;
    t.host_ = ref.host_;
    t.port_ = ref.port_;
    t.path_ = remove_dot_segments(ref.path_);
    t.query_ = ref.query_;
  } else {
    t.authority_ = authority_;
    t.user_ = user_;
    t.password_ = password_;
    t.host_ = host_;
    t.port_ = port_;
    if (ref.path_.empty()) {
      t.path_ = path_;
      t.query_ = ref.query_.empty() ? query_ : ref.query_;
    } else {
      if (ref.path_.starts_with('/')) {
        t.path_ = remove_dot_segments(ref.path_);
      } else {
        std::string merged;
        if (authority_ && path_.empty()) {
          merged = "/" + ref.path_;
        } else {
          auto slash = path_.rfind('/');
          merged = slash == std::string::npos ? ref.path_ : path_.substr(0, slash + 1) + ref.path_;
        }
        t.path_ = remove_dot_segments(merged);
      }
      t.query_ = ref.query_;
    }
  }
  t.fragment_ = ref.fragment_;
  t.normalize_path();
  return t;
}

URL URL::operator/(std::string_view segment) const {
  URL u = *this;
  u.query_.clear();
  u.fragment_.clear();
  std::string seg = segment_quoter()(segment, false);
  std::string p = path_;
  if (p.empty() && authority_) p = "/";
  if (!p.empty() && !p.ends_with('/')) p += '/';
  p += seg;
  u.path_ = std::move(p);
  u.normalize_path();
  return u;
}

// ---------------------------------------------------------------------------
// with_*

URL URL::with_scheme(std::string_view scheme) const {
  if (!valid_scheme(scheme)) throw ValueError("Invalid scheme: " + std::string(scheme));
  URL u = *this;
  u.scheme_.assign(scheme);
  for (char& c : u.scheme_) c = ascii_lower(c);
  return u;
}
URL URL::with_user(std::optional<std::string_view> user) const {
  if (!is_absolute()) throw ValueError("user replacement is not allowed for relative URLs");
  URL u = *this;
  if (user)
    u.user_ = user_quoter()(*user, false);
  else {
    u.user_.reset();
    u.password_.reset();
  }
  return u;
}
URL URL::with_password(std::optional<std::string_view> password) const {
  if (!is_absolute()) throw ValueError("password replacement is not allowed for relative URLs");
  URL u = *this;
  if (password)
    u.password_ = user_quoter()(*password, false);
  else
    u.password_.reset();
  return u;
}
URL URL::with_host(std::string_view host) const {
  if (!is_absolute()) throw ValueError("host replacement is not allowed for relative URLs");
  if (host.empty()) throw ValueError("host removing is not allowed");
  URL u = *this;
  if (host.find(':') != std::string_view::npos) {
    auto v6 = canonical_ipv6(host);
    if (!v6) invalid(host, "Invalid IPv6 URL");
    u.host_ = std::move(*v6);
  } else {
    auto reg = normalize_reg_name(host);
    if (!reg) invalid(host, "Invalid host");
    u.host_ = std::move(*reg);
  }
  return u;
}
URL URL::with_port(std::optional<int> port) const {
  if (port && (*port < 0 || *port > 65535)) throw ValueError("port must be between 0 and 65535, got " + std::to_string(*port));
  if (!is_absolute()) throw ValueError("port replacement is not allowed for relative URLs");
  URL u = *this;
  u.port_ = port;
  return u;
}
URL URL::with_path(std::string_view path, bool encoded) const {
  URL u = *this;
  std::string p = encoded ? std::string(path) : path_quoter()(path, false);
  if (authority_ && !p.empty() && !p.starts_with('/')) p.insert(p.begin(), '/');
  u.path_ = std::move(p);
  u.normalize_path(!encoded);
  u.query_.clear();
  u.fragment_.clear();
  return u;
}
URL URL::with_raw_query(std::string q) const {
  URL u = *this;
  u.query_ = std::move(q);
  return u;
}
URL URL::with_query(const MultiDict& query) const { return with_raw_query(join_query_pairs(query.items())); }
URL URL::with_query(std::initializer_list<std::pair<std::string_view, std::string_view>> query) const {
  return with_query(MultiDict(query));
}
URL URL::with_query(const QueryPairs& query) const { return with_raw_query(join_query_pairs(query)); }
URL URL::with_query(std::string_view query) const { return with_raw_query(query_quoter()(query, false)); }

URL URL::update_query(const MultiDict& query) const {
  MultiDict merged = this->query();
  merged.update(query);
  return with_query(merged);
}
URL URL::update_query(std::initializer_list<std::pair<std::string_view, std::string_view>> query) const {
  return update_query(MultiDict(query));
}
URL URL::update_query(const QueryPairs& query) const { return update_query(MultiDict(query)); }
URL URL::update_query(std::string_view query) const {
  return update_query(MultiDict(parse_qsl(query_quoter()(query, false), true)));
}
URL URL::extend_query(const QueryPairs& query) const {
  std::string q = join_query_pairs(query);
  if (q.empty()) return *this;
  if (query_.empty()) return with_raw_query(std::move(q));
  return with_raw_query(query_ + "&" + q);
}
URL URL::extend_query(const MultiDict& query) const { return extend_query(query.items()); }
URL URL::extend_query(std::initializer_list<std::pair<std::string_view, std::string_view>> query) const {
  return extend_query(MultiDict(query));
}
URL URL::with_fragment(std::string_view fragment) const {
  URL u = *this;
  u.fragment_ = fragment_quoter()(fragment, false);
  return u;
}
URL URL::with_name(std::string_view name) const {
  if (name.find('/') != std::string_view::npos) throw ValueError("Slash in name is not allowed");
  if (name.empty() || name == "." || name == "..") throw ValueError(". and .. values are forbidden");
  URL u = *this;
  std::string p = raw_path();
  std::string_view pv = p;
  if (!pv.empty() && pv != "/") {
    auto slash = pv.rfind('/');
    p = slash == std::string_view::npos ? std::string() : std::string(pv.substr(0, slash + 1));
  } else if (authority_) {
    p = "/";
  }
  p += segment_quoter()(name, false);
  u.path_ = std::move(p);
  u.normalize_path();
  u.query_.clear();
  u.fragment_.clear();
  return u;
}

// ---------------------------------------------------------------------------
// Output

std::string URL::str() const {
  std::string out;
  if (!scheme_.empty()) {
    out += scheme_;
    out += ':';
  }
  std::string_view p = path_;
  if (authority_) {
    out += "//";
    out += raw_authority();
    if (p.empty() && (!query_.empty() || !fragment_.empty())) p = "/";
  } else if (p.starts_with("//")) {
    out += "/.";  // RFC 3986 5.3: a path without authority may not start with "//"
  } else if (scheme_.empty()) {
    // A first segment with ':' would read as a scheme.
    auto colon = p.find(':');
    if (colon != std::string_view::npos && p.substr(0, colon).find('/') == std::string_view::npos) out += "./";
  }
  out += p;
  if (!query_.empty()) {
    out += '?';
    out += query_;
  }
  if (!fragment_.empty()) {
    out += '#';
    out += fragment_;
  }
  return out;
}

std::string URL::human_repr() const {
  std::string out;
  if (!scheme_.empty()) {
    out += scheme_;
    out += ':';
  }
  if (authority_) {
    out += "//";
    out += authority();
  }
  out += (authority_ && path_.empty() && (!query_.empty() || !fragment_.empty())) ? std::string("/") : path();
  if (!query_.empty()) {
    out += '?';
    out += query_string();
  }
  if (!fragment_.empty()) {
    out += '#';
    out += fragment();
  }
  return out;
}

bool operator==(const URL& a, const URL& b) noexcept {
  return a.scheme_ == b.scheme_ && a.authority_ == b.authority_ && a.user_ == b.user_ &&
         a.password_ == b.password_ && a.host_ == b.host_ && a.port_ == b.port_ &&
         a.raw_path() == b.raw_path() && a.query_ == b.query_ && a.fragment_ == b.fragment_;
}
std::strong_ordering operator<=>(const URL& a, const URL& b) noexcept {
  return a.str() <=> b.str();
}

// ---------------------------------------------------------------------------
// urllib.parse helpers

namespace {
std::string quote_impl(std::string_view s, std::string_view safe, bool plus) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c) || (c < 0x80 && safe.find(ch) != std::string_view::npos))
      out += ch;
    else if (plus && c == ' ')
      out += '+';
    else
      append_pct(out, c);
  }
  return out;
}
}  // namespace

std::string quote(std::string_view s, std::string_view safe) { return quote_impl(s, safe, false); }
std::string quote_plus(std::string_view s, std::string_view safe) { return quote_impl(s, safe, true); }
std::string unquote(std::string_view s) { return unquote_impl(s, false); }
std::string unquote_plus(std::string_view s) { return unquote_impl(s, true); }

std::string urlencode(const QueryPairs& query) {
  std::string out;
  for (const auto& [k, v] : query) {
    if (!out.empty()) out += '&';
    out += quote_plus(k);
    out += '=';
    out += quote_plus(v);
  }
  return out;
}
std::string urlencode(const MultiDict& query) { return urlencode(query.items()); }

QueryPairs parse_qsl(std::string_view qs, bool keep_blank_values) {
  QueryPairs out;
  while (true) {
    auto amp = qs.find('&');
    std::string_view field = qs.substr(0, amp);
    if (!field.empty()) {
      auto eq = field.find('=');
      if (eq == std::string_view::npos) {
        if (keep_blank_values) out.emplace_back(unquote_plus(field), std::string());
      } else if (eq + 1 < field.size() || keep_blank_values) {
        out.emplace_back(unquote_plus(field.substr(0, eq)), unquote_plus(field.substr(eq + 1)));
      }
    }
    if (amp == std::string_view::npos) break;
    qs.remove_prefix(amp + 1);
  }
  return out;
}

}  // namespace aio::http
