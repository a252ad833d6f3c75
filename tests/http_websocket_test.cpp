// WebSockets (aio/http/websocket.hpp): the frame reader and writer on RFC 6455's own
// examples and on every rule that fails a connection; the server's WebSocketResponse
// against a hand-written client on 127.0.0.1 (frames made and checked byte by byte)
// and against aiohttp's client (python3) as the real peer. The close timeout runs on
// the virtual clock; the rest is bounded by wait_for timeouts only a hang reaches.
#include <string>
#include <vector>

#include "aio/http.hpp"
#include "support/aio_test.hpp"
#include "support/python_peer.hpp"

namespace aio::http {
namespace {

using detail::WSFrameReader;
using detail::ws_frame;

constexpr double kBound = 20;  // seconds: only a hung test reaches it

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s += static_cast<char>(c);
  return s;
}

// Everything `reader` makes of `in`, fed in one piece (each call takes one frame).
std::vector<WSMessage> read_all(WSFrameReader& reader, std::string_view in) {
  std::vector<WSMessage> out;
  while (!in.empty()) {
    std::optional<WSMessage> m;
    const std::size_t n = reader.feed(in, m);
    if (n == 0) break;
    in.remove_prefix(n);
    if (m) out.push_back(std::move(*m));
  }
  return out;
}

int error_code(bool masked, std::string_view in, std::size_t max_size = 0) {
  WSFrameReader reader(masked, max_size);
  try {
    read_all(reader, in);
  } catch (const WebSocketError& e) {
    return e.code();
  }
  return 0;
}

// --- the frame reader and writer

TEST(WebSocketFrames, AcceptKeyIsTheOneOfRfc6455) {
  EXPECT_EQ(detail::ws_accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WebSocketFrames, ReadsTheExamplesOfRfc6455Section5_7) {
  WSFrameReader client(false, 0);  // a client reads unmasked frames
  auto m = read_all(client, bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].type, WSMsgType::TEXT);
  EXPECT_EQ(m[0].data, "Hello");

  WSFrameReader server(true, 0);  // a server reads masked ones
  m = read_all(server, bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].data, "Hello");

  // A fragmented text message, then an unmasked ping and pong.
  m = read_all(client, bytes({0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f, 0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c,
                              0x6f, 0x8a, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].type, WSMsgType::TEXT);
  EXPECT_EQ(m[0].data, "Hello");
  EXPECT_EQ(m[1].type, WSMsgType::PING);
  EXPECT_EQ(m[1].data, "Hello");
  EXPECT_EQ(m[2].type, WSMsgType::PONG);

  // 256 bytes of binary (a 16-bit length) and 65536 (a 64-bit one).
  std::string f = bytes({0x82, 0x7E, 0x01, 0x00}) + std::string(256, 'b');
  f += bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00}) + std::string(65536, 'c');
  m = read_all(client, f);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].type, WSMsgType::BINARY);
  EXPECT_EQ(m[0].data, std::string(256, 'b'));
  EXPECT_EQ(m[1].data, std::string(65536, 'c'));
}

TEST(WebSocketFrames, WhatTheWriterMakesTheReaderReadsBackAtEverySize) {
  for (std::size_t n : {0u, 1u, 125u, 126u, 127u, 65535u, 65536u, 70000u}) {
    std::string payload(n, '\0');
    for (std::size_t i = 0; i < n; ++i) payload[i] = static_cast<char>(i * 7);
    for (bool masked : {false, true}) {
      const std::string frame = ws_frame(WSMsgType::BINARY, payload, masked);
      const std::size_t header = (n < 126 ? 2 : n <= 0xFFFF ? 4 : 10) + (masked ? 4 : 0);
      EXPECT_EQ(frame.size(), header + n);
      WSFrameReader reader(masked, 0);
      auto m = read_all(reader, frame);
      ASSERT_EQ(m.size(), 1u) << n;
      EXPECT_EQ(m[0].data, payload) << n << " masked=" << masked;
    }
  }
  // Two masked frames never share a key (RFC 6455 section 5.3: unpredictable).
  EXPECT_NE(ws_frame(WSMsgType::TEXT, "same", true), ws_frame(WSMsgType::TEXT, "same", true));
}

TEST(WebSocketFrames, AFrameFedByteByByteComesOutOnceWhole) {
  const std::string frame = ws_frame(WSMsgType::TEXT, std::string(300, 'x'), true);
  WSFrameReader reader(true, 0);
  std::optional<WSMessage> m;
  for (std::size_t have = 0; have < frame.size(); ++have) {
    ASSERT_EQ(reader.feed(std::string_view(frame).substr(0, have), m), 0u) << have;
    EXPECT_FALSE(m);
  }
  EXPECT_EQ(reader.feed(frame, m), frame.size());
  ASSERT_TRUE(m);
  EXPECT_EQ(m->data, std::string(300, 'x'));
}

TEST(WebSocketFrames, CloseFramesCarryTheirCodeAndReason) {
  WSFrameReader reader(false, 0);
  auto m = read_all(reader, ws_frame(WSMsgType::CLOSE, detail::ws_close_payload(4001, "bye"), false) +
                                ws_frame(WSMsgType::CLOSE, "", false));
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].type, WSMsgType::CLOSE);
  EXPECT_EQ(m[0].code, 4001);
  EXPECT_EQ(m[0].extra, "bye");
  EXPECT_EQ(m[1].code, 0);  // no code given (aiohttp's data=0)
}

