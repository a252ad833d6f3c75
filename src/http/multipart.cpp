// Multipart bodies: the reader (a delimiter search over a buffer the source fills),
// Content-Disposition, and the writers.
#include "aio/http/multipart.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <limits>

#include "aio/errors.hpp"
#include "aio/http/client.hpp"
#include "aio/http/compression.hpp"
#include "aio/http/exceptions.hpp"
#include "aio/http/url.hpp"
#include "aio/http/web_exceptions.hpp"
#include "base64.hpp"
#include "text.hpp"

namespace aio::http {

namespace {

constexpr std::size_t kMaxBoundary = 70;       // RFC 2046 section 5.1.1
constexpr std::size_t kMaxHead = 16 * 1024;    // a part's header block
constexpr std::size_t kMaxLine = 64 * 1024;    // readline() and the boundary line's padding

using detail::trim_blanks;
using detail::ascii_lower;

// A header value's `type; name=value; name="quoted"` split into its type and its
// parameters (names lower-cased, values raw: quotes kept). nullopt when it does not
// parse: a parameter without '=', an unterminated quote.
struct RawParams {
  std::string_view type;
  std::vector<std::pair<std::string, std::string_view>> params;
};

std::optional<RawParams> split_params(std::string_view header) {
  RawParams out;
  std::size_t i = header.find(';');
  out.type = trim_blanks(header.substr(0, i));
  while (i != std::string_view::npos && i < header.size()) {
    ++i;  // past ';'
    while (i < header.size() && (header[i] == ' ' || header[i] == '\t')) ++i;
    if (i == header.size()) break;  // a trailing ';'
    const std::size_t eq = header.find('=', i);
    if (eq == std::string_view::npos) return std::nullopt;
    std::string name = ascii_lower(trim_blanks(header.substr(i, eq - i)));
    std::size_t v = eq + 1;
    while (v < header.size() && (header[v] == ' ' || header[v] == '\t')) ++v;
    std::size_t end;
    if (v < header.size() && header[v] == '"') {
      end = v + 1;
      while (end < header.size() && header[end] != '"') end += header[end] == '\\' ? 2 : 1;
      if (end >= header.size()) return std::nullopt;
      ++end;  // past the closing quote
      out.params.emplace_back(std::move(name), header.substr(v, end - v));
      while (end < header.size() && (header[end] == ' ' || header[end] == '\t')) ++end;
      if (end < header.size() && header[end] != ';') return std::nullopt;
      i = end;
    } else {
      end = header.find(';', v);
      out.params.emplace_back(std::move(name), trim_blanks(header.substr(v, end == std::string_view::npos ? end : end - v)));
      i = end;
    }
  }
  return out;
}

bool is_quoted(std::string_view v) noexcept { return v.size() >= 2 && v.front() == '"' && v.back() == '"'; }

// A quoted-string's content: backslash escapes undone, and the %22 %0D %0A that
// browsers and curl put in names (WHATWG's multipart/form-data encoding) decoded.
std::string unquote_value(std::string_view v) {
  v = v.substr(1, v.size() - 2);
  std::string out;
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) {
      out += v[++i];
    } else if (v[i] == '%' && i + 2 < v.size() && v[i + 1] == '2' && v[i + 2] == '2') {
      out += '"';
      i += 2;
    } else if (v[i] == '%' && i + 2 < v.size() && v[i + 1] == '0' && (v[i + 2] == 'D' || v[i + 2] == 'A')) {
      out += v[i + 2] == 'D' ? '\r' : '\n';
      i += 2;
    } else {
      out += v[i];
    }
  }
  return out;
}

// Percent-encoded bytes of `charset` as UTF-8; nullopt for a charset other than
// utf-8, us-ascii and iso-8859-1.
std::optional<std::string> decode_pct(std::string_view charset, std::string_view v) {
  std::string raw = unquote(v);
  if (charset == "utf-8" || charset == "us-ascii" || charset.empty()) return raw;
  if (charset != "iso-8859-1" && charset != "latin-1" && charset != "latin1") return std::nullopt;
  return detail::latin1_to_utf8(raw);
}

