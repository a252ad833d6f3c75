// The server's connection protocol: one coroutine per connection parses request heads
// in place from the reader's buffer, calls the application and writes each response
// head and body in one write (aiohttp's RequestHandler and StreamWriter, web_protocol
// and http_writer). Also Request, BodyReader and StreamResponse's sending methods, which
// act on the connection.
//
// The hot path of a keep-alive GET: parse from buffered() (views, no copy), match the
// route, run the handler's coroutine, append head and body to out_ (capacity reused,
// Date cached per second), one write(), drain only above the water mark, consume the
// head, and wait for the next one with fill(). The head's views stay valid while the
// handler runs because nothing is consumed or filled until the body is read; reading
// the body first copies the head (one memcpy into head_store_) and rebases its views.
#include "http/web_server.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <utility>

#include "aio/errors.hpp"
#include "aio/http/compression.hpp"
#include "aio/http/cookies.hpp"
#include "aio/http/url.hpp"
#include "aio/socket.hpp"
#include "http/text.hpp"

namespace aio::http {
namespace {

// The Date header's value, formatted once per second.
std::string_view http_date_now() {
  thread_local std::time_t cached = -1;
  thread_local char buf[40];
  thread_local std::size_t len = 0;
  const std::time_t now = std::time(nullptr);
  if (now != cached) {
    std::tm g{};
    ::gmtime_r(&now, &g);
    len = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &g);
    cached = now;
  }
  return {buf, len};
}

std::string http_date(std::time_t t) {
  std::tm g{};
  ::gmtime_r(&t, &g);
  char buf[40];
  const std::size_t len = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &g);
  return {buf, len};
}

void append_uint(std::string& out, std::uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_hex(std::string& out, std::uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v, 16);
  out.append(buf, r.ptr);
}

bool no_body_status(int status) noexcept { return status == 204 || status == 304 || (status >= 100 && status < 200); }

void check_header_text(std::string_view s) {
  if (s.find_first_of("\r\n") != std::string_view::npos)
    throw ValueError("Newline or carriage return character detected in HTTP status message or header. This is a potential security issue.");
}

using detail::ascii_lower;
using detail::trim_blanks;

// Whether Accept-Encoding names `coding` with a q-value above 0.
bool accepts_coding(const MessageHead& head, std::string_view coding) {
  auto ae = head.header("Accept-Encoding");
  if (!ae) return false;
  std::string_view list = *ae;
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    const std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    const std::size_t semi = item.find(';');
    if (!ascii_iequals(trim_blanks(item.substr(0, semi)), coding)) continue;
    if (semi == std::string_view::npos) return true;
    const std::string_view param = trim_blanks(item.substr(semi + 1));
    if (param.size() < 2 || (param[0] != 'q' && param[0] != 'Q') || param[1] != '=') return true;
    return param.substr(2).find_first_not_of("0.") != std::string_view::npos;
  }
  return false;
}

// The coding a request accepts, gzip before deflate (aiohttp's order).
std::optional<ContentCoding> accepted_coding(const MessageHead& head) {
  if (accepts_coding(head, "gzip")) return ContentCoding::gzip;
  if (accepts_coding(head, "deflate")) return ContentCoding::deflate;
  return std::nullopt;
}

std::string_view coding_name(ContentCoding c) noexcept {
  return c == ContentCoding::gzip ? "gzip" : c == ContentCoding::deflate ? "deflate" : "identity";
}

// --- conditional and range requests of a file (RFC 9110 sections 13 and 14)

// The entity tags of an If-Match / If-None-Match list: "*", or quoted tags with an
// optional W/, comma-separated; a malformed one ends the list (as aiohttp).
std::vector<ETag> parse_etags(std::string_view list) {
  if (trim_blanks(list) == "*") return {ETag{"*", false}};
  std::vector<ETag> tags;
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    std::string_view tag = trim_blanks(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    if (tag.empty()) continue;  // "a, , b" (RFC 9110 section 5.6.1)
    const bool weak = tag.starts_with("W/");
    if (weak) tag.remove_prefix(2);
    if (tag.size() < 2 || tag.front() != '"' || tag.back() != '"' ||
        tag.substr(1, tag.size() - 2).find('"') != std::string_view::npos)
      break;
    tags.push_back(ETag{std::string(tag.substr(1, tag.size() - 2)), weak});
  }
  return tags;
}

// Whether the list names the tag `value` (unquoted). The strong comparison
// (If-Match) skips weak tags; the weak one (If-None-Match) compares values alone.
bool etag_listed(std::string_view list, std::string_view value, bool weak) {
  for (const ETag& t : parse_etags(list)) {
    if (t.value == "*" && !t.is_weak) return true;
    if (t.value == value && (weak || !t.is_weak)) return true;
  }
  return false;
}

// Digits alone; a number past 64 bits saturates (it is past any file's end).
std::optional<std::uint64_t> parse_decimal(std::string_view s) noexcept {
  std::uint64_t v = 0;
  if (s.empty()) return std::nullopt;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ptr != s.data() + s.size()) return std::nullopt;
  if (r.ec == std::errc::result_out_of_range) return UINT64_MAX;
  if (r.ec != std::errc()) return std::nullopt;
  return v;
}

// A Range header's one byte range, as written: "bytes=A-B", "bytes=A-" or "bytes=-N"
// (unit case-insensitive, blanks allowed around the parts). `other` is a unit other
// than bytes or several ranges; `malformed` a bytes range that does not parse,
// `empty` one with neither part, `reversed` one with A past B.
struct ByteRangeSpec {
  enum class Kind { one, other, malformed, empty, reversed } kind = Kind::malformed;
  std::optional<std::uint64_t> first, last;
};