TEST(WebSocketFrames, EveryViolationFailsWithItsCloseCode) {
  const int PROTOCOL = WSCloseCode::PROTOCOL_ERROR;
  // A server gets an unmasked frame; a client gets a masked one.
  EXPECT_EQ(error_code(true, ws_frame(WSMsgType::TEXT, "a", false)), PROTOCOL);
  EXPECT_EQ(error_code(false, ws_frame(WSMsgType::TEXT, "a", true)), PROTOCOL);
  EXPECT_EQ(error_code(false, bytes({0xC1, 0x01, 'a'})), PROTOCOL);  // RSV1 with no extension
  EXPECT_EQ(error_code(false, bytes({0x83, 0x01, 'a'})), PROTOCOL);  // opcode 3
  EXPECT_EQ(error_code(false, bytes({0x8B, 0x00})), PROTOCOL);       // opcode 0xB
  EXPECT_EQ(error_code(false, bytes({0x09, 0x00})), PROTOCOL);       // a fragmented ping
  EXPECT_EQ(error_code(false, bytes({0x89, 0x7E, 0x00, 0x7E}) + std::string(126, 'p')), PROTOCOL);  // ping of 126
  EXPECT_EQ(error_code(false, bytes({0x80, 0x01, 'a'})), PROTOCOL);  // a continuation of nothing
  EXPECT_EQ(error_code(false, bytes({0x01, 0x01, 'a', 0x81, 0x01, 'b'})), PROTOCOL);  // a new message mid-way
  EXPECT_EQ(error_code(false, bytes({0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 1})), PROTOCOL);  // length's top bit
  EXPECT_EQ(error_code(false, bytes({0x88, 0x01, 0x03})), PROTOCOL);  // a close frame of one byte
  for (int code : {0, 999, 1004, 1005, 1006, 1015, 2999, 5000}) {
    EXPECT_EQ(error_code(false, ws_frame(WSMsgType::CLOSE, detail::ws_close_payload(code, ""), false)), PROTOCOL) << code;
  }
  for (int code : {1000, 1001, 1002, 1003, 1007, 1011, 1014, 3000, 4999}) {
    EXPECT_EQ(error_code(false, ws_frame(WSMsgType::CLOSE, detail::ws_close_payload(code, ""), false)), 0) << code;
  }
  // Text that is not UTF-8, in a message or a close reason.
  EXPECT_EQ(error_code(false, ws_frame(WSMsgType::TEXT, "\xC3\x28", false)), WSCloseCode::INVALID_TEXT);
  EXPECT_EQ(error_code(false, ws_frame(WSMsgType::CLOSE, detail::ws_close_payload(1000, "\xFF"), false)),
            WSCloseCode::INVALID_TEXT);
  // Binary is not checked; a character split over two fragments is fine.
  EXPECT_EQ(error_code(false, ws_frame(WSMsgType::BINARY, "\xC3\x28", false)), 0);
  EXPECT_EQ(error_code(false, bytes({0x01, 0x01, 0xC3, 0x80, 0x01, 0xA9})), 0);
}

TEST(WebSocketFrames, AMessageOverTheLimitFailsBeforeItsPayloadComes) {
  WSFrameReader reader(false, 1000);
  std::optional<WSMessage> m;
  // Only the head of a 2000-byte frame: the length alone fails it.
  try {
    (void)reader.feed(bytes({0x82, 0x7E, 0x07, 0xD0}), m);
    ADD_FAILURE() << "no error";
  } catch (const WebSocketError& e) {
    EXPECT_EQ(e.code(), WSCloseCode::MESSAGE_TOO_BIG);
    EXPECT_STREQ(e.what(), "Message size 2000 exceeds limit 1000");
  }
  // Fragments that only add up to more than the limit.
  const std::string part(600, 'a');
  EXPECT_EQ(error_code(false, bytes({0x02, 0x7E, 0x02, 0x58}) + part + bytes({0x80, 0x7E, 0x02, 0x58}) + part, 1000),
            WSCloseCode::MESSAGE_TOO_BIG);
  EXPECT_EQ(error_code(false, ws_frame(WSMsgType::BINARY, std::string(1000, 'a'), false), 1000), 0);
}