// RFC 8187's ext-value `charset'language'pct-encoded`: the charset (lower case) and the
// encoded value; nullopt when malformed.
std::optional<std::pair<std::string, std::string_view>> split_ext_value(std::string_view v) {
  const std::size_t q1 = v.find('\'');
  if (q1 == std::string_view::npos) return std::nullopt;
  const std::size_t q2 = v.find('\'', q1 + 1);
  if (q2 == std::string_view::npos) return std::nullopt;
  return std::make_pair(ascii_lower(v.substr(0, q1)), v.substr(q2 + 1));
}

// An ext-value as UTF-8, or nullopt.
std::optional<std::string> decode_ext_value(std::string_view v) {
  auto ext = split_ext_value(v);
  if (!ext) return std::nullopt;
  return decode_pct(ext->first, ext->second);
}

// RFC 2231's continuation names: `name*0`, `name*1*`, ...
bool is_continuation(std::string_view key) noexcept {
  const std::size_t star = key.find('*');
  return star != std::string_view::npos && star + 1 < key.size() && key[star + 1] >= '0' && key[star + 1] <= '9';
}

// Content-Type's parameter `name` (unquoted), or nullopt.
std::optional<std::string> media_param(std::string_view content_type, std::string_view name) {
  auto p = split_params(content_type);
  if (!p) return std::nullopt;
  for (const auto& [k, v] : p->params)
    if (k == name) return is_quoted(v) ? unquote_value(v) : std::string(v);
  return std::nullopt;
}

bool is_multipart_type(std::string_view content_type) {
  std::string_view type = trim_blanks(content_type.substr(0, content_type.find(';')));
  return type.size() > 10 && ascii_iequals(type.substr(0, 10), "multipart/");
}

// RFC 2046's bchars.
bool is_bchar(char c) noexcept {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("'()+_,-./:=? ").find(c) != std::string_view::npos;
}

std::string random_boundary() {
  unsigned char raw[16];
  if (RAND_bytes(raw, sizeof raw) != 1) throw RuntimeError("RAND_bytes failed: no multipart boundary");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string b;
  for (unsigned char c : raw) {
    b += kHex[c >> 4];
    b += kHex[c & 15];
  }
  return b;
}

// A Content-Disposition parameter's value as browsers write it: quoted, with '"', CR
// and LF as %22 %0D %0A and a backslash doubled.
void append_disposition_param(std::string& out, std::string_view name, std::string_view value) {
  out += "; ";
  out.append(name);
  out += "=\"";
  for (char c : value) {
    switch (c) {
      case '"': out += "%22"; break;
      case '\r': out += "%0D"; break;
      case '\n': out += "%0A"; break;
      case '\\': out += "\\\\"; break;
      default: out += c;
    }
  }
  out += '"';
}

// One part: "--boundary\r\n", its headers, a blank line, its body and "\r\n".
void write_part(std::string& out, std::string_view boundary, const CIMultiDict& headers, std::string_view body) {
  out += "--";
  out.append(boundary);
  out += "\r\n";
  for (const auto& [k, v] : headers) {
    if (v.find_first_of("\r\n") != std::string::npos)
      throw ValueError("Newline or carriage return character detected in a part's header value " + py_repr(v));
    out += k;
    out += ": ";
    out += v;
    out += "\r\n";
  }
  out += "\r\n";
  out.append(body);
  out += "\r\n";
}

void write_close(std::string& out, std::string_view boundary) {
  out += "--";
  out.append(boundary);
  out += "--\r\n";
}

std::string multipart_content_type(std::string_view subtype, const std::string& boundary) {
  std::string ct = "multipart/";
  ct.append(subtype);
  ct += "; boundary=";
  if (detail::is_token(boundary)) {
    ct += boundary;
  } else {
    ct += '"';
    ct += boundary;  // bchars hold no '"' or '\'
    ct += '"';
  }
  return ct;
}

std::string quoted_printable_decode(std::string_view in) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '=') {
      out += in[i];
      continue;
    }
    if (i + 1 < in.size() && in[i + 1] == '\n') {  // a soft line break
      i += 1;
    } else if (i + 2 < in.size() && in[i + 1] == '\r' && in[i + 2] == '\n') {
      i += 2;
    } else if (i + 2 < in.size() && hex(in[i + 1]) >= 0 && hex(in[i + 2]) >= 0) {
      out += static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2]));
      i += 2;
    } else {
      out += '=';  // not an escape: kept, as Python's quopri does
    }
  }
  return out;
}

}  // namespace

