// WebSockets (RFC 6455): the frame reader and writer, the handshake, and the server's
// WebSocketResponse. See aio/http/websocket.hpp.
#include "aio/http/websocket.hpp"

#include <errno.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstring>

#include "aio/detail/io_wait.hpp"
#include "aio/errors.hpp"
#include "aio/events.hpp"
#include "aio/http/client.hpp"
#include "aio/http/exceptions.hpp"
#include "aio/http/web_exceptions.hpp"
#include "aio/http/web_request.hpp"
#include "aio/streams.hpp"
#include "aio/tasks.hpp"
#include "aio/wait.hpp"
#include "http/base64.hpp"
#include "http/client_impl.hpp"
#include "http/text.hpp"
#include "http/web_server.hpp"

namespace aio::http {
namespace detail {
namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

bool is_control(std::uint8_t opcode) noexcept { return opcode >= 0x8; }

bool known_opcode(std::uint8_t opcode) noexcept {
  return opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xA);
}

// RFC 6455 section 7.4: the codes a close frame may carry.
bool valid_close_code(int code) noexcept {
  if (code >= 3000 && code < 5000) return true;
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014);
}

std::uint64_t read_be(std::string_view s) noexcept {
  std::uint64_t v = 0;
  for (char c : s) v = (v << 8) | static_cast<unsigned char>(c);
  return v;
}

void append_be(std::string& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

}  // namespace

bool valid_utf8(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    const unsigned char b = *p;
    if (b < 0x80) {
      ++p;
      continue;
    }
    int n;
    unsigned char lo = 0x80, hi = 0xBF;  // the second byte's range
    if (b >= 0xC2 && b <= 0xDF) {
      n = 1;
    } else if (b >= 0xE0 && b <= 0xEF) {
      n = 2;
      if (b == 0xE0) lo = 0xA0;  // no overlong forms
      if (b == 0xED) hi = 0x9F;  // no surrogates
    } else if (b >= 0xF0 && b <= 0xF4) {
      n = 3;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;  // nothing past U+10FFFF
    } else {
      return false;
    }
    if (end - p <= n) return false;
    if (p[1] < lo || p[1] > hi) return false;
    for (int k = 2; k <= n; ++k) {
      if ((p[k] & 0xC0) != 0x80) return false;
    }
    p += n + 1;
  }
  return true;
}