TEST(WebSocketFrames, ValidUtf8IsExact) {
  EXPECT_TRUE(detail::valid_utf8(""));
  EXPECT_TRUE(detail::valid_utf8("plain ascii"));
  EXPECT_TRUE(detail::valid_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF"));
  EXPECT_FALSE(detail::valid_utf8("\xC0\x80"));          // overlong NUL
  EXPECT_FALSE(detail::valid_utf8("\xE0\x80\xAF"));      // overlong '/'
  EXPECT_FALSE(detail::valid_utf8("\xED\xA0\x80"));      // a surrogate
  EXPECT_FALSE(detail::valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(detail::valid_utf8("\xE2\x82"));          // cut short
  EXPECT_FALSE(detail::valid_utf8("\x80"));              // a lone continuation byte
}

// --- the server, against a hand-written client

// The client's side, by hand: the handshake, then masked frames out and checked
// unmasked frames in.
struct RawClient {
  StreamReader reader;
  StreamWriter writer;
  WSFrameReader frames{false, 0};
  std::string head;  // the server's answer to the handshake

  void send(WSMsgType type, std::string_view data) { writer.write(ws_frame(type, data, true)); }
  // The next message from the server; CLOSED at its EOF.
  Coro<WSMessage> next() {
    for (;;) {
      std::optional<WSMessage> m;
      const std::size_t n = frames.feed(reader.buffered(), m);
      if (n != 0) {
        reader.consume(n);
        if (m) co_return std::move(*m);
        continue;
      }
      if (!co_await reader.fill()) co_return WSMessage{.type = WSMsgType::CLOSED};
    }
  }
};

const std::string kKey = "dGhlIHNhbXBsZSBub25jZQ==";

std::string handshake(std::string_view path, std::string_view extra = "") {
  return "GET " + std::string(path) +
         " HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + kKey +
         "\r\nSec-WebSocket-Version: 13\r\n" + std::string(extra) + "\r\n";
}

// Sends `request` on a new connection and reads the answer's head (up to the blank line).
Coro<RawClient> connect(int port, std::string request) {
  auto [r, w] = co_await open_connection("127.0.0.1", port);
  w.write(request);
  RawClient c{r, w, WSFrameReader(false, 0), ""};
  for (;;) {
    const std::size_t end = c.reader.buffered().find("\r\n\r\n");
    if (end != std::string_view::npos) {
      c.head = std::string(c.reader.buffered().substr(0, end + 4));
      c.reader.consume(end + 4);
      break;
    }
    if (!co_await wait_for(c.reader.fill(), kBound)) break;
  }
  co_return c;
}

// What a WebSocket handler saw, for the test to check afterwards.
struct Seen {
  std::vector<std::string> log;
  std::optional<int> close_code;
  std::string protocol;
  std::exception_ptr exception;
};

Coro<StreamResponse> hello_world(Request&) { co_return Response({.text = "Hello, World!"}); }

std::string describe(const WSMessage& m) {
  switch (m.type) {
    case WSMsgType::TEXT: return "text " + m.data;
    case WSMsgType::BINARY: return "binary " + std::to_string(m.data.size());
    case WSMsgType::CLOSE: return "close " + std::to_string(m.code) + " " + m.extra;
    case WSMsgType::PING: return "ping " + m.data;
    case WSMsgType::PONG: return "pong " + m.data;
    case WSMsgType::CLOSING: return "closing";
    case WSMsgType::CLOSED: return "closed";
    case WSMsgType::ERROR: return "error";
    default: return "?";
  }
}

// An echo endpoint at /ws that logs every message it gets, until the first that is
// not data.
void add_echo(Application& app, Seen& seen, WebSocketOptions options = {}) {
  app.add_get("/ws", [&seen, options](Request& request) -> Coro<StreamResponse> {
    WebSocketResponse ws(options);
    co_await ws.prepare(request);
    seen.protocol = ws.ws_protocol();
    for (;;) {
      WSMessage msg = co_await ws.receive();
      seen.log.push_back(describe(msg));
      if (msg.type == WSMsgType::TEXT) {
        co_await ws.send_str("echo " + msg.data);
      } else if (msg.type == WSMsgType::BINARY) {
        co_await ws.send_bytes(msg.data);
      } else if (msg.type != WSMsgType::PING && msg.type != WSMsgType::PONG) {
        break;
      }
    }
    seen.close_code = ws.close_code();
    seen.exception = ws.exception();
    co_return ws;
  });
}

template <class F>
void serve(Application& app, F body, bool virtual_time = false) {
  auto main_ = [&]() -> Coro<> {
    AppRunner runner(app, {.access_log = nullptr});
    co_await runner.setup();
    TCPSite site(runner, "127.0.0.1", 0);
    co_await site.start();
    co_await body(site.port());
    co_await runner.cleanup();
  };
  if (virtual_time) {
    aio::run(main_(), {.clock = aio::virtual_clock});
  } else {
    aio::run(main_());
  }
}

TEST(WebSocketServer, HandshakeEchoPingAndTheCloseHandshake) {
  Application app;
  Seen seen;
  add_echo(app, seen);
  serve(app, [&](int port) -> Coro<> {
    RawClient c = co_await connect(port, handshake("/ws"));
    EXPECT_TRUE(c.head.starts_with("HTTP/1.1 101 Switching Protocols\r\n")) << c.head;
    EXPECT_NE(c.head.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), std::string::npos) << c.head;
    EXPECT_NE(c.head.find("Upgrade: websocket\r\n"), std::string::npos) << c.head;
    EXPECT_EQ(c.head.find("Sec-WebSocket-Protocol"), std::string::npos) << c.head;
    EXPECT_EQ(c.head.find("Content-Length"), std::string::npos) << c.head;

    c.send(WSMsgType::TEXT, "hello");
    WSMessage m = co_await wait_for(c.next(), kBound);
    EXPECT_EQ(m.type, WSMsgType::TEXT);
    EXPECT_EQ(m.data, "echo hello");
    c.send(WSMsgType::BINARY, std::string(100000, '\x01'));
    m = co_await wait_for(c.next(), kBound);
    EXPECT_EQ(m.type, WSMsgType::BINARY);
    EXPECT_EQ(m.data, std::string(100000, '\x01'));
    c.send(WSMsgType::PING, "are you there");
    m = co_await wait_for(c.next(), kBound);
    EXPECT_EQ(m.type, WSMsgType::PONG);  // autoping answered it
    EXPECT_EQ(m.data, "are you there");

    c.send(WSMsgType::CLOSE, detail::ws_close_payload(1000, "bye"));
    m = co_await wait_for(c.next(), kBound);
    EXPECT_EQ(m.type, WSMsgType::CLOSE);  // autoclose answered it
    EXPECT_EQ(m.code, 1000);
    m = co_await wait_for(c.next(), kBound);
    EXPECT_EQ(m.type, WSMsgType::CLOSED);  // and the server closed the connection
  });
  EXPECT_EQ(seen.log, (std::vector<std::string>{"text hello", "binary 100000", "close 1000 bye"}));
  EXPECT_EQ(seen.close_code, 1000);
  EXPECT_FALSE(seen.exception);
}

TEST(WebSocketServer, AFragmentedMessageWithAPingInsideComesWhole) {
  Application app;
  Seen seen;
  add_echo(app, seen);
  serve(app, [&](int port) -> Coro<> {
    RawClient c = co_await connect(port, handshake("/ws"));
    // "frag" "men" "ted", a ping between the first two pieces, all in one write.
    std::string f = ws_frame(WSMsgType::TEXT, "frag", true);
    f[0] = static_cast<char>(f[0] & 0x7F);  // not FIN
    std::string g = ws_frame(WSMsgType::CONTINUATION, "men", true);
    g[0] = static_cast<char>(g[0] & 0x7F);
    c.writer.write(f + ws_frame(WSMsgType::PING, "mid", true) + g + ws_frame(WSMsgType::CONTINUATION, "ted", true));
    WSMessage m = co_await wait_for(c.next(), kBound);
    EXPECT_EQ(describe(m), "pong mid");
    m = co_await wait_for(c.next(), kBound);
    EXPECT_EQ(describe(m), "text echo fragmented");
    c.send(WSMsgType::CLOSE, detail::ws_close_payload(1001, ""));
    EXPECT_EQ(describe(co_await wait_for(c.next(), kBound)), "close 1000 ");
  });
  EXPECT_EQ(seen.log, (std::vector<std::string>{"text fragmented", "close 1001 "}));
  EXPECT_EQ(seen.close_code, 1001);
}

// A client that breaks the protocol gets the matching close code and the connection
// ends; the handler sees an ERROR with the WebSocketError.
void expect_failure(std::string frame, int code, WebSocketOptions options = {}) {
  Application app;
  Seen seen;
  add_echo(app, seen, options);
  serve(app, [&](int port) -> Coro<> {
    RawClient c = co_await connect(port, handshake("/ws"));
    c.writer.write(frame);
    WSMessage m = co_await wait_for(c.next(), kBound);
    EXPECT_EQ(m.type, WSMsgType::CLOSE);
    EXPECT_EQ(m.code, code);
    m = co_await wait_for(c.next(), kBound);
    EXPECT_EQ(m.type, WSMsgType::CLOSED);  // closed without waiting for our close frame
  });
  EXPECT_EQ(seen.log, (std::vector<std::string>{"error"}));
  EXPECT_EQ(seen.close_code, code);
  ASSERT_TRUE(seen.exception);
  try {
    std::rethrow_exception(seen.exception);
  } catch (const WebSocketError& e) {
    EXPECT_EQ(e.code(), code);
  }
}

TEST(WebSocketServer, AnUnmaskedFrameFailsTheConnectionWithProtocolError) {
  expect_failure(ws_frame(WSMsgType::TEXT, "plain", false), WSCloseCode::PROTOCOL_ERROR);
}

TEST(WebSocketServer, TextThatIsNotUtf8FailsWithInvalidText) {
  expect_failure(ws_frame(WSMsgType::TEXT, "\xFF\xFE", true), WSCloseCode::INVALID_TEXT);
}

TEST(WebSocketServer, AMessageOverMaxMsgSizeFailsWithMessageTooBig) {
  expect_failure(ws_frame(WSMsgType::BINARY, std::string(2000, 'x'), true), WSCloseCode::MESSAGE_TOO_BIG,
                 {.max_msg_size = 1000});
}

TEST(WebSocketServer, RequestsThatAreNotAnUpgradeGetTheirError) {
  Application app;
  Seen seen;
  add_echo(app, seen);
  serve(app, [&](int port) -> Coro<> {
    RawClient plain = co_await connect(port, "GET /ws HTTP/1.1\r\nHost: t\r\n\r\n");
    EXPECT_TRUE(plain.head.starts_with("HTTP/1.1 400 Bad Request\r\n")) << plain.head;
    std::string body(plain.reader.buffered());
    EXPECT_NE(body.find("No WebSocket UPGRADE hdr"), std::string::npos) << body;

    std::string v8 = handshake("/ws");
    v8.replace(v8.find("Version: 13"), 11, "Version: 99");
    RawClient old = co_await connect(port, v8);
    EXPECT_TRUE(old.head.starts_with("HTTP/1.1 400 Bad Request\r\n")) << old.head;
    EXPECT_NE(old.head.find("Sec-WebSocket-Version: 13\r\n"), std::string::npos) << old.head;

    std::string bad_key = handshake("/ws");
    bad_key.replace(bad_key.find(kKey), kKey.size(), "short");
    RawClient key = co_await connect(port, bad_key);
    EXPECT_TRUE(key.head.starts_with("HTTP/1.1 400 Bad Request\r\n")) << key.head;
  });
  EXPECT_TRUE(seen.log.empty());  // no handshake got through
}

TEST(WebSocketServer, ChoosesTheFirstSubprotocolTheClientOffersThatItSpeaks) {
  Application app;
  Seen seen;
  add_echo(app, seen, {.protocols = {"superchat", "chat"}});
  serve(app, [&](int port) -> Coro<> {
    RawClient c = co_await connect(port, handshake("/ws", "Sec-WebSocket-Protocol: other, chat, superchat\r\n"));
    EXPECT_NE(c.head.find("Sec-WebSocket-Protocol: chat\r\n"), std::string::npos) << c.head;
    c.send(WSMsgType::CLOSE, "");
    EXPECT_EQ(describe(co_await wait_for(c.next(), kBound)), "close 1000 ");
  });
  EXPECT_EQ(seen.protocol, "chat");
  EXPECT_EQ(seen.close_code, 0);  // the client's close frame had no code
}

TEST(WebSocketServer, CanPrepareSaysWhetherAndWithWhichSubprotocol) {
  Application app;
  app.add_get("/check", [](Request& request) -> Coro<StreamResponse> {
    WebSocketResponse ws({.protocols = {"chat"}});
    WebSocketResponse::Ready ready = ws.can_prepare(request);
    co_return Response({.text = std::string(ready ? "yes" : "no") + " [" + ready.protocol + "]"});
  });
  serve(app, [&](int port) -> Coro<> {
    RawClient plain = co_await connect(port, "GET /check HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(std::string(plain.reader.buffered()), "no []");
    RawClient upgrade = co_await connect(port, handshake("/check", "Sec-WebSocket-Protocol: chat\r\nConnection: close\r\n"));
    EXPECT_EQ(std::string(upgrade.reader.buffered()), "yes [chat]");
  });
}

TEST(WebSocketServer, CloseWhileAReceiveWaitsLetsThatReceiveTakeTheAnswer) {
  Application app;
  std::string got;
  std::optional<int> code;
  app.add_get("/ws", [&](Request& request) -> Coro<StreamResponse> {
    WebSocketResponse ws;
    co_await ws.prepare(request);
    Task<WSMessage> waiting = create_task(ws.receive());
    co_await sleep(0);
    EXPECT_TRUE(co_await ws.close(1001, "shutting down"));  // returns at once
    got = describe(co_await wait_for(waiting, kBound));
    code = ws.close_code();
    co_return ws;
  });
  serve(app, [&](int port) -> Coro<> {
    RawClient c = co_await connect(port, handshake("/ws"));
    EXPECT_EQ(describe(co_await wait_for(c.next(), kBound)), "close 1001 shutting down");
    c.send(WSMsgType::CLOSE, detail::ws_close_payload(1001, ""));
    EXPECT_EQ(describe(co_await wait_for(c.next(), kBound)), "closed");
  });
  EXPECT_EQ(got, "close 1001 ");
  EXPECT_EQ(code, 1001);
}

TEST(WebSocketServer, TheServerClosesAndTheClientAnswers) {
  Application app;
  std::optional<bool> first, second;
  std::optional<int> code;
  app.add_get("/bye", [&](Request& request) -> Coro<StreamResponse> {
    WebSocketResponse ws;
    co_await ws.prepare(request);
    co_await ws.send_str("going");
    first = co_await ws.close(4000, "done");
    second = co_await ws.close();
    code = ws.close_code();
    bool refused = false;
    try {
      co_await ws.send_str("late");
    } catch (const ConnectionResetError&) {
      refused = true;
    }
    EXPECT_TRUE(refused);
    EXPECT_EQ(describe(co_await ws.receive()), "closed");
    co_return ws;
  });
  serve(app, [&](int port) -> Coro<> {
    RawClient c = co_await connect(port, handshake("/bye"));
    EXPECT_EQ(describe(co_await wait_for(c.next(), kBound)), "text going");
    EXPECT_EQ(describe(co_await wait_for(c.next(), kBound)), "close 4000 done");
    c.send(WSMsgType::TEXT, "still talking");  // data before our close frame is dropped
    c.send(WSMsgType::CLOSE, detail::ws_close_payload(4000, "ok"));
    EXPECT_EQ(describe(co_await wait_for(c.next(), kBound)), "closed");
  });
  EXPECT_EQ(first, true);
  EXPECT_EQ(second, false);
  EXPECT_EQ(code, 4000);
}

TEST(WebSocketServer, CloseGivesUpOnAPeerThatNeverAnswersAfterTheTimeout) {
  Application app;
  std::optional<int> code;
  double waited = -1;
  app.add_get("/ws", [&](Request& request) -> Coro<StreamResponse> {
    WebSocketResponse ws({.timeout = 5.0});
    co_await ws.prepare(request);
    const double start = get_running_loop().time();
    EXPECT_TRUE(co_await ws.close());
    waited = get_running_loop().time() - start;
    code = ws.close_code();
    EXPECT_TRUE(ws.exception());  // the TimeoutError
    co_return ws;
  });
  serve(
      app,
      [&](int port) -> Coro<> {
        RawClient c = co_await connect(port, handshake("/ws"));
        EXPECT_EQ(describe(co_await wait_for(c.next(), kBound)), "close 1000 ");
        // Never answered; the server gives up and closes.
        EXPECT_EQ(describe(co_await wait_for(c.next(), kBound)), "closed");
      },
      true);
  EXPECT_EQ(code, WSCloseCode::ABNORMAL_CLOSURE);
  EXPECT_DOUBLE_EQ(waited, 5.0);
}

TEST(WebSocketServer, AClientThatGoesWithoutACloseFrameEndsReceive) {
  Application app;
  Seen seen;
  add_echo(app, seen);
  serve(app, [&](int port) -> Coro<> {
    RawClient c = co_await connect(port, handshake("/ws"));
    c.send(WSMsgType::TEXT, "one");
    EXPECT_EQ(describe(co_await wait_for(c.next(), kBound)), "text echo one");
    c.writer.close();
    co_await c.writer.wait_closed();
  });
  EXPECT_EQ(seen.log, (std::vector<std::string>{"text one", "closed"}));
  EXPECT_EQ(seen.close_code, WSCloseCode::ABNORMAL_CLOSURE);
}

TEST(WebSocketServer, ReceiveTimesOutAndAConcurrentReceiveIsRefused) {
  Application app;
  bool timed_out = false, refused = false;
  app.add_get("/ws", [&](Request& request) -> Coro<StreamResponse> {
    WebSocketResponse ws;
    co_await ws.prepare(request);
    try {
      (void)co_await ws.receive(1.0);
    } catch (const TimeoutError&) {
      timed_out = true;
    }
    WebSocketResponse same = ws;  // copies share the connection
    Task<WSMessage> first = create_task(ws.receive());
    co_await sleep(0);
    try {
      (void)co_await same.receive();
    } catch (const RuntimeError&) {
      refused = true;
    }
    EXPECT_EQ(describe(co_await first), "text late");
    co_await ws.close();
    co_return ws;
  });
  serve(
      app,
      [&](int port) -> Coro<> {
        RawClient c = co_await connect(port, handshake("/ws"));
        co_await sleep(2);  // virtual: past the receive timeout
        c.send(WSMsgType::TEXT, "late");
        EXPECT_EQ(describe(co_await wait_for(c.next(), kBound)), "close 1000 ");
        c.send(WSMsgType::CLOSE, detail::ws_close_payload(1000, ""));
        EXPECT_EQ(describe(co_await wait_for(c.next(), kBound)), "closed");
      },
      true);
  EXPECT_TRUE(timed_out);
  EXPECT_TRUE(refused);
}

// Serves `app` (shutdown_timeout as given) on the virtual clock, opens a WebSocket to
// /ws, and runs `client(the raw client)` as a task while the runner's cleanup() runs;
// returns how long cleanup() took.
template <class F>
double time_cleanup(Application& app, double shutdown_timeout, F client) {
  double took = -1;
  auto main_ = [&]() -> Coro<> {
    AppRunner runner(app, {.access_log = nullptr, .shutdown_timeout = shutdown_timeout});
    co_await runner.setup();
    TCPSite site(runner, "127.0.0.1", 0);
    co_await site.start();
    RawClient c = co_await connect(site.port(), handshake("/ws"));
    Task<> talking = create_task(client(c));
    const double start = get_running_loop().time();
    co_await runner.cleanup();
    took = get_running_loop().time() - start;
    co_await wait_for(talking, kBound);
  };
  aio::run(main_(), {.clock = aio::virtual_clock});
  return took;
}

// aiohttp's recipe for a graceful shutdown with WebSockets open: the application keeps
// them (copies share their connection) and an on_shutdown hook closes them with
// GOING_AWAY, so cleanup() need not wait out shutdown_timeout.
TEST(WebSocketServer, AnOnShutdownHookClosesTheOpenWebSocketsWithGoingAway) {
  Application app;
  static const AppKey<std::vector<WebSocketResponse>> sockets_key("websockets");
  Seen seen;
  app.add_get("/ws", [&](Request& request) -> Coro<StreamResponse> {
    WebSocketResponse ws;
    co_await ws.prepare(request);
    request.app()[sockets_key].push_back(ws);
    seen.log.push_back(describe(co_await ws.receive()));
    seen.close_code = ws.close_code();
    co_return ws;
  });
  app.on_shutdown.push_back([](Application& a) -> Coro<void> {
    for (WebSocketResponse& ws : a[sockets_key]) co_await ws.close(WSCloseCode::GOING_AWAY, "server shutdown");
  });
  const double took = time_cleanup(app, 30.0, [](RawClient& client) -> Coro<> {
    EXPECT_EQ(describe(co_await client.next()), "close 1001 server shutdown");
    client.send(WSMsgType::CLOSE, detail::ws_close_payload(1001, ""));
    EXPECT_EQ(describe(co_await client.next()), "closed");
  });
  EXPECT_EQ(seen.log, (std::vector<std::string>{"close 1001 "}));
  EXPECT_EQ(seen.close_code, 1001);
  EXPECT_LT(took, 1.0);  // not the 30 s of shutdown_timeout
}

// Without such a hook the open WebSocket is a request in flight: cleanup() waits
// shutdown_timeout for it, then cancels its handler, and the client sees the
// connection end.
TEST(WebSocketServer, ShutdownCancelsAnOpenWebSocketAfterShutdownTimeout) {
  Application app;
  std::optional<int> code;
  bool cancelled = false;
  app.add_get("/ws", [&](Request& request) -> Coro<StreamResponse> {
    WebSocketResponse ws;
    co_await ws.prepare(request);
    try {
      (void)co_await ws.receive();
    } catch (const CancelledError&) {
      cancelled = true;
      code = ws.close_code();
      throw;
    }
    co_return ws;
  });
  const double took = time_cleanup(app, 5.0, [](RawClient& client) -> Coro<> {
    EXPECT_EQ(describe(co_await client.next()), "closed");
  });
  EXPECT_TRUE(cancelled);
  EXPECT_EQ(code, WSCloseCode::ABNORMAL_CLOSURE);
  EXPECT_DOUBLE_EQ(took, 5.0);
}

TEST(WebSocketServer, AHeartbeatNobodyAnswersClosesTheConnection) {
  Application app;
  std::string last;
  std::optional<int> code;
  bool timeout_error = false;
  double at = -1;
  app.add_get("/ws", [&](Request& request) -> Coro<StreamResponse> {
    WebSocketResponse ws({.heartbeat = 2.0});
    co_await ws.prepare(request);
    last = describe(co_await ws.receive());
    at = get_running_loop().time();
    code = ws.close_code();
    try {
      std::rethrow_exception(ws.exception());
    } catch (const TimeoutError&) {
      timeout_error = true;
    }
    co_return ws;
  });
  double ping_at = -1, end_at = -1, start = 0;
  serve(
      app,
      [&](int port) -> Coro<> {
        start = get_running_loop().time();
        RawClient c = co_await connect(port, handshake("/ws"));
        EXPECT_EQ(describe(co_await wait_for(c.next(), kBound)), "ping ");
        ping_at = get_running_loop().time() - start;
        EXPECT_EQ(describe(co_await wait_for(c.next(), kBound)), "closed");  // never answered
        end_at = get_running_loop().time() - start;
      },
      true);
  EXPECT_DOUBLE_EQ(ping_at, 2.0);
  EXPECT_DOUBLE_EQ(end_at, 3.0);  // half the heartbeat later
  EXPECT_EQ(last, "closed");
  EXPECT_DOUBLE_EQ(at - start, 3.0);
  EXPECT_EQ(code, WSCloseCode::ABNORMAL_CLOSURE);
  EXPECT_TRUE(timeout_error);
}

TEST(WebSocketServer, AHeartbeatThatIsAnsweredKeepsTheConnection) {
  Application app;
  Seen seen;
  add_echo(app, seen, {.heartbeat = 2.0});
  serve(
      app,
      [&](int port) -> Coro<> {
        RawClient c = co_await connect(port, handshake("/ws"));
        for (int i = 0; i < 3; ++i) {
          EXPECT_EQ(describe(co_await wait_for(c.next(), kBound)), "ping ");
          c.send(WSMsgType::PONG, "");
        }
        c.send(WSMsgType::TEXT, "still here");
        EXPECT_EQ(describe(co_await wait_for(c.next(), kBound)), "text echo still here");
        c.send(WSMsgType::CLOSE, detail::ws_close_payload(1000, ""));
        EXPECT_EQ(describe(co_await wait_for(c.next(), kBound)), "close 1000 ");
      },
      true);
  EXPECT_EQ(seen.log, (std::vector<std::string>{"text still here", "close 1000 "}));
  EXPECT_EQ(seen.close_code, 1000);
}

// --- the server against aiohttp's client

TEST(WebSocketServer, AiohttpsClientTalksToIt) {
  Application app;
  Seen seen;
  add_echo(app, seen, {.protocols = {"chat"}});
  app.add_get("/json", [](Request& request) -> Coro<StreamResponse> {
    WebSocketResponse ws;
    co_await ws.prepare(request);
    nlohmann::json got = co_await ws.receive_json();
    got["seen"] = true;
    co_await ws.send_json(got);
    co_await ws.close(1000, "that is all");
    co_return ws;
  });
  const char* script = R"(
import asyncio, sys, aiohttp
async def main(base):
    async with aiohttp.ClientSession() as s:
        async with s.ws_connect(base + "/ws", protocols=("chat",)) as ws:
            print("protocol", ws.protocol)
            await ws.send_str("hello")
            m = await ws.receive()
            print(m.type.name, m.data)
            await ws.send_bytes(bytes(range(256)) * 1000)
            m = await ws.receive()
            print(m.type.name, len(m.data), m.data == bytes(range(256)) * 1000)
            await ws.ping(b"p")
            await ws.send_str("after ping")
            m = await ws.receive()
            print(m.type.name, m.data)
            await ws.close(code=4321, message=b"client done")
            print("closed", ws.close_code)
        async with s.ws_connect(base + "/json") as ws:
            await ws.send_json({"a": 1})
            print("json", await ws.receive_json())
            m = await ws.receive()
            print(m.type.name, m.data, m.extra)
asyncio.run(main(sys.argv[1]))
)";
  test::PeerRun run;
  serve(app, [&](int port) -> Coro<> {
    // Named first: g++ 12 cannot build a braced list inside a co_await (docs/pitfalls.md).
    std::vector<std::string> args{"http://127.0.0.1:" + std::to_string(port)};
    run = co_await test::run_python(script, args);
  });
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(run.out,
            "protocol chat\n"
            "TEXT echo hello\n"
            "BINARY 256000 True\n"
            "TEXT echo after ping\n"
            "closed 1000\n"
            "json {'a': 1, 'seen': True}\n"
            "CLOSE 1000 that is all\n");
  EXPECT_EQ(seen.log, (std::vector<std::string>{"text hello", "binary 256000", "text after ping", "close 4321 client done"}));
  EXPECT_EQ(seen.close_code, 4321);
  EXPECT_EQ(seen.protocol, "chat");
}

// --- the client

TEST(WebSocketClient, TalksToOurServerAndClosesCleanly) {
  Application app;
  Seen seen;
  add_echo(app, seen, {.protocols = {"chat"}});
  serve(app, [&](int port) -> Coro<> {
    ClientSession session;
    const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/ws";
    const WSConnectOptions options{.protocols = {"other", "chat"}, .autoping = false};  // named: g++ 12
    ClientWebSocketResponse ws = co_await session.ws_connect(url, options);
    EXPECT_EQ(ws.protocol(), "chat");
    EXPECT_EQ(session.connector().statistics().acquired, 1u);  // the WebSocket holds its connection
    co_await ws.send_str("hi");
    EXPECT_EQ(co_await wait_for(ws.receive_str(), kBound), "echo hi");
    co_await ws.send_bytes(std::string(70000, 'z'));
    EXPECT_EQ(co_await wait_for(ws.receive_bytes(), kBound), std::string(70000, 'z'));
    co_await ws.ping("p1");
    WSMessage pong = co_await wait_for(ws.receive(), kBound);  // autoping off: the pong shows
    EXPECT_EQ(describe(pong), "pong p1");
    bool wrong_type = false;
    co_await ws.send_str("text again");
    try {
      (void)co_await wait_for(ws.receive_bytes(), kBound);
    } catch (const TypeError& e) {
      wrong_type = std::string(e.what()) == "Received message TEXT is not a BINARY message";
    }
    EXPECT_TRUE(wrong_type);
    EXPECT_TRUE(co_await wait_for(ws.close(4100, "client"), kBound));
    EXPECT_TRUE(ws.closed());
    EXPECT_EQ(ws.close_code(), 1000);  // the server's answer
    EXPECT_EQ(session.connector().statistics().acquired, 0u);  // given back (closed)
    EXPECT_EQ(session.connector().statistics().idle, 0u);
    co_await session.close();
  });
  EXPECT_EQ(seen.log, (std::vector<std::string>{"text hi", "binary 70000", "text text again", "close 4100 client"}));
  EXPECT_EQ(seen.close_code, 4100);
}

TEST(WebSocketClient, FailsTheHandshakeOfAServerThatDoesNotUpgrade) {
  Application app;
  app.add_get("/plain", hello_world);
  serve(app, [&](int port) -> Coro<> {
    ClientSession session;
    bool refused = false;
    try {
      (void)co_await session.ws_connect("http://127.0.0.1:" + std::to_string(port) + "/plain");
    } catch (const WSServerHandshakeError& e) {
      refused = e.status() == 200 && e.message() == "Invalid response status";
    }
    EXPECT_TRUE(refused);
    co_await session.close();
  });
}

// A server by hand that answers the handshake with `answer` (its Accept computed from
// the client's key unless `accept` is given), then writes `then`.
struct FakeServer {
  std::string accept;
  std::string then;
  Coro<void> handle(StreamReader r, StreamWriter w) {
    std::string head;
    while (head.find("\r\n\r\n") == std::string::npos) {
      std::string more = co_await r.read(4096);
      if (more.empty()) co_return;
      head += more;
    }
    const std::size_t at = head.find("Sec-WebSocket-Key: ") + 19;
    const std::string key = head.substr(at, head.find("\r\n", at) - at);
    w.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
            (accept.empty() ? detail::ws_accept_key(key) : accept) + "\r\n\r\n" + then);
    co_await w.drain();
    (void)co_await r.read();  // until the client goes
    w.close();
  }
};