// --- Content-Disposition

std::pair<std::string, MultiDict> parse_content_disposition(std::string_view header) {
  auto raw = split_params(header);
  if (!raw || !detail::is_token(raw->type)) return {};
  MultiDict params;
  for (const auto& [key, value] : raw->params) {
    if (params.contains(key)) return {};  // a parameter given twice: ambiguous
    if (!detail::is_token(key)) continue;
    if (is_continuation(key)) {  // name*N (a plain piece) or name*N* (encoded, decoded once joined)
      if (key.back() == '*') {
        params.add(key, value);
      } else if (is_quoted(value)) {
        params.add(key, unquote_value(value));
      } else if (detail::is_token(value)) {
        params.add(key, value);
      }
    } else if (key.back() == '*') {  // name*=charset'lang'value
      if (auto v = decode_ext_value(value)) params.add(key, std::move(*v));
    } else if (is_quoted(value)) {
      std::string v = unquote_value(value);
      // aiohttp strips leading slashes and backslashes, so no value names a path
      // from the root.
      v.erase(0, v.find_first_not_of("\\/"));
      params.add(key, std::move(v));
    } else if (detail::is_token(value)) {
      params.add(key, value);
    } else {
      return {};
    }
  }
  return {ascii_lower(raw->type), std::move(params)};
}

std::optional<std::string> content_disposition_filename(const MultiDict& params, std::string_view name) {
  std::string key(name);
  key += '*';
  if (auto v = params.get(key)) return std::string(*v);
  if (auto v = params.get(name)) return std::string(*v);
  // Continuations: name*0, name*1, ... in order, as long as they run. An encoded piece
  // (name*N*) is percent-decoded in the charset the first one names.
  std::string joined;
  std::string charset = "utf-8";
  bool any = false;
  for (int n = 0;; ++n) {
    const std::string base = key + std::to_string(n);
    if (auto v = params.get(base)) {
      joined.append(*v);
    } else if (auto e = params.get(base + '*')) {
      std::string_view encoded = *e;
      if (n == 0) {
        auto ext = split_ext_value(encoded);
        if (!ext) break;
        charset = ext->first;
        encoded = ext->second;
      }
      auto piece = decode_pct(charset, encoded);
      if (!piece) break;
      joined += *piece;
    } else {
      break;
    }
    any = true;
  }
  if (!any) return std::nullopt;
  return joined;
}

// --- The reader

struct BodyPartReader::Source {
  MultipartReader::Read read;
  std::string boundary;  // without "--"
  std::string delim;     // "\r\n--" + boundary: a part ends where it starts
  // The body's bytes from `pos`. It starts with a CRLF of ours, so that a boundary line
  // at the very start is found as a delimiter like any other.
  std::string buf = "\r\n";
  std::size_t pos = 0;
  std::size_t search_from = 0;  // no delimiter starts in [pos, search_from)
  bool source_eof = false;
  bool started = false;  // the first delimiter was found: the preamble is behind
  bool done = false;     // the closing delimiter was read
  bool bad_request = false;
  bool form_data = false;  // multipart/form-data: parts carry no Content-Encoding (RFC 7578 4.8)
  std::string error;       // set by fail(): the body is broken, every later read fails alike
  std::unique_ptr<BodyPartReader> part;

  [[noreturn]] void fail(const std::string& what) {
    error = what;
    raise();
  }
  [[noreturn]] void raise() const {
    if (bad_request) throw HTTPBadRequest({.text = error});
    throw ValueError(error);
  }
  void check() const {
    if (!error.empty()) raise();
  }

  // More bytes from the source; false at its end.
  Coro<bool> fill() {
    if (source_eof) co_return false;
    std::string more = co_await read();
    if (more.empty()) {
      source_eof = true;
      co_return false;
    }
    if (pos > 0) {
      buf.erase(0, pos);
      search_from = search_from > pos ? search_from - pos : 0;
      pos = 0;
    }
    buf += more;
    co_return true;
  }