std::size_t WSFrameReader::feed(std::string_view in, std::optional<WSMessage>& out) {
  if (in.size() < 2) return 0;
  const auto b0 = static_cast<std::uint8_t>(in[0]);
  const auto b1 = static_cast<std::uint8_t>(in[1]);
  const bool fin = (b0 & 0x80) != 0;
  const std::uint8_t opcode = b0 & 0x0F;
  const bool has_mask = (b1 & 0x80) != 0;
  const bool rsv1 = (b0 & 0x40) != 0;
  if ((b0 & 0x30) != 0 || (rsv1 && !deflate_)) {
    throw WebSocketError(WSCloseCode::PROTOCOL_ERROR, "Received frame with non-zero reserved bits");
  }
  if (!known_opcode(opcode)) {
    throw WebSocketError(WSCloseCode::PROTOCOL_ERROR, "Received frame with invalid opcode: " + std::to_string(opcode));
  }
  const bool control = is_control(opcode);
  if (control && !fin) throw WebSocketError(WSCloseCode::PROTOCOL_ERROR, "Received fragmented control frame");
  // RFC 7692 section 6: RSV1 marks a message's first frame, never a control frame or
  // a continuation.
  if (rsv1 && control) throw WebSocketError(WSCloseCode::PROTOCOL_ERROR, "Received a compressed control frame");
  if (rsv1 && opcode == 0) throw WebSocketError(WSCloseCode::PROTOCOL_ERROR, "Received a continuation frame with RSV1 set");
  if (has_mask != masked_) {
    throw WebSocketError(WSCloseCode::PROTOCOL_ERROR,
                         masked_ ? "Received an unmasked frame from the client" : "Received a masked frame from the server");
  }
  if (opcode == 0 && !fragmented_) throw WebSocketError(WSCloseCode::PROTOCOL_ERROR, "Received a continuation frame with no message to continue");
  if ((opcode == 0x1 || opcode == 0x2) && fragmented_) {
    throw WebSocketError(WSCloseCode::PROTOCOL_ERROR, "The opcode in non-fin frame is expected to be zero");
  }

  std::size_t header = 2;
  std::uint64_t length = b1 & 0x7F;
  if (control && length > 125) throw WebSocketError(WSCloseCode::PROTOCOL_ERROR, "Control frame payload cannot be larger than 125 bytes");
  if (length == 126) {
    if (in.size() < 4) return 0;
    length = read_be(in.substr(2, 2));
    header = 4;
  } else if (length == 127) {
    if (in.size() < 10) return 0;
    length = read_be(in.substr(2, 8));
    if (length >> 63) throw WebSocketError(WSCloseCode::PROTOCOL_ERROR, "Frame length with the most significant bit set");
    header = 10;
  }
  // A compressed message's frames are held to the limit one by one; its inflated size
  // is checked as it is inflated.
  const bool inflating = !control && (opcode == 0 ? compressed_ : rsv1);
  const std::uint64_t held = inflating ? 0 : partial_.size();
  if (!control && max_msg_size_ != 0 && length + held > max_msg_size_) {
    throw WebSocketError(WSCloseCode::MESSAGE_TOO_BIG, "Message size " + std::to_string(length + held) +
                                                           " exceeds limit " + std::to_string(max_msg_size_));
  }
  const std::size_t key_at = header;
  if (has_mask) header += 4;
  if (in.size() < header || in.size() - header < length) return 0;  // the rest is still coming
  const std::size_t n = static_cast<std::size_t>(length);

  // The payload, unmasked, goes where the message is put together. A compressed one is
  // inflated onto it: straight from `in`, or through scratch_ to be unmasked first.
  std::string control_payload;
  if (!control && opcode != 0) {
    partial_.clear();
    fragment_type_ = static_cast<WSMsgType>(opcode);
    compressed_ = rsv1;
  }
  if (inflating && !has_mask) {
    inflate(in.substr(header, n));
  } else {
    if (inflating) scratch_.clear();
    std::string& dst = control ? control_payload : inflating ? scratch_ : partial_;
    const std::size_t at = dst.size();
    dst.append(in.substr(header, n));
    if (has_mask) {
      unsigned char key[4];
      std::memcpy(key, in.data() + key_at, 4);
      char* p = dst.data() + at;
      for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<char>(p[i] ^ key[i & 3]);
    }
    if (inflating) {
      inflate(scratch_);
      if (scratch_.capacity() > 64 * 1024) std::string().swap(scratch_);  // keep no big block
    }
  }
  const std::size_t taken = header + n;

  if (control) {
    WSMessage m;
    m.type = static_cast<WSMsgType>(opcode);
    if (m.type == WSMsgType::CLOSE) {
      if (n == 1) throw WebSocketError(WSCloseCode::PROTOCOL_ERROR, "Invalid close frame");
      if (n >= 2) {
        m.code = static_cast<int>(read_be(std::string_view(control_payload).substr(0, 2)));
        if (!valid_close_code(m.code)) {
          throw WebSocketError(WSCloseCode::PROTOCOL_ERROR, "Invalid close code: " + std::to_string(m.code));
        }
        m.extra = control_payload.substr(2);
        if (!valid_utf8(m.extra)) throw WebSocketError(WSCloseCode::INVALID_TEXT, "Invalid UTF-8 text message");
      }
    } else {
      m.data = std::move(control_payload);
    }
    out = std::move(m);
    return taken;
  }
  if (!fin) {
    fragmented_ = true;
    return taken;
  }
  fragmented_ = false;
  if (inflating) {
    inflate(std::string_view("\x00\x00\xff\xff", 4));  // the end of the flush the sender dropped
    // A sender may end a message with a final block instead (RFC 7692 section
    // 7.2.3.4): the next message is a new stream, which may still refer back to this
    // one's window (section 7.2.2).
    if (inflater_->eof()) inflater_->reset(true);
  }
  WSMessage m;
  m.type = fragment_type_;
  m.data = std::move(partial_);
  partial_.clear();
  if (m.type == WSMsgType::TEXT && !valid_utf8(m.data)) {
    throw WebSocketError(WSCloseCode::INVALID_TEXT, "Invalid UTF-8 text message");
  }
  out = std::move(m);
  return taken;
}

void WSFrameReader::inflate(std::string_view piece) {
  if (!inflater_) inflater_.emplace(RawDeflate{});
  // After a final block the rest of the message is nothing to inflate: it is dropped,
  // not kept (a peer could send it without end).
  if (inflater_->eof()) return;
  // One byte past the room left tells a message over the limit (0: no limit).
  const std::size_t left = max_msg_size_ - partial_.size();
  const std::size_t room = max_msg_size_ == 0 || left == SIZE_MAX ? 0 : left + 1;
  std::string out;
  try {
    out = inflater_->decompress(piece, room);
  } catch (const ContentEncodingError&) {
    throw WebSocketError(WSCloseCode::PROTOCOL_ERROR, "Received a message that does not inflate");
  }
  if (room != 0 && out.size() == room) {
    throw WebSocketError(WSCloseCode::MESSAGE_TOO_BIG, "Decompressed message exceeds limit " + std::to_string(max_msg_size_));
  }
  if (partial_.empty()) {
    partial_ = std::move(out);
  } else {
    partial_ += out;
  }
}