ByteRangeSpec parse_byte_range(std::string_view header) noexcept {
  ByteRangeSpec r;
  header = trim_blanks(header);
  const std::size_t eq = header.find('=');
  const std::string_view spec = eq == std::string_view::npos ? std::string_view() : trim_blanks(header.substr(eq + 1));
  if (eq == std::string_view::npos || !ascii_iequals(trim_blanks(header.substr(0, eq)), "bytes") ||
      spec.find(',') != std::string_view::npos) {
    r.kind = ByteRangeSpec::Kind::other;
    return r;
  }
  const std::size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return r;
  const std::string_view first = trim_blanks(spec.substr(0, dash));
  const std::string_view last = trim_blanks(spec.substr(dash + 1));
  if (!first.empty() && !(r.first = parse_decimal(first))) return r;
  if (!last.empty() && !(r.last = parse_decimal(last))) return r;
  r.kind = !r.first && !r.last                   ? ByteRangeSpec::Kind::empty
           : r.first && r.last && *r.first > *r.last ? ByteRangeSpec::Kind::reversed
                                                     : ByteRangeSpec::Kind::one;
  return r;
}

// What a Range header asks of a file of `size` bytes.
struct FileRange {
  enum class Kind { whole, part, unsatisfiable } kind = Kind::whole;
  std::uint64_t start = 0;
  std::uint64_t count = 0;
};

// One byte range gives a part; a malformed or unsatisfiable one 416, as aiohttp. A
// unit other than bytes, or several ranges, is ignored (RFC 9110 section 14.2 lets a
// server send the whole file instead).
FileRange file_range(std::string_view header, std::uint64_t size) noexcept {
  FileRange r;
  r.count = size;
  const ByteRangeSpec spec = parse_byte_range(header);
  if (spec.kind == ByteRangeSpec::Kind::other) return r;
  r.kind = FileRange::Kind::unsatisfiable;
  if (spec.kind != ByteRangeSpec::Kind::one) return r;
  if (!spec.first) {  // the last N bytes
    if (*spec.last == 0 || size == 0) return r;
    r.count = std::min(*spec.last, size);
    r.start = size - r.count;
  } else {
    if (*spec.first >= size) return r;
    r.start = *spec.first;
    r.count = std::min(spec.last.value_or(size - 1), size - 1) - r.start + 1;
  }
  r.kind = FileRange::Kind::part;
  return r;
}

}  // namespace