  // The co_await is a statement of its own: g++ 12 miscompiled `if (!co_await fill())
  // fail(...)` here (fail() is [[noreturn]]): the awaited coroutine never ran.
  Coro<void> fill_or_fail(const char* what) {
    const bool more = co_await fill();
    if (!more) fail(std::string("multipart body ended ") + what);
  }

  // Fills until `n` bytes are there from `pos`.
  Coro<void> want(std::size_t n, const char* what) {
    while (buf.size() - pos < n) {
      co_await fill_or_fail(what);
    }
  }

  // How many of the bytes at `pos` belong to the current part for sure; `end` tells
  // whether the delimiter follows them.
  std::size_t available(bool& end) {
    const std::size_t at = buf.find(delim, std::max(pos, search_from));
    if (at != std::string::npos) {
      end = true;
      search_from = at;
      return at - pos;
    }
    end = false;
    // The last delim.size() - 1 bytes may be the start of a delimiter.
    const std::size_t keep = delim.size() - 1;
    const std::size_t safe = buf.size() > keep ? buf.size() - keep : 0;
    search_from = std::max(search_from, safe);
    return safe > pos ? safe - pos : 0;
  }

  // Waits until the current part has bytes to give, or its end is in sight.
  Coro<std::size_t> part_bytes(bool& end) {
    check();
    for (;;) {
      const std::size_t n = available(end);
      if (n > 0 || end) co_return n;
      co_await fill_or_fail("before its closing boundary");
    }
  }

  // After next() found a delimiter at `pos`: the boundary line and the part's head.
  // Returns false for the closing delimiter.
  Coro<bool> read_boundary_line() {
    pos += delim.size();
    co_await want(2, "inside a boundary line");
    if (buf.compare(pos, 2, "--") == 0) {
      pos += 2;
      done = true;
      co_return false;
    }
    // Transport padding (RFC 2046: blanks before the line's CRLF), then CRLF.
    for (std::size_t n = 0;; ++n) {
      co_await want(1, "inside a boundary line");
      const char c = buf[pos];
      if (c != ' ' && c != '\t') break;
      if (n > kMaxLine) fail("multipart boundary line is too long");
      ++pos;
    }
    co_await want(2, "inside a boundary line");
    if (buf.compare(pos, 2, "\r\n") != 0)
      fail("Invalid multipart boundary line: '--" + boundary + "' followed by " +
           py_repr(std::string_view(buf).substr(pos, 2)) + ", not the end of the line");
    pos += 2;
    co_return true;
  }

  static std::string head_too_long() {
    return "multipart part's headers are over " + std::to_string(kMaxHead) + " bytes";
  }

  Coro<CIMultiDict> read_head() {
    std::size_t end;
    for (;;) {
      if (buf.size() - pos >= 2 && buf.compare(pos, 2, "\r\n") == 0) {
        end = pos;  // no header fields
        break;
      }
      end = buf.find("\r\n\r\n", pos);
      if (end != std::string::npos) {
        end += 2;
        break;
      }
      // Checked on what has come so far, and below on the whole head: the same answer
      // whatever pieces the body comes in.
      if (buf.size() - pos > kMaxHead + 2) fail(head_too_long());
      co_await fill_or_fail("inside a part's headers");
    }
    if (end - pos > kMaxHead) fail(head_too_long());
    std::vector<CIMultiDict::value_type> fields;
    std::string_view block(buf.data() + pos, end - pos);
    while (!block.empty()) {
      const std::size_t eol = block.find("\r\n");
      std::string_view line = block.substr(0, eol);
      block.remove_prefix(eol + 2);
      if (line.front() == ' ' || line.front() == '\t') {  // an obsolete folded line
        if (fields.empty() || line.find_first_of("\r\n") != std::string_view::npos)
          fail("Invalid multipart part header " + py_repr(line));
        fields.back().second += ' ';
        fields.back().second.append(trim_blanks(line));
        continue;
      }
      const std::size_t colon = line.find(':');
      if (colon == std::string_view::npos || !detail::is_token(line.substr(0, colon)) ||
          line.find_first_of("\r\n") != std::string_view::npos)
        fail("Invalid multipart part header " + py_repr(line));
      fields.emplace_back(std::string(line.substr(0, colon)), std::string(trim_blanks(line.substr(colon + 1))));
    }
    pos = end + 2;  // past the blank line
    co_return CIMultiDict(std::move(fields));
  }
};

