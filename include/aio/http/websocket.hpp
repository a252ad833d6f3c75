// aio/http/websocket.hpp: WebSockets (RFC 6455), in the model of aiohttp: the
// server's web.WebSocketResponse, the client's ClientSession::ws_connect and
// ClientWebSocketResponse, and the frames of its http_websocket module.
//
//   aio::Coro<web::StreamResponse> echo(web::Request& request) {
//     web::WebSocketResponse ws;
//     co_await ws.prepare(request);              // the handshake: 101 Switching Protocols
//     for (;;) {
//       web::WSMessage msg = co_await ws.receive();
//       if (msg.type == web::WSMsgType::TEXT) {
//         co_await ws.send_str("echo: " + msg.data);
//       } else if (msg.type == web::WSMsgType::BINARY) {
//         co_await ws.send_bytes(msg.data);
//       } else {
//         break;                                 // CLOSE, CLOSING, CLOSED or ERROR
//       }
//     }
//     co_return ws;
//   }
//
//   aio::http::ClientWebSocketResponse ws = co_await session.ws_connect("http://127.0.0.1:8080/ws");
//   co_await ws.send_str("hello");
//   std::string answer = co_await ws.receive_str();
//   co_await ws.close();
//
// Python's `async for msg in ws` is the loop above: it ends at the first message that
// is not TEXT, BINARY, PING or PONG. receive() answers pings itself (autoping) and
// answers the peer's close frame (autoclose); a protocol violation by the peer (an
// unmasked frame, a bad opcode, invalid UTF-8 in a text message, a message over
// max_msg_size) closes the connection with the matching close code and comes back as
// an ERROR message. With `heartbeat`, a connection quiet for that long gets a ping,
// and one that stays silent is closed.
//
// Per-message compression (RFC 7692's permessage-deflate) as aiohttp: the server
// accepts it when the client offers it (WebSocketOptions::compress, on by default, as
// browsers always offer it), and the client offers it with WSConnectOptions::compress
// = 15 (off by default, as aiohttp's ws_connect). Once agreed, every text and binary
// message goes out compressed, and compressed messages are read as well as plain ones.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "aio/coro.hpp"
#include "aio/http/compression.hpp"
#include "aio/http/web_response.hpp"

namespace aio::http {

/// The kinds of message receive() gives (aiohttp's WSMsgType): the frame opcodes, and
/// CLOSING, CLOSED and ERROR for the connection's state.
enum class WSMsgType : int {
  CONTINUATION = 0x0,
  TEXT = 0x1,
  BINARY = 0x2,
  CLOSE = 0x8,
  PING = 0x9,
  PONG = 0xA,
  CLOSING = 0x100,
  CLOSED = 0x101,
  ERROR = 0x102,
};

/// The close codes of RFC 6455 section 7.4 (aiohttp's WSCloseCode).
struct WSCloseCode {
  enum : int {
    OK = 1000,
    GOING_AWAY = 1001,
    PROTOCOL_ERROR = 1002,
    UNSUPPORTED_DATA = 1003,
    ABNORMAL_CLOSURE = 1006,
    INVALID_TEXT = 1007,
    POLICY_VIOLATION = 1008,
    MESSAGE_TOO_BIG = 1009,
    MANDATORY_EXTENSION = 1010,
    INTERNAL_ERROR = 1011,
    SERVICE_RESTART = 1012,
    TRY_AGAIN_LATER = 1013,
    BAD_GATEWAY = 1014,
  };
};

/// A violation of the protocol by the peer (aiohttp's WebSocketError): the close code
/// it calls for and what was wrong.
class WebSocketError : public std::runtime_error {
 public:
  WebSocketError(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int code() const noexcept { return code_; }

 private:
  int code_;
};

/// One message (aiohttp's WSMessage). TEXT and BINARY: `data` is the payload (a text
/// message is checked UTF-8); PING and PONG: their payload. CLOSE: `code` is the
/// peer's close code (aiohttp's data) and `extra` its reason. ERROR: `exception` is
/// what went wrong (a WebSocketError, or the connection's error).
struct WSMessage {
  WSMsgType type = WSMsgType::CLOSED;
  std::string data{};
  int code = 0;
  std::string extra{};
  std::exception_ptr exception{};

  /// The payload parsed as JSON (nlohmann::json::parse_error when it is not).
  nlohmann::json json() const { return nlohmann::json::parse(data); }
};

namespace detail {

/// Reads frames incrementally and puts messages together (aiohttp's WebSocketReader):
/// continuation frames are joined, control frames come through between them. Throws
/// WebSocketError for what RFC 6455 says must fail the connection.
class WSFrameReader {
 public:
  /// `masked`: frames must be masked (a server reads a client's), or must not be.
  WSFrameReader(bool masked, std::size_t max_msg_size) noexcept : masked_(masked), max_msg_size_(max_msg_size) {}