std::string ws_frame(WSMsgType opcode, std::string_view payload, bool masked, bool compressed) {
  std::string out;
  out.reserve(14 + payload.size());
  out += static_cast<char>(0x80 | (compressed ? 0x40 : 0) | static_cast<int>(opcode));
  const int mask_bit = masked ? 0x80 : 0;
  const std::size_t n = payload.size();
  if (n < 126) {
    out += static_cast<char>(mask_bit | static_cast<int>(n));
  } else if (n <= 0xFFFF) {
    out += static_cast<char>(mask_bit | 126);
    append_be(out, n, 2);
  } else {
    out += static_cast<char>(mask_bit | 127);
    append_be(out, n, 8);
  }
  if (!masked) {
    out.append(payload);
    return out;
  }
  unsigned char key[4];
  if (RAND_bytes(key, sizeof key) != 1) throw RuntimeError("RAND_bytes failed: no masking key for a WebSocket frame");
  out.append(reinterpret_cast<const char*>(key), 4);
  const std::size_t at = out.size();
  out.append(payload);
  char* p = out.data() + at;
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<char>(p[i] ^ key[i & 3]);
  return out;
}

std::string ws_close_payload(int code, std::string_view reason) {
  std::string out;
  append_be(out, static_cast<std::uint64_t>(code), 2);
  out.append(reason);
  return out;
}

namespace {

// One extension of Sec-WebSocket-Extensions (RFC 6455 section 9.1) and its parameters,
// each a name and an optional value (a quoted one unquoted).
struct Extension {
  std::string name;
  std::vector<std::pair<std::string, std::optional<std::string>>> params;
};

// The header's list of extensions; nullopt where its syntax is broken.
std::optional<std::vector<Extension>> parse_extensions(std::string_view h) {
  std::size_t i = 0;
  auto blanks = [&] {
    while (i < h.size() && (h[i] == ' ' || h[i] == '\t')) ++i;
  };
  auto token = [&] {
    const std::size_t from = i;
    while (i < h.size() && is_tchar(h[i])) ++i;
    return std::string(h.substr(from, i - from));
  };
  std::vector<Extension> out;
  for (;;) {
    while (blanks(), i < h.size() && h[i] == ',') ++i;  // a list may have empty elements
    if (i == h.size()) return out;
    Extension ext{.name = token(), .params = {}};
    if (ext.name.empty()) return std::nullopt;
    for (blanks(); i < h.size() && h[i] == ';'; blanks()) {
      ++i;
      blanks();
      std::string name = token();
      if (name.empty()) return std::nullopt;
      std::optional<std::string> value;
      blanks();
      if (i < h.size() && h[i] == '=') {
        ++i;
        blanks();
        if (i < h.size() && h[i] == '"') {
          std::string v;
          for (++i; i < h.size() && h[i] != '"'; ++i) {
            if (h[i] == '\\' && i + 1 < h.size()) ++i;
            v += h[i];
          }
          if (i == h.size()) return std::nullopt;  // no closing quote
          ++i;
          value = std::move(v);
        } else {
          value = token();
          if (value->empty()) return std::nullopt;
        }
      }
      ext.params.emplace_back(ascii_lower(name), std::move(value));
    }
    if (i < h.size() && h[i] != ',') return std::nullopt;
    out.push_back(std::move(ext));
  }
}

// A window bits value: 8 to 15 in decimal, without leading zeros (RFC 7692 section
// 7.1.2); nullopt for anything else.
std::optional<int> window_bits(const std::string& v) {
  if (v.empty() || v.size() > 2 || v[0] == '0') return std::nullopt;
  int n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  if (n < 8 || n > 15) return std::nullopt;
  return n;
}

constexpr std::string_view kDeflate = "permessage-deflate";

// permessage-deflate's parameters as given; a window's bits are 0 when the parameter
// came without a value.
struct DeflateParams {
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  std::optional<int> server_max_window_bits;
  std::optional<int> client_max_window_bits;
};

// Reads `ext`'s parameters into `out`: each known one at most once, the takeover ones
// without a value, the windows' bits 8 to 15. Returns what is wrong ("" when nothing).
std::string_view read_params(const Extension& ext, DeflateParams& out) {
  std::vector<std::string_view> seen;
  for (const auto& [name, value] : ext.params) {
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) return "Repeated parameter";
    seen.push_back(name);
    const bool takeover = !value && (name == "server_no_context_takeover" || name == "client_no_context_takeover");
    const bool window = name == "server_max_window_bits" || name == "client_max_window_bits";
    if (!takeover && !window) return "Unknown parameter";
    if (takeover) {
      (name[0] == 's' ? out.server_no_context_takeover : out.client_no_context_takeover) = true;
      continue;
    }
    std::optional<int> bits = value ? window_bits(*value) : std::optional<int>(0);
    if (!bits) return "Invalid window size";
    (name[0] == 's' ? out.server_max_window_bits : out.client_max_window_bits) = bits;
  }
  return {};
}

}  // namespace