namespace {
std::string line_too_long() { return "multipart part's line is over " + std::to_string(kMaxLine) + " bytes"; }
}  // namespace

std::optional<std::string> BodyPartReader::name() const {
  auto cd = headers_.get("Content-Disposition");
  if (!cd) return std::nullopt;
  return content_disposition_filename(parse_content_disposition(*cd).second, "name");
}

std::optional<std::string> BodyPartReader::filename() const {
  auto cd = headers_.get("Content-Disposition");
  if (!cd) return std::nullopt;
  return content_disposition_filename(parse_content_disposition(*cd).second, "filename");
}

std::string BodyPartReader::get_charset(std::string_view default_charset) const {
  auto ct = headers_.get("Content-Type");
  if (ct) {
    if (auto c = media_param(*ct, "charset")) return *c;
  }
  return std::string(default_charset);
}

Coro<std::string> BodyPartReader::read_chunk(std::size_t size) {
  if (at_eof_ || size == 0) co_return std::string();
  Source& s = *source_;
  bool end = false;
  const std::size_t n = co_await s.part_bytes(end);
  const std::size_t take = std::min(size, n);
  std::string out = s.buf.substr(s.pos, take);
  s.pos += take;
  if (end && take == n) at_eof_ = true;
  co_return out;
}

Coro<std::string> BodyPartReader::read(bool decode) {
  std::string out;
  for (;;) {
    std::string chunk = co_await read_chunk(std::numeric_limits<std::size_t>::max());
    if (chunk.empty()) break;
    if (out.empty()) {
      out = std::move(chunk);
    } else {
      out += chunk;
    }
  }
  if (decode) co_return this->decode(out);
  co_return out;
}

Coro<std::string> BodyPartReader::readline() {
  if (at_eof_) co_return std::string();
  Source& s = *source_;
  for (;;) {
    bool end = false;
    const std::size_t n = co_await s.part_bytes(end);
    const std::size_t nl = s.buf.find('\n', s.pos);
    if (nl != std::string::npos && nl < s.pos + n) {
      const std::size_t len = nl + 1 - s.pos;
      if (len > kMaxLine + 1) s.fail(line_too_long());
      std::string line = s.buf.substr(s.pos, len);
      s.pos += len;
      if (end && len == n) at_eof_ = true;
      co_return line;
    }
    if (n > kMaxLine) s.fail(line_too_long());
    if (end) {
      at_eof_ = true;
      std::string rest = s.buf.substr(s.pos, n);
      s.pos += n;
      co_return rest;
    }
    co_await s.fill_or_fail("before its closing boundary");
  }
}

Coro<std::string> BodyPartReader::text() { co_return co_await read(true); }

Coro<nlohmann::json> BodyPartReader::json() {
  std::string data = co_await read(true);
  if (data.empty()) co_return nlohmann::json();
  co_return nlohmann::json::parse(data);
}

Coro<MultiDict> BodyPartReader::form() {
  std::string data = co_await read(true);
  while (!data.empty() && (data.back() == '\r' || data.back() == '\n' || data.back() == ' ')) data.pop_back();
  co_return MultiDict(parse_qsl(data, true));
}

Coro<void> BodyPartReader::release() {
  Source& s = *source_;
  while (!at_eof_) {
    bool end = false;
    const std::size_t n = co_await s.part_bytes(end);
    s.pos += n;
    if (end) at_eof_ = true;
  }
}

std::string BodyPartReader::decode(std::string_view data) const {
  std::string out;
  const std::string cte = ascii_lower(trim_blanks(headers_.get("Content-Transfer-Encoding", "")));
  if (cte == "base64") {
    auto d = detail::base64_decode(data);
    if (!d) throw ValueError("Invalid base64 in a part with Content-Transfer-Encoding: base64");
    out = std::move(*d);
  } else if (cte == "quoted-printable") {
    out = quoted_printable_decode(data);
  } else if (cte.empty() || cte == "binary" || cte == "8bit" || cte == "7bit") {
    out = data;
  } else {
    throw RuntimeError("unknown content transfer encoding: " + cte);
  }
  const std::string ce = ascii_lower(trim_blanks(headers_.get("Content-Encoding", "")));
  if (source_->form_data || ce.empty() || ce == "identity") return out;
  if (ce != "gzip" && ce != "deflate") throw RuntimeError("unknown content encoding: " + ce);
  ZLibDecompressor z(ce);
  std::string plain = z.decompress(out, max_decompress_size + 1);
  if (plain.size() > max_decompress_size)
    throw ValueError("A multipart part decompresses to more than " + std::to_string(max_decompress_size) + " bytes");
  return plain;
}