namespace detail {

// --- the server's connections

Coro<void> WebServer::serve(std::shared_ptr<WebServer> self, StreamReader reader, StreamWriter writer) {
  // `self` keeps the server alive while this connection lives (the frame holds it).
  WebConnection conn(*self, std::move(reader), std::move(writer));
  co_await conn.run();
}

namespace {
Coro<void> refuse(StreamWriter writer) {
  writer.close();
  co_await writer.wait_closed();
}
}  // namespace

Server::Handler WebServer::handler(std::weak_ptr<WebServer> server) {
  return [server = std::move(server)](StreamReader r, StreamWriter w) -> Coro<void> {
    if (auto s = server.lock()) return serve(std::move(s), std::move(r), std::move(w));
    return refuse(std::move(w));
  };
}

void WebServer::close_idle() {
  shutting_down = true;
  for (WebConnection* c : std::vector<WebConnection*>(connections)) c->close_idle();
}

void WebServer::cancel_all() {
  for (WebConnection* c : std::vector<WebConnection*>(connections)) c->cancel();
}

void WebServer::remove(WebConnection* c) noexcept {
  connections.erase(std::remove(connections.begin(), connections.end(), c), connections.end());
  if (connections.empty() && all_closed && !all_closed->done()) all_closed->set_result();
}

WebConnection::WebConnection(WebServer& server, StreamReader reader, StreamWriter writer)
    : server_(server), reader_(std::move(reader)), writer_(std::move(writer)) {
  server_.connections.push_back(this);
  request_.conn_ = this;
  request_.app_ = &server_.app;
  request_.client_max_size_ = server_.app.options().client_max_size;
  request_.content.conn_ = this;
  tls_ = writer_.is_tls();
  if (tls_) scheme_ = "https";
  try {
    peer_ = writer_.peername();
  } catch (const std::exception&) {
  }
  head_.headers.reserve(32);
  out_.reserve(1024);
}

WebConnection::~WebConnection() {
  if (timer_armed_) timer_.cancel();
  if (flush_armed_) flush_soon_.cancel();
  server_.remove(this);
}

void WebConnection::close_idle() {
  closing_ = true;
  if (waiting_head_ && reader_.buffered().empty()) task_.cancel();
}

void WebConnection::cancel() {
  closing_ = true;
  task_.cancel();
}

void WebConnection::flush_batch() {
  if (flush_armed_) {
    flush_soon_.cancel();
    flush_armed_ = false;
  }
  if (batch_.empty()) return;
  writer_.write(batch_);
  batch_.clear();
}

void WebConnection::arm_deadline(double deadline) {
  deadline_ = deadline;
  if (timer_armed_ && timer_.when() <= deadline) return;  // it fires first and re-arms
  if (timer_armed_) timer_.cancel();
  timer_ = get_running_loop().call_at(deadline, [this] { on_deadline(); });
  timer_armed_ = true;
}

void WebConnection::on_deadline() {
  timer_armed_ = false;
  if (!waiting_head_) return;  // re-armed when it next waits
  if (get_running_loop().time() >= deadline_) {
    timed_out_ = true;
    task_.cancel();
  } else {
    arm_deadline(deadline_);
  }
}

void WebConnection::report(std::exception_ptr e) {
  ExceptionContext ctx;
  ctx.message = "Error handling request";
  ctx.exception = std::move(e);
  get_running_loop().call_exception_handler(ctx);
}

void WebConnection::build_head(StreamResponse& r, std::optional<std::uint64_t> length, bool chunked) {
  const bool http10 = head_.version_minor == 0;
  out_.clear();
  out_.append(http10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  append_uint(out_, static_cast<std::uint64_t>(r.status_));
  out_ += ' ';
  const std::string_view reason = r.reason();
  if (!r.reason_.empty()) check_header_text(reason);
  out_.append(reason);
  out_.append("\r\n");
  const bool has_ct = !r.headers_.empty() && r.headers_.contains("Content-Type");
  if (!has_ct && !r.content_type_.empty()) {
    out_.append("Content-Type: ").append(r.content_type_);
    if (!r.charset_.empty()) out_.append("; charset=").append(r.charset_);
    out_.append("\r\n");
  }
  if (chunked) {
    out_.append("Transfer-Encoding: chunked\r\n");
  } else if (length && (r.headers_.empty() || !r.headers_.contains("Content-Length"))) {
    out_.append("Content-Length: ");
    append_uint(out_, *length);
    out_.append("\r\n");
  }
  out_.append("Date: ").append(http_date_now()).append("\r\nServer: aio\r\n");
  if (r.force_close_ || closing_) keep_alive_ = false;
  if (!body_done_) {
    // The client waits for "100 Continue" or this answer: it may never send the body.
    if (head_.expect_continue && !continue_sent_) keep_alive_ = false;
    // More unread body than the server skips after the answer: it will close.
    if (head_.body == BodyKind::length && head_.content_length - body_read_ > kSkipMax) keep_alive_ = false;
  }
  if (keep_alive_) {
    if (http10) out_.append("Connection: keep-alive\r\n");
  } else if (!http10) {
    out_.append("Connection: close\r\n");
  }
  for (const auto& [name, value] : r.headers_) {
    check_header_text(name);
    check_header_text(value);
    out_.append(name).append(": ").append(value).append("\r\n");
  }
  out_.append("\r\n");
}

void WebConnection::append_error(int status, std::string_view text) {
  Response r({.status = status, .text = std::string(text)});
  keep_alive_ = false;
  head_.version_minor = 1;  // the head was not understood: answer as HTTP/1.1, with close
  build_head(r, r.body().size(), false);
  out_.append(r.body());
  flush_batch();
  writer_.write(out_);
  started_ = true;
  log_access(r, r.body().size());
}

void WebConnection::log_access(const StreamResponse& r, std::uint64_t size) {
  const AccessLog& log = server_.options.access_log;
  if (!log) return;
  std::string line;
  line.reserve(160);
  line.append(peer_.family() == AF_UNIX || peer_.empty() ? std::string("-") : peer_.host());
  std::time_t now = std::time(nullptr);
  std::tm g{};
  ::gmtime_r(&now, &g);
  char t[40];
  const std::size_t tl = std::strftime(t, sizeof t, " [%d/%b/%Y:%H:%M:%S +0000] \"", &g);
  line.append(t, tl);
  line.append(head_.method).append(" ").append(head_.target);
  line.append(head_.version_minor == 0 ? " HTTP/1.0\" " : " HTTP/1.1\" ");
  append_uint(line, static_cast<std::uint64_t>(r.status_));
  line += ' ';
  append_uint(line, size);
  line.append(" \"").append(head_.header("Referer").value_or("-")).append("\" \"");
  line.append(head_.header("User-Agent").value_or("-")).append("\"");
  log(line);
}

void WebConnection::start_body() {
  if (head_consumed_) return;
  // Copy the head out of the reader's buffer (filling may move it) and point the views
  // at the copy.
  const std::string_view buf = reader_.buffered();
  const char* old = buf.data();
  head_store_.assign(old, head_size_);
  const char* copy = head_store_.data();
  const std::size_t size = head_size_;
  auto rebase = [&](std::string_view& v) {
    if (v.data() >= old && v.data() < old + size) v = std::string_view(copy + (v.data() - old), v.size());
  };
  rebase(head_.method);
  rebase(head_.target);
  for (HeaderField& f : head_.headers) {
    rebase(f.name);
    rebase(f.value);
  }
  reader_.consume(head_size_);
  head_consumed_ = true;
}

Coro<bool> WebConnection::pull_body(std::string& dst) {
  start_body();
  while (!body_done_) {
    if (!decoder_) decoder_.emplace(head_, server_.options.limits);
    const std::string_view in = reader_.buffered();
    const BodyDecoder::Step step = decoder_->feed(in);
    const std::size_t got = step.data.size();
    if (got != 0) dst.append(step.data);
    reader_.consume(step.consumed);
    if (step.done) body_done_ = true;
    if (got != 0) {
      body_read_ += got;
      co_return true;
    }
    if (step.consumed != 0 || step.done) continue;
    if (head_.expect_continue && !continue_sent_) {
      continue_sent_ = true;
      flush_batch();
      writer_.write("HTTP/1.1 100 Continue\r\n\r\n");
    }
    if (!co_await reader_.fill()) {
      keep_alive_ = false;
      decoder_->feed_eof();  // throws unless the body may end here
      body_done_ = true;
    }
  }
  co_return false;
}

Coro<void> WebConnection::prepare(StreamResponse& r) {
  if (r.conn_ == this) co_return;
  if (started_) throw RuntimeError("a response was already sent for this request");
  if (!in_handler_) throw RuntimeError("prepare() of a request that is not being handled");
  r.conn_ = this;
  started_ = true;
  const bool head_only = head_.method == "HEAD" || no_body_status(r.status_);
  std::optional<std::uint64_t> length = r.content_length();
  if (r.compression_ && !head_only) {
    std::optional<ContentCoding> coding = r.has_forced_coding_ ? std::optional(r.forced_coding_) : accepted_coding(head_);
    if (coding && *coding != ContentCoding::identity) {
      r.compressor_ = std::make_shared<ZLibCompressor>(coding_name(*coding));
      r.headers_.set("Content-Encoding", coding_name(*coding));
      length.reset();
    }
  }
  const bool http10 = head_.version_minor == 0;
  bool chunked = !head_only && !http10 && (r.chunked_ || !length);
  if (!head_only && !length && !chunked) keep_alive_ = false;  // HTTP/1.0: until close
  r.chunking_ = chunked;
  r.head_only_ = head_only;
  build_head(r, no_body_status(r.status_) ? std::nullopt : length, chunked);
  if (r.status_ == 101) {
    // Switching protocols (WebSocketResponse): the connection now carries the new
    // protocol from the byte after the head, and closes when the handler is done.
    keep_alive_ = false;
    start_body();
  }
  flush_batch();
  writer_.write(out_);
  co_await writer_.drain();
}

Coro<void> WebConnection::write_body(StreamResponse& r, std::string_view data) {
  if (r.head_only_ || data.empty()) co_return;
  std::string compressed;
  if (r.compressor_) {
    compressed = r.compressor_->compress(data);
    data = compressed;
    if (data.empty()) co_return;
  }
  if (r.chunking_) {
    out_.clear();
    append_hex(out_, data.size());
    out_.append("\r\n").append(data).append("\r\n");
    writer_.write(out_);
  } else {
    writer_.write(data);
  }
  r.body_sent_ += data.size();
  co_await writer_.drain();
}

Coro<void> WebConnection::write_eof(StreamResponse& r) {
  if (r.eof_sent_) co_return;
  if (r.compressor_ && !r.head_only_) {
    std::string tail = r.compressor_->flush(ZLibCompressor::Flush::finish);
    if (!tail.empty()) {
      r.compressor_.reset();
      co_await write_body(r, tail);
    }
  }
  if (r.chunking_ && !r.head_only_) writer_.write("0\r\n\r\n");
  r.eof_sent_ = true;
  sent_body_ = r.body_sent_;
  co_await writer_.drain();
}

Coro<void> WebConnection::send_file(StreamResponse& r) {
  flush_batch();
  // A pre-compressed sibling (PATH.br, PATH.gz) that the client accepts, as aiohttp:
  // a regular file, never reached through a symlink. Its bytes are the body (ranges
  // and the entity tag are of them); the Content-Type stays the original name's.
  static constexpr std::pair<std::string_view, std::string_view> kPrecompressed[] = {{".br", "br"}, {".gz", "gzip"}};
  std::string_view encoding;
  int fd = -1;
  for (const auto& [ext, coding] : kPrecompressed) {
    if (!accepts_coding(head_, coding)) continue;
    const std::string sibling = r.body_ + std::string(ext);
    struct stat ls {};
    if (::lstat(sibling.c_str(), &ls) != 0 || !S_ISREG(ls.st_mode)) continue;
    fd = ::open(sibling.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0) {
      encoding = coding;
      break;
    }
  }
  if (fd < 0) fd = ::open(r.body_.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) < 0 || S_ISDIR(st.st_mode)) {
    const int err = fd < 0 ? errno : EISDIR;
    if (fd >= 0) ::close(fd);
    Response e({.status = err == ENOENT || err == ENOTDIR ? 404 : 403});
    e.set_text(std::to_string(e.status()) + ": " + std::string(e.reason()));
    build_head(e, e.body().size(), false);
    if (head_.method != "HEAD") out_.append(e.body());
    writer_.write(out_);
    sent_body_ = e.body().size();
    r.status_ = e.status_;
    co_return;
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  const std::time_t mtime = st.st_mtime;
  const auto size = static_cast<std::uint64_t>(st.st_size);
  // aiohttp's entity tag: the modification time in nanoseconds and the size, in hex.
  std::string etag_value;
  append_hex(etag_value, static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 1000000000u + static_cast<std::uint64_t>(st.st_mtim.tv_nsec));
  etag_value += '-';
  append_hex(etag_value, size);
  const std::string etag = '"' + etag_value + '"';
  const std::string last_modified = http_date(mtime);
  // An answer with no body (304, 412, 416) instead of the file.
  const auto answer_bare = [&](StreamResponse&& bare, std::optional<std::uint64_t> length) {
    build_head(bare, length, false);
    writer_.write(out_);
    r.status_ = bare.status_;
  };
  // A header as aiohttp reads these: an empty one is no header; a date that does not
  // parse is none.
  const auto header = [&](std::string_view name) {
    auto v = head_.header(name);
    return v && !trim_blanks(*v).empty() ? v : std::nullopt;
  };
  const auto date = [&](std::string_view name) {
    auto v = header(name);
    return v ? parse_cookie_date(*v) : std::nullopt;
  };
  const auto modified_after = [&](double when) { return static_cast<double>(mtime) > when; };
  // The preconditions in RFC 9110's order (section 13.2.2), as aiohttp's FileResponse:
  // If-Match, else If-Unmodified-Since, fails with 412; If-None-Match, else
  // If-Modified-Since, answers 304 (412 for a method other than GET and HEAD).
  const auto if_match = header("If-Match");
  const auto if_none_match = header("If-None-Match");
  const auto if_unmodified_since = if_match ? std::nullopt : date("If-Unmodified-Since");
  const bool get_or_head = head_.method == "GET" || head_.method == "HEAD";
  const auto if_modified_since = if_none_match || !get_or_head ? std::nullopt : date("If-Modified-Since");
  const bool unchanged = if_none_match ? etag_listed(*if_none_match, etag_value, true)
                                       : if_modified_since && !modified_after(*if_modified_since);
  const bool failed = (if_match && !etag_listed(*if_match, etag_value, false)) ||
                      (if_unmodified_since && modified_after(*if_unmodified_since)) || (unchanged && !get_or_head);
  if (failed) {
    answer_bare(StreamResponse(412), 0);
    co_return;
  }
  if (unchanged) {
    StreamResponse nm(304);
    nm.headers_.set("ETag", etag);
    nm.headers_.set("Last-Modified", last_modified);
    if (!encoding.empty()) nm.headers_.set("Vary", "Accept-Encoding");
    answer_bare(std::move(nm), std::nullopt);
    co_return;
  }
  // Range (of a GET), when If-Range (an entity tag, compared strongly, or a date)
  // still holds.
  FileRange part;
  part.count = size;
  if (auto range = header("Range"); range && head_.method == "GET") {
    bool current = true;
    if (auto if_range = header("If-Range")) {
      const std::string_view v = trim_blanks(*if_range);
      const auto when = parse_cookie_date(v);
      current = v.starts_with('"') || v.starts_with("W/") ? v == etag : when && !modified_after(*when);
    }
    if (current) part = file_range(*range, size);
  }
  if (part.kind == FileRange::Kind::unsatisfiable) {
    StreamResponse rn(416);
    std::string content_range = "bytes */";
    append_uint(content_range, size);
    rn.headers_.set("Content-Range", content_range);
    answer_bare(std::move(rn), 0);
    co_return;
  }
  r.headers_.set("ETag", etag);
  r.headers_.set("Last-Modified", last_modified);
  r.headers_.set("Accept-Ranges", "bytes");
  if (!encoding.empty()) {
    r.headers_.set("Content-Encoding", encoding);
    r.headers_.set("Vary", "Accept-Encoding");
  }
  if (part.kind == FileRange::Kind::part) {
    r.status_ = 206;
    std::string content_range = "bytes ";
    append_uint(content_range, part.start);
    content_range += '-';
    append_uint(content_range, part.start + part.count - 1);
    content_range += '/';
    append_uint(content_range, size);
    r.headers_.set("Content-Range", content_range);
  }
  if (r.content_type_.empty() && !r.headers_.contains("Content-Type")) r.content_type_ = guess_content_type(r.body_);
  build_head(r, part.count, false);
  writer_.write(out_);
  if (head_.method == "HEAD" || part.count == 0) co_return;
  if (tls_) {
    std::string chunk(std::min<std::size_t>(std::max<std::uint32_t>(r.file_chunk_size_, 4096), 1 << 20), '\0');
    std::uint64_t offset = part.start;
    std::uint64_t left = part.count;
    while (left > 0) {
      const ssize_t n = ::pread(fd, chunk.data(), std::min<std::uint64_t>(left, chunk.size()), static_cast<off_t>(offset));
      if (n <= 0) break;
      writer_.write(std::string_view(chunk.data(), static_cast<std::size_t>(n)));
      offset += static_cast<std::uint64_t>(n);
      left -= static_cast<std::uint64_t>(n);
      sent_body_ += static_cast<std::uint64_t>(n);
      co_await writer_.drain();
    }
    if (left > 0) keep_alive_ = false;
    co_return;
  }
  // Everything buffered must reach the kernel before sendfile writes after it.
  writer_.set_write_buffer_limits(0, 0);
  co_await writer_.drain();
  writer_.set_write_buffer_limits();
  // loop.sock_sendfile on the stream's socket: a Socket that borrows the descriptor
  // (already watched by this loop) and gives it back.
  EventLoop& loop = get_running_loop();
  Socket sock = Socket::from_fd(writer_.fileno());
  sock.set_loop(&loop);
  struct Giveback {
    Socket& s;
    ~Giveback() {
      s.set_loop(nullptr);
      s.detach();
    }
  } giveback{sock};
  const std::size_t sent =
      co_await loop.sock_sendfile(sock, fd, static_cast<std::size_t>(part.start), static_cast<std::size_t>(part.count));
  sent_body_ += sent;
  if (sent < part.count) keep_alive_ = false;  // the file shrank: the length we sent is wrong
}

Coro<void> WebConnection::run() {
  task_ = current_task();
  EventLoop& loop = get_running_loop();
  const RunnerOptions& opt = server_.options;
  bool partial = false;  // bytes of the next head came, not the whole head
  double head_start = loop.time();
  try {
    for (;;) {
      // --- the next head
      std::size_t n = 0;
      bool stop = false;
      try {
        for (;;) {
          const std::string_view buf = reader_.buffered();
          if (!buf.empty()) {
            n = parse_request_head(buf, head_, opt.limits);
            if (n != 0) break;
          }
          if (closing_ && buf.empty()) {
            stop = true;
            break;
          }
          const double now = loop.time();
          if (buf.empty() && served_ != 0) {
            arm_deadline(now + opt.keepalive_timeout);
          } else {
            if (!partial && !buf.empty() && served_ != 0) head_start = now;
            partial = partial || !buf.empty();
            arm_deadline(head_start + opt.read_timeout);
          }
          waiting_head_ = true;
          bool more = false;
          try {
            more = co_await reader_.fill();
          } catch (const CancelledError&) {
            waiting_head_ = false;
            if (!timed_out_ && !closing_) throw;
            task_.uncancel();
            stop = true;
            break;
          }
          waiting_head_ = false;
          if (!more) {
            stop = true;  // EOF (a partial head is dropped)
            break;
          }
        }
      } catch (const HttpProcessingError& e) {
        head_.method = "-";
        head_.target = "-";
        append_error(e.code(), std::to_string(e.code()) + " " + std::string(reason_phrase(e.code())) + "\n\n" + e.message());
        break;
      }
      if (stop) break;
      partial = false;

      // --- the handler
      head_size_ = n;
      head_consumed_ = false;
      decoder_.reset();
      body_done_ = head_.body == BodyKind::none;
      body_read_ = 0;
      continue_sent_ = false;
      keep_alive_ = head_.keep_alive && !closing_;
      started_ = false;
      sent_body_ = 0;
      request_.reset();
      if (opt.access_log) request_.start_time_ = loop.time();
      StreamResponse resp;
      bool failed = false;
      in_handler_ = true;
      try {
        resp = co_await server_.app.handle(request_);
      } catch (HTTPException& e) {
        resp = std::move(static_cast<StreamResponse&>(e));
      } catch (const HttpProcessingError& e) {
        // Bad framing found while the handler read the body.
        Response r({.status = e.code(), .text = std::to_string(e.code()) + " " +
                                              std::string(reason_phrase(e.code())) + "\n\n" + e.message()});
        resp = std::move(r);
        keep_alive_ = false;
      } catch (const std::exception&) {
        report(std::current_exception());
        failed = true;
      }
      in_handler_ = false;
      if (failed) {
        Response r({.status = 500, .text = "500 Internal Server Error\n\nServer got itself in trouble"});
        resp = std::move(r);
      }

      // --- the response
      if (started_ && !resp.prepared()) {
        keep_alive_ = false;  // a streamed response went out and the handler failed
      } else if (resp.prepared()) {
        if (!resp.eof_sent_) co_await write_eof(resp);
      } else if (resp.is_file_) {
        started_ = true;
        co_await send_file(resp);
      } else {
        started_ = true;
        const bool head_only = head_.method == "HEAD";
        const bool no_body = no_body_status(resp.status_);
        const std::string* body = &resp.body_;
        std::string compressed;
        if (resp.compression_ && !no_body && !body->empty()) {
          std::optional<ContentCoding> coding =
              resp.has_forced_coding_ ? std::optional(resp.forced_coding_) : accepted_coding(head_);
          if (coding && *coding != ContentCoding::identity) {
            ZLibCompressor z(coding_name(*coding));
            compressed = z.compress(*body);
            compressed += z.flush();
            body = &compressed;
            resp.headers_.set("Content-Encoding", coding_name(*coding));
          }
        }
        build_head(resp, no_body ? std::nullopt : std::optional<std::uint64_t>(body->size()), false);
        if (!head_only && !no_body) {
          out_.append(*body);
          sent_body_ = body->size();
        }
        // Pipelined requests already here: answers are gathered (in order) and sent
        // together, at the latest on the loop's next iteration.
        const bool more_buffered = body_done_ && reader_.buffered().size() > (head_consumed_ ? 0 : head_size_);
        if (more_buffered && keep_alive_ && batch_.size() + out_.size() <= kBatchMax) {
          batch_.append(out_);
          if (!flush_armed_) {
            flush_soon_ = loop.call_soon([this] {
              flush_armed_ = false;
              flush_batch();
            });
            flush_armed_ = true;
          }
        } else if (!batch_.empty()) {
          batch_.append(out_);
          flush_batch();
        } else {
          writer_.write(out_);
        }
      }
      co_await writer_.drain();

      // --- what is left of the request (the head stays in the reader's buffer for the
      // access log, unless dropping the body copies it out first: start_body)
      if (!body_done_ && keep_alive_) {
        if (head_.expect_continue && !continue_sent_) {
          keep_alive_ = false;  // the client waits for 100 or the answer: it got the answer
        } else {
          // Read and drop the unread body, up to a bound; past it, close instead.
          std::string drop;
          std::uint64_t dropped = 0;
          try {
            while (dropped < kSkipMax && co_await pull_body(drop)) {
              dropped += drop.size();
              drop.clear();
            }
          } catch (const std::exception&) {
            keep_alive_ = false;
          }
          if (!body_done_) keep_alive_ = false;
        }
      }
      log_access(resp, sent_body_);
      if (!head_consumed_) {
        reader_.consume(head_size_);
        head_consumed_ = true;
      }
      ++served_;
      if (!keep_alive_ || closing_) break;
    }
  } catch (const std::exception&) {
    // The connection failed (reset, broken pipe): nothing to answer.
  }
  waiting_head_ = false;
  try {
    flush_batch();
  } catch (const std::exception&) {
  }
  writer_.close();
  try {
    co_await writer_.wait_closed();
  } catch (const std::exception&) {
  }
}

}  // namespace detail

// --- Request

void Request::reset() noexcept {
  match_info_.clear();
  query_.reset();
  headers_.reset();
  cookies_.reset();
  body_.reset();
  post_.reset();
  allowed_methods_.reset();
  content.pending_.clear();
}

std::string_view Request::method() const noexcept { return conn_->head_.method; }
std::string_view Request::raw_path() const noexcept { return conn_->head_.target; }

std::string Request::path() const {
  std::string_view t = conn_->head_.target;
  if (!t.empty() && t[0] != '/' && t != "*") {  // absolute-form
    const auto scheme = t.find("://");
    if (scheme != std::string_view::npos) {
      const auto slash = t.find('/', scheme + 3);
      t = slash == std::string_view::npos ? std::string_view("/") : t.substr(slash);
    }
  }
  t = t.substr(0, t.find('?'));
  if (t.find('%') == std::string_view::npos) return std::string(t);
  return unquote(t);
}

std::string_view Request::query_string() const noexcept {
  const std::string_view t = conn_->head_.target;
  const auto q = t.find('?');
  return q == std::string_view::npos ? std::string_view() : t.substr(q + 1);
}

const MultiDict& Request::query() const {
  if (!query_) query_.emplace(parse_qsl(query_string(), true));
  return *query_;
}

const CIMultiDict& Request::headers() const {
  if (!headers_) {
    headers_.emplace();
    headers_->reserve(conn_->head_.headers.size());
    for (const HeaderField& f : conn_->head_.headers) headers_->add(f.name, f.value);
  }
  return *headers_;
}

std::optional<std::string_view> Request::header(std::string_view name) const noexcept {
  return conn_->head_.header(name);
}

std::string Request::remote() const {
  const SockAddr& p = conn_->peer_;
  if (p.empty() || p.family() == AF_UNIX) return {};
  return p.host();
}

const SockAddr& Request::peername() const noexcept { return conn_->peer_; }

std::string Request::host() const {
  if (auto h = header("Host")) return std::string(*h);
  try {
    const SockAddr s = conn_->writer_.sockname();
    if (s.family() == AF_UNIX) return "localhost";
    return s.host() + ":" + std::to_string(s.port());
  } catch (const std::exception&) {
    return "localhost";
  }
}

std::string Request::scheme() const { return conn_->scheme_; }
bool Request::secure() const noexcept { return conn_->tls_; }

std::pair<int, int> Request::version() const noexcept {
  return {conn_->head_.version_major, conn_->head_.version_minor};
}

bool Request::keep_alive() const noexcept { return conn_->keep_alive_; }

namespace {
}  // namespace

std::string Request::content_type() const {
  auto ct = header("Content-Type");
  if (!ct) return "application/octet-stream";
  return ascii_lower(trim_blanks(ct->substr(0, ct->find(';'))));
}

std::string Request::charset() const {
  auto ct = header("Content-Type");
  if (!ct) return {};
  std::string_view rest = *ct;
  for (auto semi = rest.find(';'); semi != std::string_view::npos; semi = rest.find(';')) {
    rest.remove_prefix(semi + 1);
    std::string_view param = trim_blanks(rest.substr(0, rest.find(';')));
    const auto eq = param.find('=');
    if (eq == std::string_view::npos) continue;
    if (ascii_lower(trim_blanks(param.substr(0, eq))) != "charset") continue;
    std::string_view v = trim_blanks(param.substr(eq + 1));
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    return ascii_lower(v);
  }
  return {};
}

std::optional<std::uint64_t> Request::content_length() const noexcept {
  if (!header("Content-Length")) return std::nullopt;
  return conn_->head_.content_length;
}

const MultiDict& Request::cookies() const {
  if (!cookies_) {
    auto c = header("Cookie");
    cookies_.emplace(c ? parse_cookie_header(*c) : MultiDict());
  }
  return *cookies_;
}

std::optional<double> Request::if_modified_since() const {
  auto v = header("If-Modified-Since");
  return v ? parse_cookie_date(*v) : std::nullopt;
}
std::optional<double> Request::if_unmodified_since() const {
  auto v = header("If-Unmodified-Since");
  return v ? parse_cookie_date(*v) : std::nullopt;
}
std::optional<double> Request::if_range() const {
  auto v = header("If-Range");
  return v ? parse_cookie_date(*v) : std::nullopt;
}
std::optional<std::vector<ETag>> Request::if_match() const {
  auto v = header("If-Match");
  if (!v || v->empty()) return std::nullopt;  // as aiohttp: an empty header is none
  return parse_etags(*v);
}
std::optional<std::vector<ETag>> Request::if_none_match() const {
  auto v = header("If-None-Match");
  if (!v || v->empty()) return std::nullopt;
  return parse_etags(*v);
}

HttpRange Request::http_range() const {
  auto v = header("Range");
  if (!v) return {};
  const ByteRangeSpec spec = parse_byte_range(*v);
  constexpr auto kMax = static_cast<std::uint64_t>(INT64_MAX) - 1;
  if (spec.kind == ByteRangeSpec::Kind::other || spec.first.value_or(0) > kMax || spec.last.value_or(0) > kMax)
    throw ValueError("range not in acceptable format");
  if (spec.kind == ByteRangeSpec::Kind::reversed) throw ValueError("start cannot be after end");
  if (spec.kind == ByteRangeSpec::Kind::empty) throw ValueError("No start or end of range specified");
  if (spec.kind == ByteRangeSpec::Kind::malformed) throw ValueError("range not in acceptable format");
  HttpRange r;
  if (!spec.first) {  // the last N bytes
    r.start = -static_cast<std::int64_t>(*spec.last);
  } else {
    r.start = static_cast<std::int64_t>(*spec.first);
    if (spec.last) r.stop = static_cast<std::int64_t>(*spec.last) + 1;
  }
  return r;
}

bool Request::body_exists() const noexcept { return conn_->head_.body != BodyKind::none; }
bool Request::can_read_body() const noexcept { return !conn_->body_done_ || !content.pending_.empty(); }

Coro<std::string> Request::read() {
  if (body_) co_return *body_;
  const std::uint64_t max = client_max_size_;
  if (auto cl = content_length(); max != 0 && cl && *cl > max) throw HTTPRequestEntityTooLarge(max, *cl);
  std::string out = std::move(content.pending_);
  content.pending_.clear();
  while (co_await conn_->pull_body(out)) {
    if (max != 0 && out.size() > max) throw HTTPRequestEntityTooLarge(max, out.size());
  }
  body_ = out;
  co_return out;
}

Coro<std::string> Request::text() { co_return co_await read(); }

Coro<nlohmann::json> Request::json() {
  std::string body = co_await read();
  try {
    co_return nlohmann::json::parse(body);
  } catch (const nlohmann::json::parse_error& e) {
    throw HTTPBadRequest({.text = std::string("Invalid JSON: ") + e.what()});
  }
}

Coro<PostData> Request::post() {
  if (post_) co_return *post_;
  const std::string ct = content_type();
  PostData form;
  if (ct == "application/x-www-form-urlencoded") {
    form = PostData(MultiDict(parse_qsl(co_await read(), true)));
  } else if (ct == "multipart/form-data") {
    const std::uint64_t max = client_max_size_;
    if (auto cl = content_length(); max != 0 && cl && *cl > max) throw HTTPRequestEntityTooLarge(max, *cl);
    // Every byte taken from the body counts, heads and boundaries too: what post()
    // keeps is bounded by client_max_size, however the body is cut up.
    std::uint64_t taken = 0;
    MultipartReader reader = multipart_reader(&taken);
    auto check_size = [&] {
      if (max != 0 && taken > max) throw HTTPRequestEntityTooLarge(max, taken);
    };
    for (;;) {
      BodyPartReader* part = co_await reader.next();
      check_size();
      if (part == nullptr) break;
      if (part->is_multipart())
        throw HTTPBadRequest({.text = "A nested multipart part in a form: read it with request.multipart()"});
      std::optional<std::string> name = part->name();
      if (!name) throw HTTPBadRequest({.text = "A multipart form part without a name"});
      std::string value;
      for (std::string chunk; !(chunk = co_await part->read_chunk(64 * 1024)).empty();) {
        check_size();
        value += chunk;
      }
      try {
        value = part->decode(value);
      } catch (const std::exception& e) {
        throw HTTPBadRequest({.text = "Cannot decode the multipart form part " + py_repr(*name) + ": " + e.what()});
      }
      std::optional<std::string> filename = part->filename();
      if (filename && !filename->empty()) {  // an empty filename is a file input left empty: a plain field, as aiohttp
        FileField file{*name, std::move(*filename), std::string(part->headers().get("Content-Type", "application/octet-stream")),
                       part->headers()};
        form.add_file(std::move(file), std::move(value));
      } else {
        form.add(std::move(*name), std::move(value));
      }
    }
  }
  post_ = std::move(form);
  co_return *post_;
}

MultipartReader Request::multipart_reader(std::uint64_t* taken) {
  // The body, from the stream; or, when read() has taken it already, from its copy.
  MultipartReader::Read source;
  if (body_) {
    source = [this, taken, given = false]() mutable -> Coro<std::string> {
      std::string out = given ? std::string() : *body_;
      given = true;
      if (taken) *taken += out.size();
      co_return out;
    };
  } else {
    source = [this, taken]() -> Coro<std::string> {
      std::string out = co_await content.readany();
      if (taken) *taken += out.size();
      co_return out;
    };
  }
  try {
    MultipartReader reader(header("Content-Type").value_or(""), std::move(source));
    reader.set_bad_request_errors(true);
    return reader;
  } catch (const ValueError& e) {
    throw HTTPBadRequest({.text = e.what()});
  }
}

Coro<MultipartReader> Request::multipart() { co_return multipart_reader(nullptr); }

// --- BodyReader (request.content)

Coro<bool> BodyReader::more() { return conn_->pull_body(pending_); }

bool BodyReader::at_eof() const noexcept { return conn_->body_done_ && pending_.empty(); }

namespace {
std::string take(std::string& s, std::size_t n) {
  if (n >= s.size()) return std::exchange(s, {});
  std::string r = s.substr(0, n);
  s.erase(0, n);
  return r;
}
}  // namespace

Coro<std::string> BodyReader::read(long n) {
  if (n < 0) {
    for (;;) {
      const bool more_data = co_await more();
      if (!more_data) break;
    }
  } else if (n > 0 && pending_.empty()) {
    co_await more();
  }
  const std::size_t want = n < 0 ? pending_.size() : static_cast<std::size_t>(n);
  std::string out = take(pending_, want);
  co_return out;
}

Coro<std::string> BodyReader::readany() {
  if (pending_.empty()) co_await more();
  co_return take(pending_, pending_.size());
}

Coro<std::string> BodyReader::readline() {
  for (;;) {
    const auto nl = pending_.find('\n');
    if (nl != std::string::npos) co_return take(pending_, nl + 1);
    if (!co_await more()) co_return take(pending_, pending_.size());
  }
}

Coro<std::string> BodyReader::readexactly(std::size_t n) {
  while (pending_.size() < n) {
    if (!co_await more()) throw IncompleteReadError(take(pending_, pending_.size()), static_cast<long>(n));
  }
  co_return take(pending_, n);
}

// --- StreamResponse's sending

Coro<void> StreamResponse::prepare(Request& request) {
  if (conn_ != nullptr) co_return;
  if (request.conn_ == nullptr) throw RuntimeError("prepare() of a request that is not being handled");
  co_await request.conn_->prepare(*this);
}

Coro<void> StreamResponse::write(std::string_view data) {
  if (conn_ == nullptr) throw RuntimeError("Cannot call write() before prepare()");
  if (eof_sent_) throw RuntimeError("Cannot call write() after write_eof()");
  co_await conn_->write_body(*this, data);
}

Coro<void> StreamResponse::write_eof() {
  if (conn_ == nullptr) throw RuntimeError("Response has not been started");
  co_await conn_->write_eof(*this);
}

}  // namespace aio::http