std::optional<WSDeflateAnswer> ws_deflate_accept(std::string_view offers) {
  const auto list = parse_extensions(offers);
  if (!list) return std::nullopt;
  for (const Extension& ext : *list) {
    DeflateParams p;
    if (!ascii_iequals(ext.name, kDeflate) || !read_params(ext, p).empty()) continue;
    // server_max_window_bits needs a value; zlib cannot deflate with 8: decline, as
    // aiohttp. The client's own window may be anything: we inflate with 15 bits,
    // which reads any.
    if (p.server_max_window_bits && (*p.server_max_window_bits == 0 || *p.server_max_window_bits == 8)) continue;
    WSDeflateAnswer answer{.agreed = {}, .header = std::string(kDeflate)};
    WSDeflate& d = answer.agreed;
    d.server_no_context_takeover = p.server_no_context_takeover;
    d.client_no_context_takeover = p.client_no_context_takeover;
    if (p.client_max_window_bits.value_or(0) != 0) d.client_max_window_bits = *p.client_max_window_bits;
    if (d.server_no_context_takeover) answer.header += "; server_no_context_takeover";
    if (d.client_no_context_takeover) answer.header += "; client_no_context_takeover";
    if (p.server_max_window_bits) {
      d.server_max_window_bits = *p.server_max_window_bits;
      answer.header += "; server_max_window_bits=" + std::to_string(d.server_max_window_bits);
    }
    return answer;
  }
  return std::nullopt;
}

std::string ws_deflate_offer(int wbits) {
  std::string offer = std::string(kDeflate) + "; client_max_window_bits";
  if (wbits < 15) offer += "; server_max_window_bits=" + std::to_string(wbits);
  return offer;
}

std::optional<WSDeflate> ws_deflate_agreed(std::string_view answer, int offered_wbits) {
  const auto list = parse_extensions(answer);
  if (!list) throw ValueError("Invalid Sec-WebSocket-Extensions: " + std::string(answer));
  if (list->empty()) return std::nullopt;
  if (offered_wbits == 0 || list->size() != 1 || !ascii_iequals(list->front().name, kDeflate)) {
    throw ValueError("Extension not offered in Sec-WebSocket-Extensions: " + std::string(answer));
  }
  DeflateParams p;
  std::string_view wrong = read_params(list->front(), p);
  // The server's window is at most what we offered (an answer that leaves it out is
  // taken to keep to the offer: our inflater reads any window); ours, which we offered
  // the parameter for, must be one zlib can deflate with.
  const int server_bits = p.server_max_window_bits.value_or(offered_wbits);
  const int client_bits = p.client_max_window_bits.value_or(15);
  if (wrong.empty() && (server_bits == 0 || server_bits > offered_wbits || client_bits == 0 || client_bits == 8)) {
    wrong = "Invalid window size";
  }
  if (!wrong.empty()) throw ValueError(std::string(wrong) + " in Sec-WebSocket-Extensions: " + std::string(answer));
  return WSDeflate{.server_max_window_bits = server_bits,
                   .client_max_window_bits = client_bits,
                   .server_no_context_takeover = p.server_no_context_takeover,
                   .client_no_context_takeover = p.client_no_context_takeover};
}

std::string ws_accept_key(std::string_view key) {
  std::string text(key);
  text.append(kGuid);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha1(), nullptr) != 1) {
    throw RuntimeError("EVP_Digest(SHA-1) failed for Sec-WebSocket-Accept");
  }
  return base64_encode(std::string_view(reinterpret_cast<const char*>(digest), len));
}

// One connection's WebSocket state, shared by the response's copies.
struct WSSession {
  WSSession(WebSocketOptions o, bool client_side)
      : options(std::move(o)), client(client_side), frames(!client_side, options.max_msg_size) {}
  WebSocketOptions options;
  bool client;  // we are the client: our frames are masked, the server's are not
  WSFrameReader frames;
  std::optional<StreamReader> reader;
  std::optional<StreamWriter> writer;
  std::shared_ptr<void> owner;  // what holds the connection (the client's pool lease)
  std::string protocol;
  // permessage-deflate, once agreed: the window our messages are deflated with (0:
  // they go plain), and whether each starts with an empty window.
  int compress_bits = 0;
  bool no_takeover = false;
  bool client_no_takeover = false;
  std::optional<ZLibCompressor> deflater;  // made at the first message sent
  bool closed = false;   // our close frame went out (or the connection is gone)
  bool closing = false;  // the peer's close frame came
  bool waiting = false;  // a receive() waits
  std::optional<int> close_code;
  std::exception_ptr exception;