  /// permessage-deflate was agreed: a message whose first frame has RSV1 set is
  /// compressed, and is inflated as it comes (RFC 7692 section 7.2.2), its inflated
  /// size held to max_msg_size. Without it RSV1 is a protocol error.
  void accept_deflate() noexcept { deflate_ = true; }

  /// Takes at most one whole frame from the front of `in`; returns the bytes it took
  /// (0: the frame is not all there yet). A frame that ends a message, or a control
  /// frame, sets `out`.
  std::size_t feed(std::string_view in, std::optional<WSMessage>& out);

 private:
  /// Inflates a compressed message's next piece onto partial_.
  void inflate(std::string_view piece);

  bool masked_;
  std::size_t max_msg_size_;  // 0: no limit
  bool deflate_ = false;      // permessage-deflate agreed
  bool fragmented_ = false;   // a message's first frames came, not its last
  bool compressed_ = false;   // the message being put together is compressed
  WSMsgType fragment_type_ = WSMsgType::TEXT;
  std::string partial_;
  std::string scratch_;  // a compressed frame's payload, unmasked
  std::optional<ZLibDecompressor> inflater_;  // made at the first compressed message
};

/// One frame of `payload` with FIN set; masked with a random key when `masked` (as a
/// client sends); RSV1 set when `compressed` (permessage-deflate's mark).
std::string ws_frame(WSMsgType opcode, std::string_view payload, bool masked, bool compressed = false);
/// A close frame's payload: the code (big-endian) and the reason.
std::string ws_close_payload(int code, std::string_view reason);
/// Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + RFC 6455's GUID)).
std::string ws_accept_key(std::string_view key);
/// Whether `s` is valid UTF-8 (no overlong forms, surrogates or code points past
/// U+10FFFF).
bool valid_utf8(std::string_view s) noexcept;

/// permessage-deflate's agreed parameters (RFC 7692 section 7.1): each side's window
/// bits, and whether each side starts every message with an empty window.
struct WSDeflate {
  int server_max_window_bits = 15;
  int client_max_window_bits = 15;
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
};

/// What a server answers a client's Sec-WebSocket-Extensions (every value of the
/// header, joined by commas): the first permessage-deflate offer it accepts, and the
/// response header's value; nullopt when it accepts none. As RFC 7692 section 7.1
/// says, an offer with an unknown, repeated or invalid parameter is declined, and so
/// is server_max_window_bits=8 (zlib cannot deflate with a window of 8).
struct WSDeflateAnswer {
  WSDeflate agreed;
  std::string header;
};
std::optional<WSDeflateAnswer> ws_deflate_accept(std::string_view offers);
/// The client's offer for the server's messages compressed with a window of `wbits`
/// (aiohttp's ws_ext_gen): "permessage-deflate; client_max_window_bits", and
/// server_max_window_bits when `wbits` is under 15.
std::string ws_deflate_offer(int wbits);
/// The client's reading of the server's Sec-WebSocket-Extensions after offering
/// `offered_wbits` (0: nothing offered): the agreed parameters, or nullopt when the
/// server declined. ValueError naming what is wrong with an answer the client must
/// fail the connection for (an extension not offered, a bad parameter).
std::optional<WSDeflate> ws_deflate_agreed(std::string_view answer, int offered_wbits);

struct WSSession;

}  // namespace detail

/// Options of WebSocketResponse (aiohttp's keyword arguments of the same names).
struct WebSocketOptions {
  /// How long close() waits for the peer's close frame, in seconds.
  double timeout = 10.0;
  /// receive()'s own default timeout (none: it waits as long as it takes).
  std::optional<double> receive_timeout{};
  /// Answer the peer's close frame inside receive().
  bool autoclose = true;
  /// Answer pings (and drop pongs) inside receive().
  bool autoping = true;
  /// Send a ping when nothing came for this many seconds, and close the connection
  /// (ABNORMAL_CLOSURE, a TimeoutError) when nothing answers within half of it.
  std::optional<double> heartbeat{};
  /// Subprotocols the server speaks, preferred first; the first one the client also
  /// offers is chosen.
  std::vector<std::string> protocols{};
  /// Messages larger than this fail the connection with MESSAGE_TOO_BIG (0: no limit);
  /// a compressed message's limit is on its inflated size.
  std::size_t max_msg_size = 4 * 1024 * 1024;
  /// Accept permessage-deflate when the client offers it (aiohttp's compress=True).
  /// zlib's state is made at the first message compressed each way: about 256 KiB to
  /// send with a 15-bit window and 40 KiB to receive, per connection, as aiohttp's.
  bool compress = true;
};

namespace detail {

/// What both ends of a WebSocket do once the handshake is over: WebSocketResponse
/// (the server's) and ClientWebSocketResponse (the client's) are this, plus their
/// handshake. Copies share one connection.
class WebSocketMethods {
 public:
  Coro<void> send_str(std::string_view data);
  Coro<void> send_bytes(std::string_view data);
  Coro<void> send_json(const nlohmann::json& data);
  Coro<void> ping(std::string_view message = {});
  Coro<void> pong(std::string_view message = {});
  /// Sends a close frame and waits (up to the timeout option) for the peer's; true
  /// the first time, false when it was closed already. ValueError for a reason over
  /// 123 bytes (a control frame carries 125).
  Coro<bool> close(int code = WSCloseCode::OK, std::string_view message = {});

