// The HTTP/1.1 parser (aio/http/parser.hpp): heads line by line, straight from the
// caller's buffer, and the body framing as a small state machine.
//
// A head is parsed in one pass when it is all there (the server's common case: a whole
// request in one read). When it is not, the pass stops at the incomplete line and saves
// its offset in MessageHead::scan_; later calls only check the new lines (syntax and
// limits, discarding what they find) until the blank line arrives, then parse the whole
// head once more to fill `out`. So a head fed a byte at a time costs about two passes,
// not one per call, and every view in `out` comes from the last call's buffer.
#include "aio/http/parser.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>

namespace aio::http {

namespace {

// ---------------------------------------------------------------------------------
// Character classes (RFC 9110 section 5.6.2, 5.5; RFC 3986)

enum : std::uint8_t {
  kToken = 1,    // tchar
  kField = 2,    // inside a field value or reason phrase: SP, HTAB, VCHAR, obs-text
  kTarget = 4,   // inside a request target: VCHAR but '#'
  kHost = 8,     // inside a Host value or an authority: unreserved, pct, sub-delims, ":[]"
};

constexpr std::array<std::uint8_t, 256> make_classes() {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    std::uint8_t v = 0;
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (alnum || (c != 0 && std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) !=
                                std::string_view::npos)) {
      v |= kToken;
    }
    if (c == ' ' || c == '\t' || (c >= 0x21 && c <= 0x7E) || c >= 0x80) v |= kField;
    if (c >= 0x21 && c <= 0x7E && c != '#') v |= kTarget;
    if (alnum || (c != 0 && std::string_view("-._~%!$&'()*+,;=:[]").find(static_cast<char>(c)) !=
                                std::string_view::npos)) {
      v |= kHost;
    }
    t[static_cast<std::size_t>(c)] = v;
  }
  return t;
}
constexpr auto kClasses = make_classes();

inline bool is(char c, std::uint8_t cls) noexcept {
  return (kClasses[static_cast<unsigned char>(c)] & cls) != 0;
}

inline bool all_of(std::string_view s, std::uint8_t cls) noexcept {
  for (char c : s) {
    if (!is(c, cls)) return false;
  }
  return true;
}

inline bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
inline bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }
inline char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// ASCII case-insensitive equality.
inline bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

inline std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

// Calls f(element) for each element of a comma-separated list (RFC 9110 section 5.6.1),
// each without its surrounding whitespace; empty elements are passed too.
template <class F>
void for_each_element(std::string_view list, F&& f) {
  for (;;) {
    const std::size_t comma = list.find(',');
    f(trim(list.substr(0, comma)));
    if (comma == std::string_view::npos) return;
    list.remove_prefix(comma + 1);
  }
}

// ---------------------------------------------------------------------------------
// Lines

// The messages aiohttp's parser uses for its limits.
constexpr const char* kStartLineWhat = "Status line is too long";
constexpr const char* kFieldWhat = "request header";

// One header or trailer field line (without CRLF, not empty): name ":" OWS value OWS.
// The caller has checked that it does not start with whitespace (obsolete folding).
HeaderField parse_field(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size() && is(line[i], kToken)) ++i;
  // No name, whitespace (or anything else) before the colon, or no colon at all.
  if (i == 0 || i == line.size() || line[i] != ':') throw InvalidHeader(line);
  const std::string_view value = line.substr(i + 1);
  // Control characters (a bare CR, NUL, ...) and DEL are rejected, not stripped.
  if (!all_of(value, kField)) throw InvalidHeader(line);
  return {line.substr(0, i), trim(value)};
}

enum class VersionCheck { ok, unsupported, malformed };

// "HTTP/" DIGIT "." DIGIT; only 1.0 and 1.1 are ok.
VersionCheck parse_version(std::string_view v, int& major, int& minor) noexcept {
  if (v.size() != 8 || v.substr(0, 5) != "HTTP/" || !is_digit(v[5]) || v[6] != '.' ||
      !is_digit(v[7])) {
    return VersionCheck::malformed;
  }
  major = v[5] - '0';
  minor = v[7] - '0';
  return major == 1 && minor <= 1 ? VersionCheck::ok : VersionCheck::unsupported;
}