  /// Sends one frame (as the side we are); RuntimeError before the handshake,
  /// ConnectionResetError once our close frame went.
  void send(WSMsgType type, std::string_view data) {
    if (!writer) throw RuntimeError("Call .prepare() first");
    if (closed) throw ConnectionResetError(ECONNRESET, "Cannot write to closing transport");
    if (compress_bits == 0 || (type != WSMsgType::TEXT && type != WSMsgType::BINARY)) {
      writer->write(ws_frame(type, data, client));
      return;
    }
    // RFC 7692 section 7.2.1: deflate, flush, and drop the flush's empty stored block.
    if (!deflater) deflater.emplace(RawDeflate{compress_bits}, 1);  // Z_BEST_SPEED, as aiohttp
    std::string z;
    try {
      z = deflater->compress(data, no_takeover ? ZLibCompressor::Flush::full : ZLibCompressor::Flush::sync);
    } catch (...) {
      // Our window may hold what the peer never gets: a new one refers to nothing.
      deflater.reset();
      throw;
    }
    if (z.ends_with(std::string_view("\x00\x00\xff\xff", 4))) z.resize(z.size() - 4);
    writer->write(ws_frame(type, z, client, true));
  }
  /// permessage-deflate was agreed on these parameters.
  void agree(const WSDeflate& d) noexcept {
    frames.accept_deflate();
    compress_bits = client ? d.client_max_window_bits : d.server_max_window_bits;
    no_takeover = client ? d.client_no_context_takeover : d.server_no_context_takeover;
    client_no_takeover = d.client_no_context_takeover;
  }
  /// The connection is done with: closed once what is buffered is sent.
  void finish() noexcept {
    stop_heartbeat();
    writer->close();
    owner.reset();
  }

  // --- heartbeat (aiohttp's): a ping after `heartbeat` quiet seconds; no answer
  // within half of it closes the connection. One timer at a time: a frame only notes
  // its time, and the timer, when it fires, looks at that time and sets itself again.
  TimerHandle heartbeat_timer;
  double last_seen = 0;   // loop time of the last frame from the peer
  double ping_sent = -1;  // loop time of the ping not answered yet, or -1
  ~WSSession() { stop_heartbeat(); }
  void stop_heartbeat() noexcept { heartbeat_timer.cancel(); }
  /// At the handshake: the quiet time starts.
  void start_heartbeat(const std::shared_ptr<WSSession>& self) {
    if (!options.heartbeat) return;
    last_seen = get_running_loop().time();
    arm_heartbeat(self, last_seen + *options.heartbeat);
  }
  /// A frame came from the peer.
  void saw_frame() {
    if (options.heartbeat) last_seen = get_running_loop().time();
  }
  void arm_heartbeat(const std::shared_ptr<WSSession>& self, double when) {
    heartbeat_timer = get_running_loop().call_at(when, [w = std::weak_ptr<WSSession>(self)] {
      if (auto s = w.lock()) s->on_heartbeat(s);
    });
  }
  void on_heartbeat(const std::shared_ptr<WSSession>& self) {
    if (closed) return;
    const double beat = *options.heartbeat;
    if (ping_sent >= 0 && last_seen < ping_sent) {  // half a beat, and no answer
      closed = true;
      close_code = WSCloseCode::ABNORMAL_CLOSURE;
      exception = std::make_exception_ptr(TimeoutError("no answer to the heartbeat's ping"));
      finish();  // a receive() that waits sees the connection end
      return;
    }
    ping_sent = -1;
    const double now = get_running_loop().time();
    if (now < last_seen + beat) {  // not quiet for a whole beat yet
      arm_heartbeat(self, last_seen + beat);
      return;
    }
    writer->write(ws_frame(WSMsgType::PING, "", client));
    ping_sent = now;
    arm_heartbeat(self, now + beat / 2);
  }
};

}  // namespace detail

namespace {

using detail::WSSession;

// A header's comma-separated tokens, trimmed.
std::vector<std::string> header_tokens(std::string_view value) {
  std::vector<std::string> out;
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    const std::string_view token = detail::trim_blanks(value.substr(0, comma));
    if (!token.empty()) out.emplace_back(token);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return out;
}

// Every value of the header `name`, joined by commas (a list's header may come in
// several lines).
std::string joined_values(const CIMultiDict& headers, std::string_view name) {
  std::string out;
  for (std::string_view v : headers.getall(name)) {
    if (!out.empty()) out += ", ";
    out.append(v);
  }
  return out;
}

// Whether a header's value is exactly the one token `want`, in any case.
bool only_token(std::optional<std::string_view> value, std::string_view want) {
  const std::vector<std::string> tokens = header_tokens(value.value_or(""));
  return tokens.size() == 1 && ascii_iequals(tokens[0], want);
}

// Whether a header's tokens include `want`, in any case.
bool has_token(std::optional<std::string_view> value, std::string_view want) {
  for (const std::string& t : header_tokens(value.value_or(""))) {
    if (ascii_iequals(t, want)) return true;
  }
  return false;
}

// Why `request` is not a WebSocket handshake we take ("" when it is one), as aiohttp
// words it; `protocol` gets the subprotocol chosen.
std::string handshake_error(const Request& request, const WebSocketOptions& options, std::string& protocol) {
  if (!only_token(request.header("Upgrade"), "websocket")) {
    return "No WebSocket UPGRADE hdr: " + std::string(request.header("Upgrade").value_or("")) +
           "\n Can \"Upgrade\" only to \"WebSocket\".";
  }
  if (!has_token(request.header("Connection"), "upgrade")) {
    return "No CONNECTION upgrade hdr: " + std::string(request.header("Connection").value_or(""));
  }
  const std::string_view version = request.header("Sec-WebSocket-Version").value_or("");
  if (version != "13" && version != "8" && version != "7") return "Unsupported version: " + std::string(version);
  const std::string_view key = request.header("Sec-WebSocket-Key").value_or("");
  unsigned char raw[24];
  const bool key_ok = key.size() == 24 && key.substr(22) == "==" &&
                      EVP_DecodeBlock(raw, reinterpret_cast<const unsigned char*>(key.data()), 24) == 18;
  if (!key_ok) return "Handshake error: '" + std::string(key) + "'";
  protocol.clear();
  for (const std::string& offered : header_tokens(request.header("Sec-WebSocket-Protocol").value_or(""))) {
    if (std::find(options.protocols.begin(), options.protocols.end(), offered) != options.protocols.end()) {
      protocol = offered;
      break;
    }
  }
  return {};
}

// The next message off the wire; nullopt at the peer's EOF.
Coro<std::optional<WSMessage>> read_message(std::shared_ptr<WSSession> s) {
  StreamReader& reader = *s->reader;
  for (;;) {
    const std::string_view buf = reader.buffered();
    if (!buf.empty()) {
      std::optional<WSMessage> msg;
      const std::size_t n = s->frames.feed(buf, msg);
      if (n != 0) {
        reader.consume(n);
        s->saw_frame();
        if (msg) co_return msg;
        continue;
      }
    }
    if (!co_await reader.fill()) co_return std::nullopt;
  }
}

// close()'s wait for the peer's close frame: the code it carries, or nullopt at EOF.
Coro<std::optional<int>> peer_close_code(std::shared_ptr<WSSession> s) {
  for (;;) {
    std::optional<WSMessage> msg = co_await read_message(s);
    if (!msg) co_return std::nullopt;
    if (msg->type == WSMsgType::CLOSE) co_return msg->code;
  }
}

}  // namespace

