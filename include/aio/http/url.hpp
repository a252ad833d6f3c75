// aio/http/url.hpp: yarl.URL, the URL type of aiohttp, and urllib.parse's quoting
// helpers.
//
// A URL is parsed per RFC 3986 and kept normalized and percent-encoded as yarl keeps
// it: scheme and host in lower case, characters that may not appear raw in a component
// percent-encoded, valid %XX escapes kept (hex digits upper-cased), invalid ones
// encoded as %25XX. The raw_* accessors return the encoded form, the others decode.
// A URL is a value: every with_*() returns a new URL.
#pragma once

#include <compare>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aio/http/headers.hpp"

namespace aio::http {

/// Query parameters as pairs (yarl also takes a sequence of pairs).
using QueryPairs = std::vector<std::pair<std::string, std::string>>;

class URL {
 public:
  /// The empty relative URL (yarl's URL()).
  URL() = default;
  /// Parses `s` (absolute, or a relative reference). Throws InvalidURL (aio/http/
  /// exceptions.hpp) whose message names the URL: a bad port ("Port could not be
  /// cast to integer value", out of range), an unclosed IPv6 bracket, an invalid IPv6
  /// literal, a control character or space in the host.
  explicit URL(std::string_view s);
  /// As URL(s) when `encoded` is false; when true, `s` is taken as already encoded and
  /// only split (yarl's URL(s, encoded=True)).
  URL(std::string_view s, bool encoded);

  // --- components (decoded unless raw_) ---
  const std::string& scheme() const noexcept { return scheme_; }
  std::optional<std::string> user() const;
  const std::optional<std::string>& raw_user() const noexcept { return user_; }
  std::optional<std::string> password() const;
  const std::optional<std::string>& raw_password() const noexcept { return password_; }
  /// The host, without brackets for IPv6 (yarl's host); nullopt for a relative URL.
  /// A non-ASCII host is kept in IDNA form in raw_host() ("xn--9ca.com", punycode of
  /// each label, lower-cased first) and decoded in host() ("\u00e9.com"). The lower-casing
  /// covers Latin-1, Latin Extended-A, Greek and Cyrillic capitals, not all of UTS 46.
  std::optional<std::string> host() const;
  const std::optional<std::string>& raw_host() const noexcept { return host_; }
  /// The explicit port, else the scheme's default (http/ws 80, https/wss 443), else
  /// nullopt.
  std::optional<int> port() const noexcept;
  std::optional<int> explicit_port() const noexcept { return port_; }
  bool is_default_port() const noexcept;
  /// "user:pass@host:port" as written (raw) or decoded.
  std::string raw_authority() const;
  std::string authority() const;
  /// The path decoded ("/a b"), "/" for an absolute URL with an empty path.
  std::string path() const;
  const std::string& raw_path() const noexcept;
  /// The query decoded ('+' as space), without '?'.
  std::string query_string() const;
  const std::string& raw_query_string() const noexcept { return query_; }
  /// The query as a MultiDict of decoded pairs (parse_qsl with blank values kept).
  MultiDict query() const;
  std::string fragment() const;
  const std::string& raw_fragment() const noexcept { return fragment_; }
  /// path?query (decoded / raw).
  std::string path_qs() const;
  std::string raw_path_qs() const;
  /// The last path segment (yarl's name / raw_name) and its suffix (".txt").
  std::string name() const;
  std::string raw_name() const;
  std::string suffix() const;
  /// The decoded path segments, "/" first for an absolute path (yarl's parts).
  std::vector<std::string> parts() const;
  /// The URL of the path's parent, without query and fragment.
  URL parent() const;

  /// Has a host (yarl's is_absolute).
  bool is_absolute() const noexcept { return host_.has_value(); }
  /// scheme://host[:port] only (no user, path, query, fragment). Throws ValueError
  /// ("URL should be absolute") for a relative URL.
  URL origin() const;
  /// path?query#fragment only.
  URL relative() const;