bool BodyPartReader::is_multipart() const {
  auto ct = headers_.get("Content-Type");
  return ct && is_multipart_type(*ct);
}

MultipartReader BodyPartReader::multipart() {
  auto ct = headers_.get("Content-Type");
  if (!ct || !is_multipart_type(*ct)) throw ValueError("the part is not multipart: Content-Type " + py_repr(ct.value_or("")));
  MultipartReader inner(*ct, [this] { return read_chunk(); });
  inner.set_bad_request_errors(source_->bad_request);
  return inner;
}

MultipartReader::MultipartReader(std::string_view content_type, Read read) : s_(std::make_unique<BodyPartReader::Source>()) {
  if (!is_multipart_type(content_type))
    throw ValueError("multipart/* content type expected, got " + py_repr(content_type));
  auto boundary = media_param(content_type, "boundary");
  if (!boundary || boundary->empty()) throw ValueError("multipart Content-Type without a boundary: " + py_repr(content_type));
  if (boundary->size() > kMaxBoundary)
    throw ValueError("Invalid boundary " + py_repr(*boundary) + ", the boundary is too long");
  s_->read = std::move(read);
  s_->form_data = ascii_iequals(trim_blanks(content_type.substr(0, content_type.find(';'))), "multipart/form-data");
  s_->boundary = std::move(*boundary);
  s_->delim = "\r\n--" + s_->boundary;
}

MultipartReader MultipartReader::from_response(ClientResponse& response) {
  return MultipartReader(response.header("Content-Type").value_or(""),
                         [content = response.content()]() mutable { return content.readany(); });
}

MultipartReader::MultipartReader(MultipartReader&&) noexcept = default;
MultipartReader& MultipartReader::operator=(MultipartReader&&) noexcept = default;
MultipartReader::~MultipartReader() = default;

bool MultipartReader::at_eof() const noexcept { return s_->done; }
const std::string& MultipartReader::boundary() const noexcept { return s_->boundary; }
void MultipartReader::set_bad_request_errors(bool on) noexcept { s_->bad_request = on; }

Coro<BodyPartReader*> MultipartReader::next() {
  BodyPartReader::Source& s = *s_;
  if (s.part) {
    co_await s.part->release();
    s.part.reset();
  }
  if (s.done) co_return nullptr;
  s.check();
  if (!s.started) {  // the preamble, dropped
    for (;;) {
      bool end = false;
      s.pos += s.available(end);
      if (end) break;
      const bool more = co_await s.fill();
      if (!more) s.fail("multipart body has no boundary line '--" + s.boundary + "'");
    }
    s.started = true;
  }
  const bool another = co_await s.read_boundary_line();
  if (!another) co_return nullptr;
  CIMultiDict headers = co_await s.read_head();
  s.part.reset(new BodyPartReader(&s, std::move(headers)));
  co_return s.part.get();
}

Coro<void> MultipartReader::release() {
  while (co_await next() != nullptr) {
  }
}

// --- Writers

MultipartWriter::MultipartWriter(std::string_view subtype, std::string_view boundary)
    : subtype_(subtype), boundary_(boundary.empty() ? random_boundary() : std::string(boundary)) {
  if (boundary_.size() > kMaxBoundary || boundary_.back() == ' ' ||
      !std::all_of(boundary_.begin(), boundary_.end(), is_bchar))
    throw ValueError("Invalid boundary " + py_repr(boundary_) +
                     ": 1 to 70 of RFC 2046's characters, not ending with a space");
  if (!detail::is_token(subtype_)) throw ValueError("Invalid multipart subtype " + py_repr(subtype_));
}