WebSocketResponse::WebSocketResponse(WebSocketOptions options)
    : StreamResponse(101), WebSocketMethods(std::make_shared<WSSession>(std::move(options), false)) {}

WebSocketResponse::Ready WebSocketResponse::can_prepare(const Request& request) const {
  std::string protocol;
  if (request.method() != "GET" || !handshake_error(request, ws_->options, protocol).empty()) return {};
  return {true, protocol};
}

Coro<void> WebSocketResponse::prepare(Request& request) {
  auto s = ws_;
  if (s->reader) co_return;
  if (request.method() != "GET") throw HTTPMethodNotAllowed(request.method(), {"GET"});
  std::string protocol;
  const std::string error = handshake_error(request, s->options, protocol);
  if (!error.empty()) {
    Headers headers;
    if (error.starts_with("Unsupported version")) headers.add("Sec-WebSocket-Version", "13");
    throw HTTPBadRequest({.headers = std::move(headers), .text = error});
  }
  set_status(101);
  headers().set("Upgrade", "websocket");
  headers().set("Connection", "upgrade");
  headers().set("Sec-WebSocket-Accept", detail::ws_accept_key(*request.header("Sec-WebSocket-Key")));
  if (!protocol.empty()) headers().set("Sec-WebSocket-Protocol", protocol);
  std::optional<detail::WSDeflateAnswer> deflate;
  if (s->options.compress) {
    deflate = detail::ws_deflate_accept(joined_values(request.headers(), "Sec-WebSocket-Extensions"));
    if (deflate) headers().set("Sec-WebSocket-Extensions", deflate->header);
  }
  co_await StreamResponse::prepare(request);
  if (deflate) s->agree(deflate->agreed);
  s->protocol = std::move(protocol);
  s->reader.emplace(conn_->reader_);
  s->writer.emplace(conn_->writer_);
  s->start_heartbeat(s);
}

namespace {

Coro<void> send_frame(std::shared_ptr<WSSession> s, WSMsgType type, std::string_view data) {
  s->send(type, data);
  co_await s->writer->drain();
}

}  // namespace

Coro<void> detail::WebSocketMethods::send_str(std::string_view data) {
  if (!detail::valid_utf8(data)) throw ValueError("send_str() takes valid UTF-8 text; send_bytes() sends bytes");
  co_await send_frame(ws_, WSMsgType::TEXT, data);
}

Coro<void> detail::WebSocketMethods::send_bytes(std::string_view data) { co_await send_frame(ws_, WSMsgType::BINARY, data); }

Coro<void> detail::WebSocketMethods::send_json(const nlohmann::json& data) {
  co_await send_frame(ws_, WSMsgType::TEXT, data.dump());
}

Coro<void> detail::WebSocketMethods::ping(std::string_view message) {
  if (message.size() > 125) throw ValueError("A ping's payload is at most 125 bytes");
  co_await send_frame(ws_, WSMsgType::PING, message);
}

Coro<void> detail::WebSocketMethods::pong(std::string_view message) {
  if (message.size() > 125) throw ValueError("A pong's payload is at most 125 bytes");
  co_await send_frame(ws_, WSMsgType::PONG, message);
}