void check_version(std::string_view v, std::string_view line, MessageHead& out) {
  switch (parse_version(v, out.version_major, out.version_minor)) {
    case VersionCheck::ok:
      return;
    case VersionCheck::unsupported:
      throw HttpVersionNotSupported(line);
    case VersionCheck::malformed:
      break;
  }
  throw BadStatusLine(line);
}

// host ":" port, where host is a reg-name, an IPv4 address or an IP literal "[...]".
bool is_authority_form(std::string_view t) noexcept {
  const std::size_t colon = t.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  const std::string_view host = t.substr(0, colon), port = t.substr(colon + 1);
  if (port.empty() || port.size() > 5) return false;
  for (char c : port) {
    if (!is_digit(c)) return false;
  }
  if (host.front() == '[') return host.size() > 2 && host.back() == ']' && all_of(host, kHost);
  return all_of(host, kHost) && host.find_first_of(":[]") == std::string_view::npos;
}

// scheme "://" ... (RFC 3986 absolute-URI with an authority, as http(s) URIs have).
bool is_absolute_form(std::string_view t) noexcept {
  const std::size_t sep = t.find("://");
  if (sep == std::string_view::npos || sep == 0 || sep + 3 == t.size()) return false;
  const char first = t[0];
  if (!((first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z'))) return false;
  for (char c : t.substr(0, sep)) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '+' ||
                    c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// method SP request-target SP HTTP-version, each separated by exactly one SP.
void parse_request_line(std::string_view line, MessageHead& out) {
  const std::size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) throw BadStatusLine(line);
  const std::size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) throw BadStatusLine(line);
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (method.empty() || !all_of(method, kToken)) throw BadStatusLine(line);
  check_version(line.substr(sp2 + 1), line, out);
  if (target.empty() || !all_of(target, kTarget)) {
    throw InvalidURLError("Invalid request target " + py_repr(target));
  }
  bool ok;
  if (method == "CONNECT") {
    ok = is_authority_form(target);
  } else if (target == "*") {
    ok = method == "OPTIONS";
  } else {
    ok = target.front() == '/' || is_absolute_form(target);
  }
  if (!ok) throw InvalidURLError("Invalid request target " + py_repr(target) + " for " + std::string(method));
  out.method = method;
  out.target = target;
}

// HTTP-version SP 3DIGIT [SP reason-phrase]: the reason (and its SP) may be missing, as
// aiohttp and browsers accept.
void parse_status_line(std::string_view line, MessageHead& out) {
  if (line.size() < 8) throw BadStatusLine(line);
  check_version(line.substr(0, 8), line, out);
  if (line.size() < 12 || line[8] != ' ' || line[9] < '1' || line[9] > '9' || !is_digit(line[10]) ||
      !is_digit(line[11])) {
    throw BadStatusLine(line);
  }
  if (line.size() > 12 && (line[12] != ' ' || !all_of(line.substr(13), kField))) {
    throw BadStatusLine(line);
  }
  out.status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  out.reason = line.size() > 12 ? line.substr(13) : std::string_view{};
}

// ---------------------------------------------------------------------------------
// Heads

// What the fields say about framing and the connection, gathered in the final pass.
// Nothing here throws: a bad value is noted and reported once the head is complete,
// so the error never depends on where the input was cut.
struct Framing {
  bool has_cl = false, cl_bad = false, cl_differs = false;
  std::uint64_t cl = 0;
  bool has_te = false;
  unsigned te_codings = 0, te_chunked = 0;
  bool te_last_chunked = false, te_bad = false;
  bool close = false, keep_alive = false, conn_upgrade = false;
  bool has_upgrade = false, expect_continue = false;
  unsigned hosts = 0;
  bool host_bad = false;
};

void content_length(std::string_view value, Framing& f) {
  for_each_element(value, [&](std::string_view v) {
    if (v.empty()) f.cl_bad = true;
    std::uint64_t n = 0;
    for (char c : v) {
      const auto d = static_cast<std::uint64_t>(c - '0');
      if (!is_digit(c) || n > (std::numeric_limits<std::uint64_t>::max() - d) / 10) {
        f.cl_bad = true;
        return;
      }
      n = n * 10 + d;
    }
    // RFC 9110 8.6: repeated identical values are one value; different ones are fatal.
    if (f.has_cl && n != f.cl) f.cl_differs = true;
    f.has_cl = true;
    f.cl = n;
  });
}

void transfer_encoding(std::string_view value, Framing& f) {
  f.has_te = true;
  for_each_element(value, [&](std::string_view v) {
    if (v.empty() || !all_of(v, kToken)) {
      f.te_bad = true;
      return;
    }
    ++f.te_codings;
    f.te_last_chunked = iequals(v, "chunked");
    if (f.te_last_chunked) ++f.te_chunked;
  });
}

void connection(std::string_view value, Framing& f) {
  for_each_element(value, [&](std::string_view v) {
    if (iequals(v, "close")) {
      f.close = true;
    } else if (iequals(v, "keep-alive")) {
      f.keep_alive = true;
    } else if (iequals(v, "upgrade")) {
      f.conn_upgrade = true;
    }
  });
}

// Looks at the fields that decide framing and the connection (names compared ASCII
// case-insensitively, dispatched on length so most fields cost one switch).
void note_field(const HeaderField& h, Framing& f) {
  switch (h.name.size()) {
    case 4:
      if (iequals(h.name, "host")) {
        ++f.hosts;
        if (!all_of(h.value, kHost)) f.host_bad = true;
      }
      break;
    case 6:
      if (iequals(h.name, "expect") && iequals(h.value, "100-continue")) f.expect_continue = true;
      break;
    case 7:
      if (iequals(h.name, "upgrade")) f.has_upgrade = true;
      break;
    case 10:
      if (iequals(h.name, "connection")) connection(h.value, f);
      break;
    case 14:
      if (iequals(h.name, "content-length")) content_length(h.value, f);
      break;
    case 17:
      if (iequals(h.name, "transfer-encoding")) transfer_encoding(h.value, f);
      break;
    default:
      break;
  }
}

void reset(MessageHead& out) noexcept {
  out.method = out.target = out.reason = {};
  out.status = 0;
  out.version_major = out.version_minor = 1;
  out.headers.clear();
  out.body = BodyKind::none;
  out.content_length = 0;
  out.keep_alive = true;
  out.expect_continue = out.upgrade = false;
}

// Walks the lines of a head from `pos` (the start of line number `lines`, 0 being the
// start line). With `store`, fills `out` and `framing`; without, only checks each line.
// Returns the head's size when the blank line is reached, or 0 with out.scan_ saved at
// the first incomplete line.
std::size_t walk(std::string_view buf, std::size_t pos, std::size_t lines, MessageHead& out,
                 const ParserLimits& lim, bool request, bool store, Framing& framing) {
  const char* const p = buf.data();
  const std::size_t n = buf.size();
  for (;;) {
    const std::size_t limit = lines == 0 ? lim.max_line_size : lim.max_field_size;
    // (memchr may not be given a null pointer, which an empty view can hold.)
    const void* lf = pos < n ? std::memchr(p + pos, '\n', n - pos) : nullptr;
    if (lf == nullptr) {
      // The line so far, when it is already over its limit (one byte more may be its CR).
      if (const std::size_t partial = n - pos; partial > limit + 1) {
        throw LineTooLong(lines == 0 ? kStartLineWhat : kFieldWhat, limit, partial);
      }
      out.scan_ = {pos, lines, n};
      return 0;
    }
    const auto e = static_cast<std::size_t>(static_cast<const char*>(lf) - p);
    // The length first, as for an incomplete line, so the error does not depend on
    // whether the LF has arrived.
    if (e - pos > limit + 1) {
      throw LineTooLong(lines == 0 ? kStartLineWhat : kFieldWhat, limit, e - pos - 1);
    }
    if (e == pos || p[e - 1] != '\r') {
      // A bare LF ends a line only in lenient parsers: the same bytes would frame
      // differently for a peer that accepts it.
      const std::string_view bad(p + pos, e - pos);
      if (lines == 0) throw BadStatusLine(bad, "Bad status line " + py_repr(bad) + ": LF without CR");
      throw InvalidHeader(bad);
    }
    const std::string_view line(p + pos, e - 1 - pos);
    if (lines == 0) {
      if (request) {
        parse_request_line(line, out);
      } else {
        parse_status_line(line, out);
      }
    } else if (line.empty()) {
      return e + 1;
    } else {
      if (lines - 1 >= lim.max_headers) throw BadHttpMessage("Too many headers");
      // Obsolete line folding, or whitespace between the start line and the first field.
      if (is_blank(line.front())) throw InvalidHeader(line);
      const HeaderField field = parse_field(line);
      if (store) {
        out.headers.push_back(field);
        note_field(field, framing);
      }
    }
    ++lines;
    pos = e + 1;
  }
}

// Framing and connection rules common to requests and responses.
void check_framing(const Framing& f, const MessageHead& out, const char* which) {
  if (f.cl_bad) throw InvalidHeader("Content-Length");
  if (f.cl_differs) throw BadHttpMessage("Duplicate 'Content-Length' header found.");
  if (f.has_te && f.has_cl) throw BadHttpMessage("Transfer-Encoding can't be present with Content-Length");
  if (f.has_te && out.version_minor == 0) {
    // RFC 9112 6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
    throw BadHttpMessage("Transfer-Encoding can't be present in an HTTP/1.0 message");
  }
  if (f.has_te && (f.te_bad || f.te_codings == 0 || f.te_chunked > 1 ||
                   (f.te_chunked == 1 && !f.te_last_chunked))) {
    throw BadHttpMessage(std::string(which) + " has invalid `Transfer-Encoding`");
  }
}

bool keep_alive(const Framing& f, const MessageHead& out) noexcept {
  if (f.close) return false;
  return out.version_minor >= 1 || f.keep_alive;
}

std::size_t parse_head(std::string_view buf, MessageHead& out, const ParserLimits& lim, bool request,
                       std::string_view request_method) {
  std::size_t start = 0;
  if (request && !buf.empty() && buf.front() == '\r') {
    // One empty line before a request line is ignored (RFC 9112 section 2.2).
    if (buf.size() == 1) return 0;
    if (buf[1] != '\n') throw BadStatusLine(buf.substr(0, 2));
    start = 2;
  }
  Framing framing;
  detail::HeadScan& scan = out.scan_;
  if (scan.offset > start && scan.size <= buf.size()) {
    // Resuming: check only the lines that arrived since, until the head is whole. On
    // an error, the full walk below reports the first one in order, as a single call
    // on these bytes would.
    try {
      if (walk(buf, scan.offset, scan.lines, out, lim, request, false, framing) == 0) return 0;
    } catch (const BadHttpMessage&) {
    }
  }
  scan = {};
  reset(out);
  if (out.headers.capacity() == 0) out.headers.reserve(32);
  const std::size_t size = walk(buf, start, 0, out, lim, request, true, framing);
  if (size == 0) return 0;
  scan = {};

  const auto& f = framing;
  if (request) {
    if (out.version_minor == 1 && f.hosts == 0) throw BadHttpMessage("Missing 'Host' header");
    if (f.hosts > 1) throw BadHttpMessage("Duplicate 'Host' header found.");
    if (f.host_bad) throw InvalidHeader("Host");
    check_framing(f, out, "Request");
    if (f.has_te) {
      // A server decodes no transfer coding but chunked, so any other is refused.
      if (f.te_codings != 1 || !f.te_last_chunked) {
        throw BadHttpMessage("Request has invalid `Transfer-Encoding`");
      }
      out.body = BodyKind::chunked;
    } else if (f.has_cl) {
      out.content_length = f.cl;
      out.body = f.cl != 0 ? BodyKind::length : BodyKind::none;
    }
    out.keep_alive = keep_alive(f, out);
    out.expect_continue = out.version_minor == 1 && f.expect_continue;
    out.upgrade = (f.conn_upgrade && f.has_upgrade) || out.method == "CONNECT";
  } else {
    check_framing(f, out, "Response");
    const bool connect_ok = request_method == "CONNECT" && out.status / 100 == 2;
    out.content_length = f.has_cl ? f.cl : 0;
    if (request_method == "HEAD" || out.status < 200 || out.status == 204 || out.status == 304 ||
        connect_ok) {
      out.body = BodyKind::none;
    } else if (f.has_te) {
      out.body = f.te_last_chunked ? BodyKind::chunked : BodyKind::until_close;
    } else if (f.has_cl) {
      out.body = f.cl != 0 ? BodyKind::length : BodyKind::none;
    } else {
      out.body = BodyKind::until_close;
    }
    out.keep_alive = keep_alive(f, out) && out.body != BodyKind::until_close;
    out.upgrade = out.status == 101 || connect_ok;
  }
  return size;
}

}  // namespace

std::optional<std::string_view> MessageHead::header(std::string_view name) const {
  for (const HeaderField& h : headers) {
    if (iequals(h.name, name)) return h.value;
  }
  return std::nullopt;
}

void MessageHead::clear() noexcept {
  reset(*this);
  scan_ = {};
}

std::size_t parse_request_head(std::string_view buf, MessageHead& out, const ParserLimits& limits) {
  return parse_head(buf, out, limits, true, {});
}

std::size_t parse_response_head(std::string_view buf, MessageHead& out, std::string_view request_method,
                                const ParserLimits& limits) {
  return parse_head(buf, out, limits, false, request_method);
}

// ---------------------------------------------------------------------------------
// Bodies

BodyDecoder::BodyDecoder(const MessageHead& head, const ParserLimits& limits)
    : state_(State::done), limits_(limits) {
  switch (head.body) {
    case BodyKind::none:
      break;
    case BodyKind::length:
      remaining_ = head.content_length;
      state_ = remaining_ != 0 ? State::length : State::done;
      break;
    case BodyKind::chunked:
      state_ = State::size;
      break;
    case BodyKind::until_close:
      state_ = State::until_close;
      break;
  }
}

namespace {

inline int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

BodyDecoder::Step BodyDecoder::feed(std::string_view in) {
  if (state_ == State::failed) std::rethrow_exception(error_);
  std::size_t pos = 0;
  std::string_view data;
  try {
    return decode(in, pos, data);
  } catch (const BadHttpMessage&) {
    if (data.empty()) throw;
    // Give the data this step took first; the error comes with the next call.
    error_ = std::current_exception();
    state_ = State::failed;
    return {pos, data, false};
  }
}

BodyDecoder::Step BodyDecoder::decode(std::string_view in, std::size_t& pos, std::string_view& data) {
  const std::size_t n = in.size();
  bool have_data = false;
  // The chunk-size line (size, blanks, extensions, CR) is bounded by max_line_size.
  auto size_byte = [&] {
    if (++line_len_ > limits_.max_line_size) {
      throw TransferEncodingError("Chunk size line is longer than " +
                                  std::to_string(limits_.max_line_size) + " bytes");
    }
  };
  for (;;) {
    switch (state_) {
      case State::done:
        return {pos, data, true};
      case State::failed:
        std::rethrow_exception(error_);

      case State::length: {
        if (pos == n) return {pos, data, false};
        const auto k = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, n - pos));
        data = in.substr(pos, k);
        pos += k;
        remaining_ -= k;
        if (remaining_ == 0) state_ = State::done;
        return {pos, data, state_ == State::done};
      }

      case State::until_close:
        return {n, in.substr(pos), false};

      case State::size: {
        if (pos == n) return {pos, data, false};
        const char c = in[pos];
        size_byte();
        if (const int v = hex_value(c); v >= 0) {
          if (remaining_ >> 60 != 0) throw TransferEncodingError("Chunk size is too large");
          remaining_ = remaining_ * 16 + static_cast<unsigned>(v);
          ++digits_;
        } else if (digits_ == 0) {
          throw TransferEncodingError("Invalid chunk size: no hex digits");
        } else if (is_blank(c)) {
          state_ = State::size_ws;
        } else if (c == ';') {
          state_ = State::ext;
        } else if (c == '\r') {
          state_ = State::size_lf;
        } else {
          throw TransferEncodingError("Invalid chunk size: unexpected " + py_repr(std::string_view(&c, 1)));
        }
        ++pos;
        break;
      }

      case State::size_ws: {
        // BWS is allowed only before an extension's ';' (RFC 9112 section 7.1.1).
        if (pos == n) return {pos, data, false};
        const char c = in[pos];
        size_byte();
        if (c == ';') {
          state_ = State::ext;
        } else if (!is_blank(c)) {
          throw TransferEncodingError("Invalid chunk size: whitespace not before an extension");
        }
        ++pos;
        break;
      }

      case State::ext: {
        // Chunk extensions are skipped; they may not hold control characters.
        if (pos == n) return {pos, data, false};
        const char c = in[pos];
        size_byte();
        if (c == '\r') {
          state_ = State::size_lf;
        } else if (!is(c, kField)) {
          throw TransferEncodingError("Invalid character in a chunk extension");
        }
        ++pos;
        break;
      }

      case State::size_lf:
        if (pos == n) return {pos, data, false};
        if (in[pos] != '\n') throw TransferEncodingError("Chunk size line: CR not followed by LF");
        ++pos;
        line_len_ = 0;
        digits_ = 0;
        state_ = remaining_ != 0 ? State::data : State::trailer;
        break;

      case State::data: {
        if (have_data || pos == n) return {pos, data, false};
        const auto k = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, n - pos));
        data = in.substr(pos, k);
        have_data = true;
        pos += k;
        remaining_ -= k;
        if (remaining_ == 0) state_ = State::data_cr;
        break;
      }

      case State::data_cr:
        if (pos == n) return {pos, data, false};
        if (in[pos] != '\r') throw TransferEncodingError("Chunk data is not followed by CRLF");
        ++pos;
        state_ = State::data_lf;
        break;

      case State::data_lf:
        if (pos == n) return {pos, data, false};
        if (in[pos] != '\n') throw TransferEncodingError("Chunk data is not followed by CRLF");
        ++pos;
        state_ = State::size;
        break;

      case State::trailer: {
        // Trailer lines are collected in line_ (they are copied anyway), so a line split
        // across feeds is consumed as it comes.
        const void* lf = pos < n ? std::memchr(in.data() + pos, '\n', n - pos) : nullptr;
        const std::size_t end = lf != nullptr ? static_cast<std::size_t>(static_cast<const char*>(lf) - in.data()) : n;
        line_.append(in.substr(pos, end - pos));
        pos = end;
        if (line_.size() > limits_.max_field_size + 1) {
          throw LineTooLong(kFieldWhat, limits_.max_field_size, line_.size());
        }
        if (lf == nullptr) return {pos, data, false};
        ++pos;
        if (line_.empty() || line_.back() != '\r') throw InvalidHeader(line_);
        line_.pop_back();
        if (line_.empty()) {
          state_ = State::done;
          break;
        }
        if (trailers_.size() >= limits_.max_headers) throw BadHttpMessage("Too many headers");
        if (is_blank(line_.front())) throw InvalidHeader(line_);
        const HeaderField f = parse_field(line_);
        trailers_.emplace_back(std::string(f.name), std::string(f.value));
        line_.clear();
        break;
      }
    }
  }
}

void BodyDecoder::feed_eof() {
  switch (state_) {
    case State::done:
      return;
    case State::until_close:
      state_ = State::done;
      return;
    case State::failed:
      std::rethrow_exception(error_);
    case State::length:
      throw ContentLengthError("Not enough data for satisfy content length header.");
    default:
      throw TransferEncodingError("Not enough data for satisfy transfer length header.");
  }
}

}  // namespace aio::http