MultipartWriter& MultipartWriter::append(std::string_view body, CIMultiDict headers) {
  if (!headers.contains("Content-Type")) headers.add("Content-Type", "text/plain; charset=utf-8");
  parts_.push_back({std::move(headers), std::string(body)});
  return *this;
}

MultipartWriter& MultipartWriter::append(const MultipartWriter& nested, CIMultiDict headers) {
  headers.set("Content-Type", nested.content_type());
  parts_.push_back({std::move(headers), nested.body()});
  return *this;
}

MultipartWriter& MultipartWriter::append_json(const nlohmann::json& value, CIMultiDict headers) {
  if (!headers.contains("Content-Type")) headers.add("Content-Type", "application/json");
  parts_.push_back({std::move(headers), value.dump()});
  return *this;
}

MultipartWriter& MultipartWriter::append_form(const MultiDict& form, CIMultiDict headers) {
  if (!headers.contains("Content-Type")) headers.add("Content-Type", "application/x-www-form-urlencoded");
  parts_.push_back({std::move(headers), urlencode(form)});
  return *this;
}

MultipartWriter& MultipartWriter::set_content_disposition(std::string_view disptype, const MultiDict& params) {
  if (parts_.empty()) throw ValueError("set_content_disposition() before any part was appended");
  if (!detail::is_token(disptype)) throw ValueError("Invalid Content-Disposition type " + py_repr(disptype));
  std::string value(disptype);
  for (const auto& [k, v] : params) {
    if (!detail::is_token(k)) throw ValueError("Invalid Content-Disposition parameter " + py_repr(k));
    append_disposition_param(value, k, v);
  }
  parts_.back().headers.set("Content-Disposition", std::move(value));
  return *this;
}

std::string MultipartWriter::content_type() const { return multipart_content_type(subtype_, boundary_); }

std::string MultipartWriter::body() const {
  std::string out;
  for (const Part& p : parts_) write_part(out, boundary_, p.headers, p.body);
  write_close(out, boundary_);
  return out;
}

FormData::FormData(std::initializer_list<std::pair<std::string_view, std::string_view>> fields) : FormData() {
  for (const auto& [k, v] : fields) add_field(k, v);
}

FormData& FormData::add_field(std::string_view name, std::string_view value, FieldOptions options) {
  Field f{std::string(name), std::string(value), std::nullopt, std::nullopt};
  if (options.content_type) f.content_type = std::string(*options.content_type);
  if (options.filename) {
    f.filename = std::string(*options.filename);
    if (!f.content_type) f.content_type = "application/octet-stream";
  }
  fields_.push_back(std::move(f));
  return *this;
}

bool FormData::is_multipart() const noexcept {
  return force_multipart_ ||
         std::any_of(fields_.begin(), fields_.end(), [](const Field& f) { return f.content_type || f.filename; });
}

FormData::FormData() : boundary_(random_boundary()) {}

std::string FormData::content_type() const {
  if (!is_multipart()) return "application/x-www-form-urlencoded";
  return multipart_content_type("form-data", boundary_);
}

std::string FormData::body() const {
  if (!is_multipart()) {
    QueryPairs pairs;
    pairs.reserve(fields_.size());
    for (const Field& f : fields_) pairs.emplace_back(f.name, f.value);
    return urlencode(pairs);
  }
  std::string out;
  CIMultiDict headers;
  for (const Field& f : fields_) {
    headers.clear();
    std::string disposition = "form-data";
    append_disposition_param(disposition, "name", f.name);
    if (f.filename) append_disposition_param(disposition, "filename", *f.filename);
    headers.add("Content-Disposition", std::move(disposition));
    if (f.content_type) headers.add("Content-Type", *f.content_type);
    write_part(out, boundary_, headers, f.value);
  }
  write_close(out, boundary_);
  return out;
}

// --- Request::post()'s result

const FileField* PostData::file(std::string_view name) const noexcept {
  auto it = std::find_if(files_.begin(), files_.end(), [name](const FileField& f) { return f.name == name; });
  return it == files_.end() ? nullptr : &*it;
}

void PostData::add_file(FileField field, std::string content) {
  add(field.name, std::move(content));
  files_.push_back(std::move(field));
}

}  // namespace aio::http