template <class F>
void with_fake(FakeServer& fake, F body) {
  auto main_ = [&]() -> Coro<> {
    Server server = co_await start_server(
        [&](StreamReader r, StreamWriter w) { return fake.handle(std::move(r), std::move(w)); }, "127.0.0.1", 0);
    ClientSession session;
    co_await body(session, "http://127.0.0.1:" + std::to_string(server.port()) + "/");
    co_await session.close();
    server.close();
    co_await server.wait_closed();
  };
  aio::run(main_());
}

TEST(WebSocketClient, FailsTheHandshakeOnAWrongChallengeAnswer) {
  FakeServer fake{.accept = "bm90IHRoZSByaWdodCBhbnN3ZXI=", .then = ""};
  with_fake(fake, [](ClientSession& session, std::string url) -> Coro<> {
    bool refused = false;
    try {
      (void)co_await session.ws_connect(url);
    } catch (const WSServerHandshakeError& e) {
      refused = e.status() == 101 && e.message() == "Invalid challenge response";
    }
    EXPECT_TRUE(refused);
    EXPECT_EQ(session.connector().statistics().acquired, 0u);
  });
}

TEST(WebSocketClient, AFrameSentRightAfterTheHandshakeIsNotLost) {
  FakeServer fake{.accept = "", .then = ws_frame(WSMsgType::TEXT, "first", false)};
  with_fake(fake, [](ClientSession& session, std::string url) -> Coro<> {
    ClientWebSocketResponse ws = co_await session.ws_connect(url);
    EXPECT_EQ(co_await wait_for(ws.receive_str(), kBound), "first");
  });
}