Coro<bool> detail::WebSocketMethods::close(int code, std::string_view message) {
  auto s = ws_;
  if (!s->writer) throw RuntimeError("Call .prepare() first");
  if (message.size() > 123) throw ValueError("A close reason is at most 123 bytes");
  if (s->closed) co_return false;
  std::exception_ptr failed;
  try {
    s->send(WSMsgType::CLOSE, detail::ws_close_payload(code, message));
    s->closed = true;
    co_await s->writer->drain();
  } catch (const CancelledError&) {
    s->close_code = WSCloseCode::ABNORMAL_CLOSURE;
    throw;
  } catch (const std::exception&) {
    failed = std::current_exception();
  }
  if (failed) {  // the connection is gone
    s->closed = true;
    s->finish();
    s->close_code = WSCloseCode::ABNORMAL_CLOSURE;
    s->exception = failed;
    co_return true;
  }
  if (s->closing || s->waiting) {
    // The peer's close came already, or the receive() that waits will get it.
    if (!s->close_code) s->close_code = code;
    if (s->closing) s->finish();
    co_return true;
  }
  std::optional<int> peer;
  try {
    peer = co_await wait_for(peer_close_code(s), s->options.timeout);
  } catch (const CancelledError&) {
    s->close_code = WSCloseCode::ABNORMAL_CLOSURE;
    throw;
  } catch (const std::exception&) {
    failed = std::current_exception();
  }
  s->finish();
  if (failed || !peer) {
    s->close_code = WSCloseCode::ABNORMAL_CLOSURE;
    s->exception = failed;
    co_return true;
  }
  s->close_code = *peer;
  co_return true;
}

Coro<WSMessage> detail::WebSocketMethods::receive(std::optional<double> timeout) {
  auto s = ws_;
  if (!s->reader) throw RuntimeError("Call .prepare() first");
  for (;;) {
    if (s->waiting) throw RuntimeError("Concurrent call to receive() is not allowed");
    if (s->closed) co_return WSMessage{.type = WSMsgType::CLOSED};
    if (s->closing) co_return WSMessage{.type = WSMsgType::CLOSING};
    std::optional<WSMessage> msg;
    std::exception_ptr failed;
    int fail_code = WSCloseCode::ABNORMAL_CLOSURE;
    {
      aio::detail::BusyFlag waiting(s->waiting);
      const std::optional<double> limit = timeout ? timeout : s->options.receive_timeout;
      try {
        if (limit) {
          msg = co_await wait_for(read_message(s), *limit);
        } else {
          msg = co_await read_message(s);
        }
      } catch (const CancelledError&) {
        s->close_code = WSCloseCode::ABNORMAL_CLOSURE;
        throw;
      } catch (const TimeoutError&) {
        s->close_code = WSCloseCode::ABNORMAL_CLOSURE;
        throw;
      } catch (const WebSocketError& e) {
        failed = std::current_exception();
        fail_code = e.code();
      } catch (const std::exception&) {
        failed = std::current_exception();
      }
    }
    if (failed) {
      // A protocol violation is answered with its close code; a lost connection is
      // only noted.
      s->exception = failed;
      s->close_code = fail_code;
      if (fail_code == WSCloseCode::ABNORMAL_CLOSURE) {
        s->closing = true;
        s->closed = true;
        s->finish();
      } else {
        s->closing = true;  // fail the connection: our close frame, then no wait
        co_await close(fail_code);
      }
      co_return WSMessage{.type = WSMsgType::ERROR, .exception = failed};
    }
    if (!msg) {  // the peer went without a close frame
      s->closing = true;
      s->closed = true;
      s->close_code = WSCloseCode::ABNORMAL_CLOSURE;
      s->finish();
      co_return WSMessage{.type = WSMsgType::CLOSED};
    }
    switch (msg->type) {
      case WSMsgType::CLOSE:
        s->closing = true;
        s->close_code = msg->code;
        if (s->closed) {
          s->finish();  // the answer to our close frame: the close handshake is done
        } else if (s->options.autoclose) {
          co_await close();
          s->close_code = msg->code;
        }
        break;
      case WSMsgType::PING:
        if (s->options.autoping) {
          if (!s->closed) co_await pong(msg->data);
          continue;
        }
        break;
      case WSMsgType::PONG:
        if (s->options.autoping) continue;
        break;
      default:
        break;
    }
    co_return std::move(*msg);
  }
}

namespace {

std::string type_name(WSMsgType t) {
  switch (t) {
    case WSMsgType::TEXT: return "TEXT";
    case WSMsgType::BINARY: return "BINARY";
    case WSMsgType::CLOSE: return "CLOSE";
    case WSMsgType::PING: return "PING";
    case WSMsgType::PONG: return "PONG";
    case WSMsgType::CLOSING: return "CLOSING";
    case WSMsgType::CLOSED: return "CLOSED";
    case WSMsgType::ERROR: return "ERROR";
    default: return "CONTINUATION";
  }
}

}  // namespace

Coro<std::string> detail::WebSocketMethods::receive_str(std::optional<double> timeout) {
  WSMessage msg = co_await receive(timeout);
  if (msg.type != WSMsgType::TEXT) throw TypeError("Received message " + type_name(msg.type) + " is not a TEXT message");
  co_return std::move(msg.data);
}