  /// Resolves `ref` against this URL as RFC 3986 section 5.2 says (dot segments of the
  /// merged path removed).
  URL join(const URL& ref) const;
  /// Appends one path segment, percent-encoded ('/' included as %2F), and drops the
  /// query and fragment (yarl's url / "segment").
  URL operator/(std::string_view segment) const;

  URL with_scheme(std::string_view scheme) const;
  URL with_user(std::optional<std::string_view> user) const;
  URL with_password(std::optional<std::string_view> password) const;
  URL with_host(std::string_view host) const;
  URL with_port(std::optional<int> port) const;
  /// A new decoded path (encoded when `encoded` is false); drops query and fragment.
  URL with_path(std::string_view path, bool encoded = false) const;
  /// Replaces the query: from pairs (encoded as a form: spaces as '+'), or from a
  /// query string (encoded as needed). An empty query removes it.
  URL with_query(const MultiDict& query) const;
  URL with_query(std::initializer_list<std::pair<std::string_view, std::string_view>> query) const;
  URL with_query(const QueryPairs& query) const;
  URL with_query(std::string_view query) const;
  /// Merges into the query: each key given replaces the key's values (MultiDict.update).
  URL update_query(const MultiDict& query) const;
  URL update_query(std::initializer_list<std::pair<std::string_view, std::string_view>> query) const;
  URL update_query(const QueryPairs& query) const;
  URL update_query(std::string_view query) const;
  /// Appends to the query, keeping the values already there (yarl 1.9's extend_query;
  /// what aiohttp does with a request's params).
  URL extend_query(const MultiDict& query) const;
  URL extend_query(std::initializer_list<std::pair<std::string_view, std::string_view>> query) const;
  URL extend_query(const QueryPairs& query) const;
  URL with_fragment(std::string_view fragment) const;
  /// Replaces the last path segment; drops query and fragment.
  URL with_name(std::string_view name) const;

  /// The encoded URL (yarl's str(url)); an explicit default port is kept as written.
  std::string str() const;
  /// The URL decoded for people (yarl's human_repr).
  std::string human_repr() const;

  friend bool operator==(const URL& a, const URL& b) noexcept;
  friend std::strong_ordering operator<=>(const URL& a, const URL& b) noexcept;

 private:
  void parse(std::string_view s, bool encoded);
  void normalize_path(bool requote = true);
  URL with_raw_query(std::string q) const;

  std::string scheme_;  // lower case; empty for none
  bool authority_ = false;  // "//" was present (file:///x has one, with no host)
  std::optional<std::string> user_, password_, host_;  // encoded; host_ without brackets
  std::optional<int> port_;
  std::string path_, query_, fragment_;  // encoded
};

/// urllib.parse.quote: percent-encodes every byte of `s` (UTF-8) but the unreserved
/// characters (letters, digits, "-._~") and those in `safe`.
std::string quote(std::string_view s, std::string_view safe = "/");
/// urllib.parse.quote_plus: as quote(), and spaces as '+'.
std::string quote_plus(std::string_view s, std::string_view safe = "");
/// urllib.parse.unquote: decodes %XX escapes; an invalid escape stays as it is.
std::string unquote(std::string_view s);
/// urllib.parse.unquote_plus: as unquote(), and '+' as a space.
std::string unquote_plus(std::string_view s);
/// urllib.parse.urlencode of pairs: "a=1&b=x+y" (quote_plus of each key and value).
std::string urlencode(const MultiDict& query);
std::string urlencode(const QueryPairs& query);
/// urllib.parse.parse_qsl: splits on '&' (and, as Python 3.12, not on ';'), decodes
/// '+' and %XX; a field without '=' is dropped unless keep_blank_values (then its
/// value is empty), as is a field with an empty value.
QueryPairs parse_qsl(std::string_view qs, bool keep_blank_values = false);

}  // namespace aio::http
