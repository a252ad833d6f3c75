// ClientSession, requests, redirects and ClientResponse (aio/http/client.hpp).
//
// One request is one coroutine (request()) with one more per hop (send()): the head is
// built in the connection's write buffer and written with the body in one write; the
// response head is parsed in place from the reader's buffer and copied once, as one
// string, into the response; the body is decoded from the reader's buffer straight into
// the caller's string.
#include <algorithm>
#include <charconv>
#include <cstring>

#include "aio/errors.hpp"
#include "http/base64.hpp"
#include "http/client_impl.hpp"
#include "http/text.hpp"

namespace aio::http {

namespace detail {

const char* error_type_name(const std::exception& e) noexcept {
  if (dynamic_cast<const ContentLengthError*>(&e)) return "ContentLengthError";
  if (dynamic_cast<const TransferEncodingError*>(&e)) return "TransferEncodingError";
  if (dynamic_cast<const ContentEncodingError*>(&e)) return "ContentEncodingError";
  if (dynamic_cast<const ConnectionResetError*>(&e)) return "ConnectionResetError";
  if (dynamic_cast<const BadHttpMessage*>(&e)) return "BadHttpMessage";
  if (dynamic_cast<const OSError*>(&e)) return "OSError";
  return "Exception";
}

namespace {

void lower(std::string& s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A view that pointed into `from` now points at the same offset in `to`.
std::string_view rebase(std::string_view v, const char* from, const char* to) {
  if (v.data() == nullptr) return v;
  return {to + (v.data() - from), v.size()};
}

}  // namespace

void ResponseState::payload_error(const std::exception& e, const char* type) {
  must_close = true;
  conn.release(false);
  std::string msg = "Response payload is not completed: <";
  msg += type;
  if (auto* h = dynamic_cast<const HttpProcessingError*>(&e)) {
    msg += ": " + std::to_string(h->code()) + ", message=" + py_repr(h->message()) + ">";
  } else {
    msg += ": " + std::string(e.what()) + ">";
  }
  throw ClientPayloadError(msg);
}

void ResponseState::finish_body() noexcept {
  eof = true;
  if (!conn) return;
  const bool reuse = !must_close && head.keep_alive && head.body != BodyKind::until_close &&
                     conn->reader.buffered().empty();
  conn.release(reuse);
}

bool ResponseState::decode_buffered(std::string& out) {
  if (eof) return true;
  if (!conn) throw ClientConnectionError("Connection closed");
  for (;;) {
    std::string_view buf = conn->reader.buffered();
    BodyDecoder::Step st;
    try {
      st = decoder->feed(buf);
      if (!st.data.empty()) {
        if (inflater) {
          out += inflater->decompress(st.data);
        } else {
          out.append(st.data);
        }
      }
      if (st.done && inflater) out += inflater->flush();
    } catch (const HttpProcessingError& e) {
      payload_error(e, error_type_name(e));
    }
    conn->reader.consume(st.consumed);
    if (st.done) {
      finish_body();
      return true;
    }
    if (st.consumed == 0) return false;
  }
}

Coro<void> ResponseState::fill_more() {
  if (!conn) throw ClientConnectionError("Connection closed");
  bool more;
  try {
    more = co_await fill(*conn, sock_read);
  } catch (const OSError& e) {
    payload_error(e, error_type_name(e));
  }
  if (more) co_return;
  try {
    decoder->feed_eof();
    if (inflater) pending += inflater->flush();
  } catch (const HttpProcessingError& e) {
    payload_error(e, error_type_name(e));
  }
  must_close = true;  // the server closed: the connection is done
  finish_body();
}

}  // namespace detail

using detail::Deadline;
using detail::ResponseState;

// --- small pieces

MultiDict PairsRef::to_multidict() const {
  MultiDict d;
  for_each([&](std::string_view k, std::string_view v) { d.add(k, v); });
  return d;
}

std::string BasicAuth::encode() const { return "Basic " + detail::base64_encode(login + ":" + password); }

// --- ResponseContent

bool ResponseContent::at_eof() const noexcept { return s_->eof && s_->pending_pos >= s_->pending.size(); }

namespace {
std::string take_pending(ResponseState& s, std::size_t n) {
  const std::size_t have = s.pending.size() - s.pending_pos;
  n = std::min(n, have);
  std::string out = s.pending.substr(s.pending_pos, n);
  s.pending_pos += n;
  if (s.pending_pos == s.pending.size()) {
    s.pending.clear();
    s.pending_pos = 0;
  }
  return out;
}

// Decodes at least one more byte into pending (or reaches the end).
Coro<void> more_pending(ResponseState& s) {
  Deadline total(s.total_deadline, Deadline::Kind::total);
  try {
    const std::size_t before = s.pending.size();
    while (!s.decode_buffered(s.pending) && s.pending.size() == before) co_await s.fill_more();
  } catch (...) {
    s.must_close = true;  // a read that failed leaves the connection in an unknown state
    s.conn.release(false);
    total.fail(std::current_exception());
    throw;
  }
  total.finish();
}
}  // namespace

Coro<std::string> ResponseContent::read(long n) {
  ResponseState& s = *s_;
  if (n < 0) {
    while (!s.eof) co_await more_pending(s);
    co_return take_pending(s, s.pending.size());
  }
  if (n == 0) co_return std::string();
  if (s.pending_pos == s.pending.size() && !s.eof) co_await more_pending(s);
  co_return take_pending(s, static_cast<std::size_t>(n));
}

Coro<std::string> ResponseContent::readany() {
  ResponseState& s = *s_;
  if (s.pending_pos == s.pending.size() && !s.eof) co_await more_pending(s);
  co_return take_pending(s, s.pending.size());
}

Coro<std::string> ResponseContent::readline() {
  ResponseState& s = *s_;
  for (;;) {
    const std::size_t nl = s.pending.find('\n', s.pending_pos);
    if (nl != std::string::npos) co_return take_pending(s, nl + 1 - s.pending_pos);
    if (s.eof) co_return take_pending(s, s.pending.size());
    co_await more_pending(s);
  }
}

Coro<std::string> ResponseContent::readexactly(std::size_t n) {
  ResponseState& s = *s_;
  while (s.pending.size() - s.pending_pos < n && !s.eof) co_await more_pending(s);
  if (s.pending.size() - s.pending_pos < n) {
    std::string partial = take_pending(s, s.pending.size());
    throw IncompleteReadError(std::move(partial), n);
  }
  co_return take_pending(s, n);
}

AsyncGenerator<std::string> ResponseContent::iter_chunked(std::size_t n) {
  ResponseState* s = s_;
  for (;;) {
    if (s->pending_pos == s->pending.size() && !s->eof) co_await more_pending(*s);
    if (s->pending_pos == s->pending.size()) co_return;
    co_yield take_pending(*s, n);
  }
}

AsyncGenerator<std::string> ResponseContent::iter_any() {
  ResponseState* s = s_;
  for (;;) {
    if (s->pending_pos == s->pending.size() && !s->eof) co_await more_pending(*s);
    if (s->pending_pos == s->pending.size()) co_return;
    co_yield take_pending(*s, s->pending.size());
  }
}

// --- ClientResponse

ClientResponse::ClientResponse() noexcept = default;
ClientResponse::ClientResponse(std::unique_ptr<ResponseState> s) noexcept : s_(std::move(s)) {}
ClientResponse::ClientResponse(ClientResponse&&) noexcept = default;
ClientResponse& ClientResponse::operator=(ClientResponse&& o) noexcept {
  if (this != &o) {
    release();
    s_ = std::move(o.s_);
  }
  return *this;
}
ClientResponse::~ClientResponse() {
  release();
  if (s_ && s_->home) {
    std::shared_ptr<detail::ConnectorState> home = s_->home;
    home->recycle(std::move(s_));
  }
}

int ClientResponse::status() const noexcept { return s_->head.status; }
std::string_view ClientResponse::reason() const noexcept { return s_->head.reason; }
const URL& ClientResponse::url() const noexcept { return s_->url; }
const URL& ClientResponse::real_url() const noexcept { return s_->real_url; }
std::string_view ClientResponse::method() const noexcept { return s_->method; }
const std::vector<ClientResponse>& ClientResponse::history() const noexcept { return s_->history; }
std::pair<int, int> ClientResponse::version() const noexcept {
  return {s_->head.version_major, s_->head.version_minor};
}
std::string_view ClientResponse::body() const noexcept { return s_->body; }
ResponseContent ClientResponse::content() noexcept { return ResponseContent(s_.get()); }
bool ClientResponse::closed() const noexcept { return !s_ || !s_->conn; }

std::optional<std::string_view> ClientResponse::header(std::string_view name) const noexcept {
  for (const HeaderField& f : s_->head.headers)
    if (ascii_iequals(f.name, name)) return f.value;
  return std::nullopt;
}

const CIMultiDict& ClientResponse::headers() const {
  if (!s_->headers) {
    CIMultiDict h;
    h.reserve(s_->head.headers.size());
    for (const HeaderField& f : s_->head.headers) h.add(f.name, f.value);
    s_->headers.emplace(std::move(h));
  }
  return *s_->headers;
}

std::string ClientResponse::content_type() const {
  auto v = header("Content-Type");
  if (!v) return "application/octet-stream";
  std::string t(detail::trim(v->substr(0, v->find(';'))));
  detail::lower(t);
  return t;
}

std::optional<std::string> ClientResponse::charset() const {
  auto v = header("Content-Type");
  if (!v) return std::nullopt;
  std::string_view rest = *v;
  for (std::size_t semi = rest.find(';'); semi != std::string_view::npos; semi = rest.find(';')) {
    rest.remove_prefix(semi + 1);
    std::string_view param = detail::trim(rest.substr(0, rest.find(';')));
    const std::size_t eq = param.find('=');
    if (eq == std::string_view::npos) continue;
    std::string name(detail::trim(param.substr(0, eq)));
    detail::lower(name);
    if (name != "charset") continue;
    std::string_view val = detail::trim(param.substr(eq + 1));
    if (val.size() >= 2 && val.front() == '"' && val.back() == '"') val = val.substr(1, val.size() - 2);
    std::string out(val);
    detail::lower(out);
    return out;
  }
  return std::nullopt;
}

std::optional<std::uint64_t> ClientResponse::content_length() const noexcept {
  auto v = header("Content-Length");
  if (!v) return std::nullopt;
  std::uint64_t n = 0;
  auto r = std::from_chars(v->data(), v->data() + v->size(), n);
  if (r.ec != std::errc()) return std::nullopt;
  return n;
}

MultiDict ClientResponse::cookies() const {
  MultiDict out;
  for (const HeaderField& f : s_->head.headers) {
    if (!ascii_iequals(f.name, "Set-Cookie")) continue;
    if (auto c = parse_set_cookie(f.value, 0)) out.add(c->name, c->value);
  }
  return out;
}

Coro<std::string> ClientResponse::read() {
  ResponseState& s = *s_;
  if (!s.body_read) {
    Deadline total(s.total_deadline, Deadline::Kind::total);
    try {
      if (s.pending_pos < s.pending.size()) {  // what content() decoded and nobody took
        s.body.append(s.pending, s.pending_pos);
        s.pending.clear();
        s.pending_pos = 0;
      }
      if (auto n = content_length(); n && !s.inflater && *n < (1u << 24)) s.body.reserve(static_cast<std::size_t>(*n));
      while (!s.decode_buffered(s.body)) {
        co_await s.fill_more();
        if (!s.pending.empty()) {  // the decompressor's tail at EOF
          s.body += s.pending;
          s.pending.clear();
        }
      }
    } catch (...) {
      s.must_close = true;
      s.conn.release(false);
      total.fail(std::current_exception());
      throw;
    }
    total.finish();
    s.body_read = true;
  }
  co_return s.body;
}

namespace {
using detail::latin1_to_utf8;
}  // namespace

Coro<std::string> ClientResponse::text(std::optional<std::string_view> encoding) {
  std::string body = co_await read();
  std::string enc = encoding ? std::string(*encoding) : charset().value_or("utf-8");
  detail::lower(enc);
  std::replace(enc.begin(), enc.end(), '_', '-');
  if (enc == "utf-8" || enc == "utf8" || enc == "us-ascii" || enc == "ascii") co_return body;
  if (enc == "iso-8859-1" || enc == "latin-1" || enc == "latin1" || enc == "l1") co_return latin1_to_utf8(body);
  throw ValueError("unknown encoding: " + enc);
}

namespace {
// aiohttp's check for JSON: application/json, or application/...+json.
bool expected_content_type(const std::string& got, std::string_view expected) {
  if (expected == "application/json") {
    if (got == "application/json") return true;
    return got.rfind("application/", 0) == 0 && got.size() > 5 && got.compare(got.size() - 5, 5, "+json") == 0;
  }
  return got.find(expected) != std::string::npos;
}
}  // namespace

Coro<nlohmann::json> ClientResponse::json(std::optional<std::string_view> content_type) {
  std::string body = co_await read();
  if (content_type && !content_type->empty()) {
    const std::string got = this->content_type();
    if (!expected_content_type(got, *content_type)) {
      throw ContentTypeError(status(), "Attempt to decode JSON with unexpected mimetype: " + got, url().str(),
                             headers().items());
    }
  }
  if (detail::trim(body).empty()) co_return nlohmann::json();
  co_return nlohmann::json::parse(body);
}

void ClientResponse::release() noexcept {
  if (!s_ || !s_->conn) return;
  // Reusable only when the body is known to have ended cleanly: try what is buffered.
  if (!s_->eof) {
    try {
      std::string sink;
      s_->decode_buffered(sink);
    } catch (...) {
    }
  }
  if (s_->conn) s_->conn.release(false);  // not at its end: the connection's state is unknown
}

void ClientResponse::close() noexcept {
  if (!s_) return;
  s_->must_close = true;
  s_->conn.release(false);
}

void ClientResponse::raise_for_status() const {
  if (status() < 400) return;
  throw ClientResponseError(status(), std::string(reason()), url().str(), headers().items());
}

// --- ClientSession


namespace {

bool idempotent(std::string_view m) {
  return m == "GET" || m == "HEAD" || m == "OPTIONS" || m == "TRACE" || m == "PUT" || m == "DELETE";
}

bool has_header(const PairsRef& h, std::string_view name) {
  bool found = false;
  h.for_each([&](std::string_view k, std::string_view) { found = found || ascii_iequals(k, name); });
  return found;
}

void add_field(std::string& b, std::string_view name, std::string_view value) {
  b.append(name);
  b.append(": ", 2);
  b.append(value);
  b.append("\r\n", 2);
}

void append_number(std::string& b, std::uint64_t n, int base = 10) {
  char tmp[24];
  auto r = std::to_chars(tmp, tmp + sizeof tmp, n, base);
  b.append(tmp, static_cast<std::size_t>(r.ptr - tmp));
}

// A caller's field that would split the request (CR, LF, NUL, a name that is not a
// token) is refused before anything is sent.
void check_field(std::string_view name, std::string_view value) {
  if (!detail::is_token(name))
    throw ValueError("Invalid header name " + py_repr(name));
  if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos)
    throw ValueError("Newline or carriage return character detected in HTTP header value " + py_repr(value));
}

constexpr std::size_t kOneWriteBody = 64 * 1024;  // bodies up to this go in the head's write
constexpr double kContinueWait = 1.0;  // seconds to wait for 100 Continue

// Writes a request body after its head: as it is, or chunked (a stream's pieces, or
// `body` as one chunk), then drains.
Coro<void> send_body(detail::Connection& c, std::string_view body, bool chunked, BodyStream* stream) {
  auto chunk = [&c](std::string_view piece) {
    c.wbuf.clear();
    append_number(c.wbuf, piece.size(), 16);
    c.wbuf.append("\r\n");
    c.wbuf.append(piece);
    c.wbuf.append("\r\n");
    c.writer.write(c.wbuf);
  };
  if (!chunked) {
    c.writer.write(body);
    co_await c.writer.drain();
    co_return;
  }
  if (!body.empty()) chunk(body);
  if (stream) {
    while (std::optional<std::string> piece = co_await stream->next()) {
      if (piece->empty()) continue;
      chunk(*piece);
      co_await c.writer.drain();
    }
  }
  c.writer.write("0\r\n\r\n");
  co_await c.writer.drain();
}

}  // namespace

ClientSession::ClientSession() : ClientSession(Options{}) {}

ClientSession::ClientSession(Options options) : options_(std::move(options)) {
  if (options_.base_url) base_url_.emplace(*options_.base_url);
  jar_ = options_.cookie_jar ? options_.cookie_jar : std::make_shared<CookieJar>();
  if (!options_.cookies.empty()) jar_->update_cookies(options_.cookies);
  connector_ = options_.connector ? options_.connector : std::make_shared<TCPConnector>();
  owner_ = options_.connector_owner.value_or(!options_.connector);
  for (const auto& [k, v] : options_.headers) {
    check_field(k, v);
    add_field(default_headers_, k, v);
  }
}

ClientSession::~ClientSession() {
  if (owner_ && connector_) connector_->close();
}

Coro<void> ClientSession::close() {
  if (!closed_) {
    closed_ = true;
    if (owner_) connector_->close();
  }
  co_return;
}

Coro<ClientResponse> ClientSession::request(std::string_view method, std::string_view url, const RequestOptions& o) {
  return request_(method, url, o, true);
}
Coro<ClientResponse> ClientSession::get(std::string_view url, const RequestOptions& o) {
  return request_("GET", url, o, true);
}
Coro<ClientResponse> ClientSession::post(std::string_view url, const RequestOptions& o) {
  return request_("POST", url, o, true);
}
Coro<ClientResponse> ClientSession::put(std::string_view url, const RequestOptions& o) {
  return request_("PUT", url, o, true);
}
Coro<ClientResponse> ClientSession::patch(std::string_view url, const RequestOptions& o) {
  return request_("PATCH", url, o, true);
}
Coro<ClientResponse> ClientSession::delete_(std::string_view url, const RequestOptions& o) {
  return request_("DELETE", url, o, true);
}
Coro<ClientResponse> ClientSession::head(std::string_view url, const RequestOptions& o) {
  return request_("HEAD", url, o, false);  // aiohttp's head() does not follow redirects by default
}
Coro<ClientResponse> ClientSession::options(std::string_view url, const RequestOptions& o) {
  return request_("OPTIONS", url, o, true);
}

namespace {
// Reads a redirect's body (up to 1 MiB; a bigger one closes the connection instead).
// Its own coroutine, so the request's frame stays small.
Coro<void> drain_redirect(ClientResponse& resp) {
  auto n = resp.content_length();
  if (!n || *n <= 1024 * 1024) {
    (void)co_await resp.read();
  } else {
    resp.close();
  }
}
}  // namespace

Coro<ClientResponse> ClientSession::request_(std::string_view method, std::string_view url_text,
                                             const RequestOptions& o, bool follow_default, bool upgrade) {
  if (closed_) throw RuntimeError("Session is closed");
  struct Held {  // the request's state, back to the connector's spares at the end
    std::shared_ptr<detail::ConnectorState> home;
    std::unique_ptr<detail::RequestState> p;
    ~Held() {
      if (p) home->recycle(std::move(p));
    }
  } held{connector_->state(), connector_->state()->new_request()};
  detail::RequestState& rq = *held.p;
  rq.method = method;
  for (char& c : rq.method)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  if (!detail::is_token(rq.method))
    throw ValueError("Method cannot contain non-token characters " + py_repr(rq.method));
  o.headers.for_each(check_field);
  o.cookies.for_each(check_field);
  rq.opt = &o;
  rq.upgrade = upgrade;
  rq.timeout = o.timeout.value_or(options_.timeout);
  rq.url = URL(url_text);
  if (base_url_ && !rq.url.is_absolute()) rq.url = base_url_->join(rq.url);
  if (!rq.url.is_absolute() || (rq.url.scheme() != "http" && rq.url.scheme() != "https"))
    throw InvalidURL(std::string(url_text));
  if (!o.params.empty()) {
    MultiDict q = rq.url.query();
    o.params.for_each([&](std::string_view k, std::string_view v) { q.add(k, v); });
    rq.url = rq.url.with_query(q);
  }
  if (rq.timeout.total) rq.total_deadline = get_running_loop().time() + *rq.timeout.total;
  const bool follow = o.allow_redirects.value_or(follow_default);

  Deadline& total = rq.total.emplace(rq.total_deadline, Deadline::Kind::total);
  try {
    std::vector<ClientResponse> history;
    for (;;) {
      ClientResponse resp = co_await send(rq);
      const int st = resp.status();
      const bool redirect = st == 301 || st == 302 || st == 303 || st == 307 || st == 308;
      std::optional<std::string_view> location = redirect && follow ? resp.header("Location") : std::nullopt;
      if (!location && redirect && follow) location = resp.header("URI");
      if (!location) {
        resp.state()->history = std::move(history);
        if (o.raise_for_status.value_or(options_.raise_for_status) && st >= 400) {
          resp.release();
          resp.raise_for_status();
        }
        total.finish();
        co_return resp;
      }
      rq.next = rq.url.join(URL(*location));
      if (rq.next.scheme() != "http" && rq.next.scheme() != "https") throw InvalidURL(std::string(*location));
      if (st == 303 && rq.method != "HEAD") {
        rq.method = "GET";
        rq.send_body = false;
      } else if ((st == 301 || st == 302) && rq.method == "POST") {
        rq.method = "GET";
        rq.send_body = false;
      } else if ((st == 307 || st == 308) && o.stream) {
        // A stream cannot be sent again: the redirect is the answer.
        resp.state()->history = std::move(history);
        total.finish();
        co_return resp;
      }
      if (rq.next.origin() != rq.url.origin()) rq.send_auth = false;
      std::swap(rq.url, rq.next);
      rq.fresh = false;
      // The redirect's own body goes, so its connection can be reused.
      if (resp.state()->decoder && !resp.state()->eof) co_await drain_redirect(resp);
      history.push_back(std::move(resp));
      if (static_cast<int>(history.size()) >= o.max_redirects) {
        const ClientResponse& last = history.back();
        throw TooManyRedirects(last.status(), std::string(last.reason()), history.front().real_url().str(),
                               last.headers().items());
      }
    }
  } catch (...) {
    total.fail(std::current_exception());
    throw;
  }
}

Coro<ClientResponse> ClientSession::send(detail::RequestState& rq) {
  const RequestOptions& o = *rq.opt;
  const URL& url = rq.url;
  const bool https = url.scheme() == "https";
  detail::ConnectorState& cs = *connector_->state();
  const SSLContext* ctx = cs.tls_context(https, o.ssl);
  const std::string& host = *url.raw_host();
  const int port = url.port().value_or(https ? 443 : 80);
  detail::HostPool& hp = cs.pool(host, port, ctx ? ctx->native_handle() : nullptr);
  std::string_view ssl_repr = "default";
  if (https && (o.ssl.mode() == ClientSSL::Mode::off || (o.ssl.mode() == ClientSSL::Mode::unset && !cs.opts.ssl_context && !cs.opts.verify_ssl)))
    ssl_repr = "False";
  else if (o.ssl.mode() == ClientSSL::Mode::context || (o.ssl.mode() == ClientSSL::Mode::unset && cs.opts.ssl_context))
    ssl_repr = "<SSLContext>";

  // The body, once (it is the same on a retry). Kept in rq, not in this frame: a frame
  // up to 512 bytes comes from the thread's pool, a bigger one from malloc.
  std::string_view& body = rq.body;
  std::string_view& content_type = rq.content_type;
  body = content_type = {};
  const bool has_body = rq.send_body;
  if (has_body) {
    if (o.data) {
      body = *o.data;
      content_type = "application/octet-stream";
    } else if (!o.form.empty()) {
      rq.owned_body = urlencode(o.form.to_multidict());
      body = rq.owned_body;
      content_type = "application/x-www-form-urlencoded";
    } else if (o.form_data || o.multipart) {
      rq.owned_body = o.form_data ? o.form_data->body() : o.multipart->body();
      rq.owned_content_type = o.form_data ? o.form_data->content_type() : o.multipart->content_type();
      body = rq.owned_body;
      content_type = rq.owned_content_type;
    } else if (o.json) {
      rq.owned_body = o.json->dump();
      body = rq.owned_body;
      content_type = "application/json";
    }
  }
  const bool stream = has_body && o.stream != nullptr;
  const bool chunked = stream || (has_body && o.chunked && o.data);
  const bool any_body = has_body && (o.data || !o.form.empty() || o.form_data || o.multipart || o.json || stream);

  std::optional<double> connect_deadline;
  if (rq.timeout.connect) connect_deadline = get_running_loop().time() + *rq.timeout.connect;

  for (int attempt = 0;; ++attempt) {
    detail::Lease conn = co_await cs.acquire(hp, ctx, ssl_repr, connect_deadline, rq.timeout.sock_connect, rq.fresh, &rq.url);
    const bool reused = conn->reused;
    const bool may_retry = reused && attempt == 0 && !stream && idempotent(rq.method);

    // The head, in the connection's buffer.
    std::string& b = conn->wbuf;
    b.clear();
    b.append(rq.method);
    b += ' ';
    b.append(url.raw_path().empty() ? std::string_view("/") : std::string_view(url.raw_path()));
    if (!url.raw_query_string().empty()) {
      b += '?';
      b.append(url.raw_query_string());
    }
    b.append(" HTTP/1.1\r\n");
    const bool user_headers = !o.headers.empty();
    if (!user_headers || !has_header(o.headers, "Host")) {
      b.append("Host: ");
      if (host.find(':') != std::string::npos) {
        b += '[';
        b.append(host);
        b += ']';
      } else {
        b.append(host);
      }
      if (url.explicit_port() && !url.is_default_port()) {
        b += ':';
        append_number(b, static_cast<std::uint64_t>(port));
      }
      b.append("\r\n");
    }
    auto skip = [&](std::string_view name) {
      return (!rq.send_auth && ascii_iequals(name, "Authorization")) ||
             (!rq.send_body && (ascii_iequals(name, "Content-Type") || ascii_iequals(name, "Content-Length")));
    };
    if (!user_headers) {
      if (rq.send_auth && rq.send_body) {
        b.append(default_headers_);
      } else {
        for (const auto& [k, v] : options_.headers)
          if (!skip(k)) add_field(b, k, v);
      }
    } else {
      for (const auto& [k, v] : options_.headers)
        if (!skip(k) && !has_header(o.headers, k)) add_field(b, k, v);
      o.headers.for_each([&](std::string_view k, std::string_view v) {
        if (!skip(k)) add_field(b, k, v);
      });
    }
    auto given = [&](std::string_view name) {
      return options_.headers.contains(name) || (user_headers && has_header(o.headers, name));
    };
    if (!given("Accept")) b.append("Accept: */*\r\n");
    if (!given("Accept-Encoding")) b.append("Accept-Encoding: gzip, deflate\r\n");
    if (!given("User-Agent")) add_field(b, "User-Agent", options_.user_agent);
    if (rq.send_auth && !given("Authorization")) {
      if (o.auth) {
        add_field(b, "Authorization", o.auth->encode());
      } else if (options_.auth) {
        add_field(b, "Authorization", options_.auth->encode());
      }
    }
    if (jar_->size() > 0 || !o.cookies.empty()) {
      std::string cookie = jar_->filter_cookies(url);
      o.cookies.for_each([&](std::string_view k, std::string_view v) {
        if (!cookie.empty()) cookie += "; ";
        cookie.append(k);
        cookie += '=';
        cookie.append(v);
      });
      if (!cookie.empty() && !given("Cookie")) add_field(b, "Cookie", cookie);
    }
    if (cs.opts.force_close && !given("Connection")) b.append("Connection: close\r\n");
    if (any_body) {
      if (!content_type.empty() && !given("Content-Type")) add_field(b, "Content-Type", content_type);
      if (chunked) {
        b.append("Transfer-Encoding: chunked\r\n");
      } else {
        b.append("Content-Length: ");
        append_number(b, body.size());
        b.append("\r\n");
      }
    } else if (rq.method == "POST" || rq.method == "PUT" || rq.method == "PATCH") {
      b.append("Content-Length: 0\r\n");
    }
    if (o.expect100 && any_body) b.append("Expect: 100-continue\r\n");
    b.append("\r\n");
    const bool body_later = o.expect100 && any_body;

    std::unique_ptr<ResponseState> res = cs.new_response();
    bool got_bytes = false;
    try {
      if (!body_later && !chunked && body.size() <= kOneWriteBody) {
        b.append(body);
        conn->writer.write(b);
        co_await conn->writer.drain();
      } else {
        conn->writer.write(b);
        if (!body_later) co_await send_body(*conn, body, chunked, stream ? o.stream : nullptr);
      }

      // The head of the response, parsed in place.
      MessageHead& head = res->head;
      bool body_sent = !body_later;
      for (;;) {
        std::string_view buf = conn->reader.buffered();
        if (!buf.empty()) {
          got_bytes = true;
          std::size_t n;
          try {
            n = parse_response_head(buf, head, rq.method);
          } catch (const HttpProcessingError& e) {
            throw ClientResponseError(e.code(), e.message(), url.str());
          }
          if (n != 0) {
            if (head.status >= 100 && head.status < 200 && head.status != 101) {
              conn->reader.consume(n);
              head.clear();
              if (!body_sent) {
                co_await send_body(*conn, body, chunked, stream ? o.stream : nullptr);
                body_sent = true;
              }
              continue;
            }
            // Keep the head: one copy, its views moved onto it.
            res->raw_head.assign(buf.data(), n);
            const char* from = buf.data();
            const char* to = res->raw_head.data();
            head.reason = detail::rebase(head.reason, from, to);
            head.method = detail::rebase(head.method, from, to);
            head.target = detail::rebase(head.target, from, to);
            for (HeaderField& f : head.headers) {
              f.name = detail::rebase(f.name, from, to);
              f.value = detail::rebase(f.value, from, to);
            }
            conn->reader.consume(n);
            break;
          }
        }
        bool more;
        try {
          if (!body_sent) {
            // Waiting for 100 Continue: a server that says nothing within a second gets
            // the body anyway (as curl does; RFC 9110 10.1.1 allows it).
            bool waited_out = false;
            try {
              more = co_await detail::fill(*conn, std::min(kContinueWait, rq.timeout.sock_read.value_or(kContinueWait)));
            } catch (const SocketTimeoutError&) {
              if (rq.timeout.sock_read && *rq.timeout.sock_read <= kContinueWait) throw;
              waited_out = true;
            }
            if (waited_out) {
              co_await send_body(*conn, body, chunked, stream ? o.stream : nullptr);
              body_sent = true;
              continue;
            }
          } else {
            more = co_await detail::fill(*conn, rq.timeout.sock_read);
          }
        } catch (const OSError& e) {
          throw ClientOSError(e.code(), e.what());
        }
        if (!more) {
          if (conn->reader.buffered().empty() && !got_bytes) throw ServerDisconnectedError();
          throw ServerDisconnectedError("Server disconnected");
        }
      }
      if (!body_sent) res->must_close = true;  // the server answered without wanting the body
    } catch (const ServerDisconnectedError&) {
      if (!(may_retry && !got_bytes)) throw;
      rq.fresh = true;
      continue;
    } catch (const ClientOSError&) {
      if (!(may_retry && !got_bytes)) throw;
      rq.fresh = true;
      continue;
    } catch (const OSError& e) {  // writing failed
      if (may_retry && !got_bytes) {
        rq.fresh = true;
        continue;
      }
      throw ClientOSError(e.code(), e.what());
    }

    // The response.
    ResponseState& s = *res;
    s.method = rq.method;
    s.url = url;
    s.real_url = url;
    s.total_deadline = rq.total_deadline;
    s.sock_read = rq.timeout.sock_read;
    if (s.head.upgrade) s.must_close = true;
    bool cookies = false;
    for (const HeaderField& f : s.head.headers) {
      if (ascii_iequals(f.name, "Set-Cookie")) cookies = true;
    }
    if (cookies) {
      std::vector<std::string> values;
      for (const HeaderField& f : s.head.headers)
        if (ascii_iequals(f.name, "Set-Cookie")) values.emplace_back(f.value);
      jar_->update_cookies(values, url);
    }
    if (options_.auto_decompress && s.head.body != BodyKind::none) {
      if (auto enc = s.head.header("Content-Encoding")) {
        std::string e(detail::trim(*enc));
        detail::lower(e);
        if (e == "gzip" || e == "x-gzip" || e == "deflate") s.inflater.emplace(e);
      }
    }
    s.decoder.emplace(s.head);
    s.conn = std::move(conn);
    if (rq.upgrade && s.head.status == 101) {
      s.eof = true;  // the connection carries the new protocol now: the caller takes it
    } else if (s.head.body == BodyKind::none) {
      s.finish_body();
    }
    co_return ClientResponse(std::move(res));
  }
}

}  // namespace aio::http