Coro<std::string> detail::WebSocketMethods::receive_bytes(std::optional<double> timeout) {
  WSMessage msg = co_await receive(timeout);
  if (msg.type != WSMsgType::BINARY) throw TypeError("Received message " + type_name(msg.type) + " is not a BINARY message");
  co_return std::move(msg.data);
}

Coro<nlohmann::json> detail::WebSocketMethods::receive_json(std::optional<double> timeout) {
  std::string text = co_await receive_str(timeout);
  co_return nlohmann::json::parse(text);
}

// --- the client

Coro<ClientWebSocketResponse> ClientSession::ws_connect(std::string_view url, const WSConnectOptions& o) {
  if (o.compress != 0 && (o.compress < 9 || o.compress > 15)) {
    throw ValueError("Compress wbits must between 9 and 15, zlib does not support wbits=8");
  }
  unsigned char nonce[16];
  if (RAND_bytes(nonce, sizeof nonce) != 1) throw RuntimeError("RAND_bytes failed: no Sec-WebSocket-Key");
  const std::string key = detail::base64_encode(std::string_view(reinterpret_cast<const char*>(nonce), sizeof nonce));
  std::string offered;
  for (std::string_view p : o.protocols) {
    if (!offered.empty()) offered += ", ";
    offered += p;
  }
  CIMultiDict headers;
  o.headers.for_each([&](std::string_view k, std::string_view v) { headers.add(k, v); });
  headers.set("Upgrade", "websocket");
  headers.set("Connection", "Upgrade");
  headers.set("Sec-WebSocket-Version", "13");
  headers.set("Sec-WebSocket-Key", key);
  if (!offered.empty()) headers.set("Sec-WebSocket-Protocol", offered);
  if (!o.origin.empty()) headers.set("Origin", o.origin);
  if (o.compress != 0) headers.set("Sec-WebSocket-Extensions", detail::ws_deflate_offer(o.compress));
  const RequestOptions request{.params = o.params, .headers = headers, .auth = o.auth, .ssl = o.ssl};
  ClientResponse resp = co_await request_("GET", url, request, true, true);

  auto refuse = [&](const std::string& why) {
    const int status = resp.status();
    std::string where = resp.url().str();
    ClientResponseError::HeaderList fields = resp.headers().items();
    resp.close();
    throw WSServerHandshakeError(status, why, std::move(where), std::move(fields));
  };
  if (resp.status() != 101) refuse("Invalid response status");
  if (!only_token(resp.header("Upgrade"), "websocket")) refuse("Invalid upgrade header");
  if (!only_token(resp.header("Connection"), "upgrade")) refuse("Invalid connection header");
  if (resp.header("Sec-WebSocket-Accept").value_or("") != detail::ws_accept_key(key)) refuse("Invalid challenge response");
  std::optional<detail::WSDeflate> deflate;
  std::string bad_extensions;
  try {
    deflate = detail::ws_deflate_agreed(joined_values(resp.headers(), "Sec-WebSocket-Extensions"), o.compress);
  } catch (const ValueError& e) {
    bad_extensions = e.what();
  }
  if (!bad_extensions.empty()) refuse(bad_extensions);
  std::string protocol;
  if (o.protocols.size() != 0) {
    for (const std::string& chosen : header_tokens(resp.header("Sec-WebSocket-Protocol").value_or(""))) {
      if (std::find(o.protocols.begin(), o.protocols.end(), chosen) != o.protocols.end()) {
        protocol = chosen;
        break;
      }
    }
  }

  WebSocketOptions options{.timeout = o.timeout, .receive_timeout = o.receive_timeout, .autoclose = o.autoclose,
                           .autoping = o.autoping, .heartbeat = o.heartbeat, .max_msg_size = o.max_msg_size};
  auto s = std::make_shared<WSSession>(std::move(options), true);
  auto lease = std::make_shared<detail::Lease>(std::move(resp.state()->conn));
  s->reader.emplace((*lease)->reader);
  s->writer.emplace((*lease)->writer);
  s->owner = std::move(lease);
  s->protocol = std::move(protocol);
  if (deflate) s->agree(*deflate);
  s->start_heartbeat(s);
  co_return ClientWebSocketResponse(std::move(s));
}

std::string WebSocketResponse::ws_protocol() const { return ws_->protocol; }
std::string ClientWebSocketResponse::protocol() const { return ws_->protocol; }
bool ClientWebSocketResponse::client_notakeover() const noexcept { return ws_->client_no_takeover; }
int detail::WebSocketMethods::compress() const noexcept { return ws_->compress_bits; }

bool detail::WebSocketMethods::closed() const noexcept { return ws_->closed; }
std::optional<int> detail::WebSocketMethods::close_code() const noexcept { return ws_->close_code; }
std::exception_ptr detail::WebSocketMethods::exception() const noexcept { return ws_->exception; }

}  // namespace aio::http