  /// The next message; TimeoutError after `timeout` (or the receive_timeout option)
  /// seconds. After the close it gives CLOSED (CLOSING once the peer's close came
  /// and autoclose is off). RuntimeError before the handshake or while another
  /// receive() waits.
  Coro<WSMessage> receive(std::optional<double> timeout = std::nullopt);
  /// The next message's text (TypeError for anything but a TEXT message).
  Coro<std::string> receive_str(std::optional<double> timeout = std::nullopt);
  /// The next message's bytes (TypeError for anything but a BINARY message).
  Coro<std::string> receive_bytes(std::optional<double> timeout = std::nullopt);
  Coro<nlohmann::json> receive_json(std::optional<double> timeout = std::nullopt);

  /// close() was called or the connection is gone.
  bool closed() const noexcept;
  /// The close code once the connection closed (the peer's, or the one we sent).
  std::optional<int> close_code() const noexcept;
  /// What made the connection fail, if something did.
  std::exception_ptr exception() const noexcept;
  /// The window bits this end compresses its messages with (9 to 15), or 0 when
  /// permessage-deflate was not agreed (aiohttp's compress).
  int compress() const noexcept;

 protected:
  explicit WebSocketMethods(std::shared_ptr<WSSession> ws) noexcept : ws_(std::move(ws)) {}
  ~WebSocketMethods() = default;
  WebSocketMethods(const WebSocketMethods&) = default;
  WebSocketMethods(WebSocketMethods&&) noexcept = default;
  WebSocketMethods& operator=(const WebSocketMethods&) = default;
  WebSocketMethods& operator=(WebSocketMethods&&) noexcept = default;
  std::shared_ptr<WSSession> ws_;
};

}  // namespace detail

/// The server's side of a WebSocket (aiohttp's web.WebSocketResponse). prepare()
/// checks the handshake (HTTPBadRequest for a request that is not a WebSocket
/// upgrade) and answers 101; then the connection carries frames until close(). The
/// handler returns the response when it is done with it, and the server then closes
/// the connection.
class WebSocketResponse : public StreamResponse, public detail::WebSocketMethods {
 public:
  explicit WebSocketResponse(WebSocketOptions options = {});

  /// Whether `request` is a WebSocket handshake this response would accept, and the
  /// subprotocol it would choose (aiohttp's can_prepare).
  struct Ready {
    bool ok = false;
    std::string protocol{};
    explicit operator bool() const noexcept { return ok; }
  };
  Ready can_prepare(const Request& request) const;
  /// The handshake: HTTPBadRequest (400) when the request is not a valid upgrade to
  /// WebSocket version 13 (with Sec-WebSocket-Version: 13 in the answer), 405 for a
  /// method other than GET.
  Coro<void> prepare(Request& request);
  /// The subprotocol chosen ("" for none).
  std::string ws_protocol() const;
};

/// The client's side (aiohttp's ClientWebSocketResponse), from ClientSession::ws_connect.
/// It holds its connection (counted against the connector's limits) until it is
/// closed or the last copy goes.
class ClientWebSocketResponse : public detail::WebSocketMethods {
 public:
  explicit ClientWebSocketResponse(std::shared_ptr<detail::WSSession> ws) noexcept : WebSocketMethods(std::move(ws)) {}
  /// The subprotocol the server chose ("" for none).
  std::string protocol() const;
  /// The server asked this end to compress every message with an empty window
  /// (client_no_context_takeover).
  bool client_notakeover() const noexcept;
};

namespace web {
using http::WebSocketError;
using http::WebSocketOptions;
using http::WebSocketResponse;
using http::WSCloseCode;
using http::WSMessage;
using http::WSMsgType;
}  // namespace web

}  // namespace aio::http