TEST(WebSocketClient, AMaskedFrameFromTheServerFailsTheConnection) {
  FakeServer fake{.accept = "", .then = ws_frame(WSMsgType::TEXT, "masked", true)};
  with_fake(fake, [](ClientSession& session, std::string url) -> Coro<> {
    ClientWebSocketResponse ws = co_await session.ws_connect(url);
    WSMessage m = co_await wait_for(ws.receive(), kBound);
    EXPECT_EQ(m.type, WSMsgType::ERROR);
    EXPECT_EQ(ws.close_code(), WSCloseCode::PROTOCOL_ERROR);
    EXPECT_TRUE(ws.closed());
  });
}

TEST(WebSocketClient, AHeartbeatTheServerDoesNotAnswerEndsTheWebSocket) {
  FakeServer fake{.accept = "", .then = ""};  // reads and never answers
  auto main_ = [&]() -> Coro<> {
    Server server = co_await start_server(
        [&](StreamReader r, StreamWriter w) { return fake.handle(std::move(r), std::move(w)); }, "127.0.0.1", 0);
    ClientSession session;
    const WSConnectOptions options{.heartbeat = 1.0};
    ClientWebSocketResponse ws =
        co_await session.ws_connect("http://127.0.0.1:" + std::to_string(server.port()) + "/", options);
    const double start = get_running_loop().time();
    EXPECT_EQ(describe(co_await wait_for(ws.receive(), kBound)), "closed");
    EXPECT_DOUBLE_EQ(get_running_loop().time() - start, 1.5);
    EXPECT_EQ(ws.close_code(), WSCloseCode::ABNORMAL_CLOSURE);
    EXPECT_EQ(session.connector().statistics().acquired, 0u);  // the connection went back, closed
    co_await session.close();
    server.close();
    co_await server.wait_closed();
  };
  aio::run(main_(), {.clock = aio::virtual_clock});
}

TEST(WebSocketClient, TalksToAiohttpsServer) {
  const std::string script = std::string(test::kServeAiohttp) + R"(
from aiohttp import WSMsgType
async def handler(request):
    ws = web.WebSocketResponse(protocols=("v2", "v1"))
    await ws.prepare(request)
    await ws.ping(b"from server")
    async for msg in ws:
        if msg.type == WSMsgType.TEXT:
            if msg.data == "bye":
                await ws.close(code=4002, message=b"server done")
                break
            await ws.send_str(msg.data.upper())
        elif msg.type == WSMsgType.BINARY:
            await ws.send_bytes(msg.data[::-1])
    print("server close_code", ws.close_code, flush=True)
    return ws
async def main():
    app = web.Application()
    app.router.add_get("/ws", handler)
    await serve_forever(app)
asyncio.run(main())
)";
  auto main_ = [&]() -> Coro<> {
    test::PythonServer peer = co_await test::PythonServer::start(script);
    ClientSession session;
    const WSConnectOptions v1{.protocols = {"v1"}};
    ClientWebSocketResponse ws = co_await session.ws_connect("http://127.0.0.1:" + peer.line + "/ws", v1);
    EXPECT_EQ(ws.protocol(), "v1");
    co_await ws.send_str("shout");
    EXPECT_EQ(co_await wait_for(ws.receive_str(), kBound), "SHOUT");  // the server's ping was answered on the way
    co_await ws.send_bytes("abc");
    EXPECT_EQ(co_await wait_for(ws.receive_bytes(), kBound), "cba");
    co_await ws.send_str("bye");
    WSMessage m = co_await wait_for(ws.receive(), kBound);
    EXPECT_EQ(describe(m), "close 4002 server done");
    EXPECT_TRUE(ws.closed());  // autoclose answered
    EXPECT_EQ(ws.close_code(), 4002);
    EXPECT_EQ(describe(co_await ws.receive()), "closed");
    EXPECT_EQ(co_await wait_for(peer.process.stdout->readline(), kBound), "server close_code 1000\n");
    co_await session.close();
    co_await peer.stop();
  };
  aio::run(main_());
}

}  // namespace
}  // namespace aio::http
