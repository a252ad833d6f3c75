// WebSocket per-message compression (RFC 7692's permessage-deflate,
// aio/http/websocket.hpp): the frame reader on the RFC's own examples and on every
// rule that fails a connection; the negotiation of both sides, offer by offer; and the
// wire, against a hand-written client on 127.0.0.1 and against real peers: aiohttp's
// client and server, and Python's websockets library (python3-websockets, /usr/bin/python3),
// which checks the RFC's rules strictly and asks for the parameters aiohttp never does.
#include <string>
#include <tuple>
#include <vector>

#include "aio/http.hpp"
#include "support/aio_test.hpp"
#include "support/http_serve.hpp"
#include "support/python_peer.hpp"

namespace aio::http {
namespace {

using detail::WSFrameReader;
using detail::ws_frame;

constexpr double kBound = 20;  // seconds: only a hung test reaches it

// Bytes from hex digits (spaces skipped).
std::string hex(std::string_view h) {
  std::string digits;
  for (char c : h)
    if (c != ' ') digits += c;
  std::string out;
  for (std::size_t i = 0; i + 1 < digits.size(); i += 2) {
    out += static_cast<char>(std::stoi(digits.substr(i, 2), nullptr, 16));
  }
  return out;
}

// Everything `reader` makes of `in` (each feed takes one frame), as "TEXT Hello" lines.
std::vector<std::string> read_all(WSFrameReader& reader, std::string_view in) {
  std::vector<std::string> out;
  while (!in.empty()) {
    std::optional<WSMessage> m;
    const std::size_t n = reader.feed(in, m);
    if (n == 0) break;
    in.remove_prefix(n);
    if (m) out.push_back((m->type == WSMsgType::TEXT ? "TEXT " : m->type == WSMsgType::BINARY ? "BINARY " : "OTHER ") + m->data);
  }
  return out;
}

// A client's reader (unmasked frames) with permessage-deflate agreed.
WSFrameReader deflating(std::size_t max_size = 0) {
  WSFrameReader reader(false, max_size);
  reader.accept_deflate();
  return reader;
}

// The close code reading `in` fails with (0: none), and the error's text.
std::pair<int, std::string> failure(WSFrameReader reader, std::string_view in) {
  try {
    read_all(reader, in);
  } catch (const WebSocketError& e) {
    return {e.code(), e.what()};
  }
  return {0, ""};
}

// What a sender with a fresh window makes of `text`: deflated, flushed, the flush's
// last four bytes dropped (RFC 7692 section 7.2.1).
std::string deflated(std::string_view text) {
  ZLibCompressor c(RawDeflate{15});
  std::string z = c.compress(text);
  z += c.flush(ZLibCompressor::Flush::sync);
  return z.substr(0, z.size() - 4);
}

// --- the frame reader

TEST(WebSocketDeflate, ReadsTheExamplesOfRfc7692Section7_2_3) {
  const std::string hello = hex("c107f248cdc9c90700");
  {
    WSFrameReader r = deflating();
    EXPECT_EQ(read_all(r, hello), std::vector<std::string>{"TEXT Hello"});
  }
  {  // 7.2.3.2: the second message refers back to the first one's window
    WSFrameReader r = deflating();
    EXPECT_EQ(read_all(r, hello + hex("c105f200110000")), (std::vector<std::string>{"TEXT Hello", "TEXT Hello"}));
  }
  {  // 7.2.3.1: one message in two frames, RSV1 on the first only
    WSFrameReader r = deflating();
    EXPECT_EQ(read_all(r, hex("4103f248cd") + hex("8004c9c90700")), std::vector<std::string>{"TEXT Hello"});
  }
  {  // 7.2.3.3: a stored (uncompressed) deflate block
    WSFrameReader r = deflating();
    EXPECT_EQ(read_all(r, hex("c10b000500faff48656c6c6f00")), std::vector<std::string>{"TEXT Hello"});
  }
  {  // 7.2.3.4: a final block ends the message; the next one is a new stream, which
     // may refer back to the window (7.2.2), or not
    WSFrameReader r = deflating();
    EXPECT_EQ(read_all(r, hex("c108f348cdc9c9070000") + hex("c105f200110000") + hello),
              (std::vector<std::string>{"TEXT Hello", "TEXT Hello", "TEXT Hello"}));
  }
  {  // 7.2.3.5: two deflate blocks in one message
    WSFrameReader r = deflating();
    EXPECT_EQ(read_all(r, hex("c10df248050000 00ffffcac9c90700")), std::vector<std::string>{"TEXT Hello"});
  }
  {  // plain messages still come through, between compressed ones
    WSFrameReader r = deflating();
    EXPECT_EQ(read_all(r, ws_frame(WSMsgType::BINARY, "plain", false) + hello),
              (std::vector<std::string>{"BINARY plain", "TEXT Hello"}));
  }
}

TEST(WebSocketDeflate, AFinalBlockEndsTheMessageWhateverFollowsInItsFrames) {
  // An empty final block in the first frame, then continuation frames: nothing of
  // them is held (a peer could send them without end), and the next message reads.
  WSFrameReader r = deflating(4096);
  std::string frames = hex("4102 0300");
  for (int i = 0; i < 100; ++i) frames += hex("00") + std::string(1, static_cast<char>(126)) + hex("0f a0") + std::string(4000, 'j');
  frames += hex("8000");
  EXPECT_EQ(read_all(r, frames + hex("c107f248cdc9c90700")), (std::vector<std::string>{"TEXT ", "TEXT Hello"}));
}

TEST(WebSocketDeflate, NoLimitAtAllIsNoLimit) {
  WSFrameReader r = deflating(SIZE_MAX);  // as a user may write "no limit"
  EXPECT_EQ(read_all(r, hex("c10100") + hex("c107f248cdc9c90700")), (std::vector<std::string>{"TEXT ", "TEXT Hello"}));
  EXPECT_THROW(ZLibCompressor(RawDeflate{8}), ValueError);  // zlib cannot deflate with 8
  EXPECT_THROW(ZLibCompressor(RawDeflate{16}), ValueError);
  EXPECT_THROW(ZLibDecompressor(RawDeflate{7}), ValueError);
  EXPECT_NO_THROW(ZLibDecompressor(RawDeflate{8}));
}

TEST(WebSocketDeflate, AMessageCutIntoFramesAnywhereInflatesTheSame) {
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "line " + std::to_string(i % 37) + " of a repetitive text\n";
  const std::string z = deflated(text);
  ASSERT_LT(z.size(), text.size() / 4);
  for (std::size_t piece : {1u, 7u, 100u, 4096u}) {
    std::string frames;
    for (std::size_t at = 0; at < z.size(); at += piece) {
      const bool first = at == 0, last = at + piece >= z.size();
      std::string f = ws_frame(first ? WSMsgType::TEXT : WSMsgType::CONTINUATION, z.substr(at, piece), true, first);
      if (!last) f[0] = static_cast<char>(f[0] & 0x7F);  // FIN off
      frames += f;
    }
    WSFrameReader server(true, 0);
    server.accept_deflate();
    EXPECT_EQ(read_all(server, frames), std::vector<std::string>{"TEXT " + text}) << piece;
  }
}

TEST(WebSocketDeflate, EveryViolationFailsWithItsCloseCode) {
  const std::string hello = hex("c107f248cdc9c90700");
  constexpr int PROTOCOL = WSCloseCode::PROTOCOL_ERROR;
  // RSV1 means nothing without the extension.
  EXPECT_EQ(failure(WSFrameReader(false, 0), hello).first, PROTOCOL);
  EXPECT_EQ(failure(deflating(), hex("c900")), std::make_pair(PROTOCOL, std::string("Received a compressed control frame")));
  EXPECT_EQ(failure(deflating(), hex("4103f248cd") + hex("c004c9c90700")),
            std::make_pair(PROTOCOL, std::string("Received a continuation frame with RSV1 set")));
  EXPECT_EQ(failure(deflating(), hex("e1 01 00")).first, PROTOCOL);  // RSV2 is still no one's
  EXPECT_EQ(failure(deflating(), hex("c103ffffff")),
            std::make_pair(PROTOCOL, std::string("Received a message that does not inflate")));
  // Compressed text is checked as UTF-8 once inflated.
  EXPECT_EQ(failure(deflating(), ws_frame(WSMsgType::TEXT, deflated("\xC3\x28"), false, true)).first,
            WSCloseCode::INVALID_TEXT);
}

TEST(WebSocketDeflate, TheLimitHoldsTheInflatedSize) {
  const std::string bomb = ws_frame(WSMsgType::BINARY, deflated(std::string(1 << 20, 'a')), false, true);
  ASSERT_LT(bomb.size(), 2000u);  // a few kilobytes on the wire, a mebibyte inflated
  EXPECT_EQ(failure(deflating(1 << 16), bomb),
            std::make_pair(static_cast<int>(WSCloseCode::MESSAGE_TOO_BIG), std::string("Decompressed message exceeds limit 65536")));
  // Exactly at the limit is allowed; one byte more is not.
  const std::string full = ws_frame(WSMsgType::BINARY, deflated(std::string(65536, 'b')), false, true);
  WSFrameReader at_limit = deflating(65536);
  EXPECT_EQ(read_all(at_limit, full), std::vector<std::string>{"BINARY " + std::string(65536, 'b')});
  EXPECT_EQ(failure(deflating(65535), full).first, WSCloseCode::MESSAGE_TOO_BIG);
  // Over several frames the inflated parts add up.
  const std::string z = deflated(std::string(40000, 'c'));
  std::string first = ws_frame(WSMsgType::BINARY, z.substr(0, z.size() / 2), false, true);
  first[0] = static_cast<char>(first[0] & 0x7F);
  const std::string two = first + ws_frame(WSMsgType::CONTINUATION, z.substr(z.size() / 2), false);
  EXPECT_EQ(failure(deflating(39999), two).first, WSCloseCode::MESSAGE_TOO_BIG);
  WSFrameReader enough = deflating(40000);
  EXPECT_EQ(read_all(enough, two), std::vector<std::string>{"BINARY " + std::string(40000, 'c')});
}

// --- the negotiation

// The server's answer to `offers`, or "none".
std::string answer(std::string_view offers) {
  const auto a = detail::ws_deflate_accept(offers);
  return a ? a->header : "none";
}

TEST(WebSocketDeflate, TheServerAcceptsTheFirstOfferItCanAndDeclinesTheRest) {
  EXPECT_EQ(answer(""), "none");
  EXPECT_EQ(answer("permessage-deflate"), "permessage-deflate");
  // What browsers and aiohttp's client offer.
  EXPECT_EQ(answer("permessage-deflate; client_max_window_bits"), "permessage-deflate");
  EXPECT_EQ(answer("PerMessage-Deflate ;client_max_window_bits=10"), "permessage-deflate");
  EXPECT_EQ(answer("permessage-deflate; server_max_window_bits=10"), "permessage-deflate; server_max_window_bits=10");
  EXPECT_EQ(answer("permessage-deflate; server_max_window_bits=\"12\""), "permessage-deflate; server_max_window_bits=12");
  EXPECT_EQ(answer("permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
  // zlib cannot deflate with a window of 8: that offer is declined, the next taken.
  EXPECT_EQ(answer("permessage-deflate; server_max_window_bits=8, permessage-deflate; client_max_window_bits"),
            "permessage-deflate");
  EXPECT_EQ(answer("x-webkit-deflate-frame, permessage-deflate"), "permessage-deflate");
  // Declined: an unknown, repeated or invalid parameter.
  for (const char* bad : {"permessage-deflate; foo", "permessage-deflate; server_max_window_bits",
                          "permessage-deflate; server_max_window_bits=010", "permessage-deflate; server_max_window_bits=16",
                          "permessage-deflate; client_max_window_bits=7", "permessage-deflate; server_no_context_takeover=1",
                          "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
                          "permessage-deflate; =1", "permessage-deflate; server_max_window_bits=\"12",
                          "permessage-deflate x", "x-webkit-deflate-frame"}) {
    EXPECT_EQ(answer(bad), "none") << bad;
  }
  const auto a = detail::ws_deflate_accept("permessage-deflate; server_max_window_bits=11; client_max_window_bits=9");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->agreed.server_max_window_bits, 11);
  EXPECT_EQ(a->agreed.client_max_window_bits, 9);
}

// ws_deflate_agreed's ValueError text, or what it agreed as "s=15 c=15 snt=0 cnt=0".
std::string agreed(std::string_view answer, int offered) {
  try {
    const auto d = detail::ws_deflate_agreed(answer, offered);
    if (!d) return "not agreed";
    return "s=" + std::to_string(d->server_max_window_bits) + " c=" + std::to_string(d->client_max_window_bits) +
           " snt=" + std::to_string(d->server_no_context_takeover) + " cnt=" + std::to_string(d->client_no_context_takeover);
  } catch (const ValueError& e) {
    return e.what();
  }
}

TEST(WebSocketDeflate, TheClientOffersAsAiohttpAndFailsABadAnswer) {
  EXPECT_EQ(detail::ws_deflate_offer(15), "permessage-deflate; client_max_window_bits");
  EXPECT_EQ(detail::ws_deflate_offer(10), "permessage-deflate; client_max_window_bits; server_max_window_bits=10");
  EXPECT_EQ(agreed("", 15), "not agreed");
  EXPECT_EQ(agreed("", 0), "not agreed");
  EXPECT_EQ(agreed("permessage-deflate", 15), "s=15 c=15 snt=0 cnt=0");
  EXPECT_EQ(agreed("permessage-deflate; server_max_window_bits=12; client_max_window_bits=12", 15), "s=12 c=12 snt=0 cnt=0");
  EXPECT_EQ(agreed("permessage-deflate; server_no_context_takeover; client_no_context_takeover", 15), "s=15 c=15 snt=1 cnt=1");
  EXPECT_EQ(agreed("permessage-deflate; server_max_window_bits=9", 10), "s=9 c=15 snt=0 cnt=0");
  // gorilla/websocket answers without the window asked for: taken as kept to.
  EXPECT_EQ(agreed("permessage-deflate; server_no_context_takeover; client_no_context_takeover", 10),
            "s=10 c=15 snt=1 cnt=1");
  EXPECT_EQ(agreed("permessage-deflate", 0), "Extension not offered in Sec-WebSocket-Extensions: permessage-deflate");
  EXPECT_EQ(agreed("x-custom", 15), "Extension not offered in Sec-WebSocket-Extensions: x-custom");
  EXPECT_EQ(agreed("permessage-deflate, permessage-deflate", 15),
            "Extension not offered in Sec-WebSocket-Extensions: permessage-deflate, permessage-deflate");
  EXPECT_EQ(agreed("permessage-deflate; server_max_window_bits=12", 10),
            "Invalid window size in Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=12");
  EXPECT_EQ(agreed("permessage-deflate; client_max_window_bits=8", 15),
            "Invalid window size in Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=8");
  EXPECT_EQ(agreed("permessage-deflate; client_max_window_bits", 15),
            "Invalid window size in Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits");
  EXPECT_EQ(agreed("permessage-deflate; x=1", 15), "Unknown parameter in Sec-WebSocket-Extensions: permessage-deflate; x=1");
  EXPECT_EQ(agreed("permessage-deflate; server_no_context_takeover; server_no_context_takeover", 15),
            "Repeated parameter in Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; "
            "server_no_context_takeover");
  EXPECT_EQ(agreed("permessage-deflate;", 15), "Invalid Sec-WebSocket-Extensions: permessage-deflate;");
}

// --- on the wire

// An echo endpoint at /ws ("echo " + text, bytes back as they came) that notes the
// window it compresses with.
void add_echo(Application& app, int& compress, WebSocketOptions options = {}) {
  app.add_get("/ws", [&compress, options](Request& request) -> Coro<StreamResponse> {
    WebSocketResponse ws(options);
    co_await ws.prepare(request);
    compress = ws.compress();
    for (;;) {
      WSMessage msg = co_await ws.receive();
      if (msg.type == WSMsgType::TEXT) {
        co_await ws.send_str("echo " + msg.data);
      } else if (msg.type == WSMsgType::BINARY) {
        co_await ws.send_bytes(msg.data);
      } else {
        break;
      }
    }
    co_return ws;
  });
}

// A hand-written client: the handshake with `offer`, then frames as they come.
struct RawClient {
  StreamReader reader;
  StreamWriter writer;
  std::string head;

  static Coro<RawClient> connect(std::string_view base, std::string_view offer) {
    const int port = std::stoi(std::string(base.substr(base.rfind(':') + 1)));
    auto [r, w] = co_await open_connection("127.0.0.1", port);
    w.write("GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Extensions: " + std::string(offer) + "\r\n\r\n");
    std::string head = co_await wait_for(r.readuntil("\r\n\r\n"), kBound);
    co_return RawClient{r, w, std::move(head)};
  }
  // The next frame's first byte and payload (the server's frames are not masked and,
  // here, short).
  Coro<std::pair<int, std::string>> frame() {
    const std::string h = co_await wait_for(reader.readexactly(2), kBound);
    std::size_t n = static_cast<unsigned char>(h[1]) & 0x7F;
    if (n == 126) {
      const std::string len = co_await reader.readexactly(2);
      n = (static_cast<unsigned char>(len[0]) << 8) | static_cast<unsigned char>(len[1]);
    }
    std::string payload = co_await wait_for(reader.readexactly(static_cast<long>(n)), kBound);
    co_return std::make_pair(static_cast<unsigned char>(h[0]), std::move(payload));
  }
  // Sends a close frame, reads the answer, closes; the answer's first byte.
  Coro<int> close() {
    writer.write(ws_frame(WSMsgType::CLOSE, detail::ws_close_payload(1000, ""), true));
    const int b0 = (co_await frame()).first;
    writer.close();
    co_return b0;
  }
};

TEST(WebSocketDeflate, TheServerCompressesItsMessagesAndKeepsOrDropsItsWindowAsAgreed) {
  Application app;
  int compress = -1;
  add_echo(app, compress);
  const std::string text = "a message the server will send back twice";
  test::serve_app(app, [&](std::string base) -> Coro<> {
    const bool both[] = {true, false};  // named: g++ 12 and braced lists in coroutines
    for (const bool takeover : both) {
      RawClient c = co_await RawClient::connect(
          base, takeover ? "permessage-deflate; client_max_window_bits" : "permessage-deflate; server_no_context_takeover");
      EXPECT_NE(c.head.find(takeover ? "\r\nSec-WebSocket-Extensions: permessage-deflate\r\n"
                                     : "\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n"),
                std::string::npos)
          << c.head;
      // Our message compressed, then the same one plain: both are read.
      c.writer.write(ws_frame(WSMsgType::TEXT, deflated(text), true, true));
      c.writer.write(ws_frame(WSMsgType::TEXT, text, true));
      // The answers come compressed (RSV1), and a client's inflater reads them.
      WSFrameReader reader = deflating();
      std::vector<std::string> got;
      std::vector<std::size_t> sizes;
      for (int i = 0; i < 2; ++i) {
        auto [b0, payload] = co_await c.frame();
        EXPECT_EQ(b0, 0xC1);  // FIN, RSV1, TEXT
        sizes.push_back(payload.size());
        std::vector<std::string> m = read_all(reader, ws_frame(WSMsgType::TEXT, payload, false, true));
        got.insert(got.end(), m.begin(), m.end());
      }
      EXPECT_EQ(got, (std::vector<std::string>{"TEXT echo " + text, "TEXT echo " + text}));
      if (takeover) {
        EXPECT_LT(sizes[1], sizes[0] / 2);  // the second refers back to the first
      } else {
        EXPECT_EQ(sizes[1], sizes[0]);  // each from an empty window
      }
      EXPECT_EQ(co_await c.close(), 0x88);  // the close frame answered, not compressed
      EXPECT_EQ(compress, 15);
    }
  });
}

TEST(WebSocketDeflate, TheServerReadsOffersSpreadOverSeveralHeaderLines) {
  Application app;
  int compress = -1;
  add_echo(app, compress);
  test::serve_app(app, [&](std::string base) -> Coro<> {
    // Two Sec-WebSocket-Extensions lines: an unknown extension, then ours.
    RawClient c = co_await RawClient::connect(
        base, "x-unknown; a=1\r\nSec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=9");
    EXPECT_NE(c.head.find("\r\nSec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=9\r\n"),
              std::string::npos)
        << c.head;
    EXPECT_EQ(co_await c.close(), 0x88);
  });
  EXPECT_EQ(compress, 9);
}

TEST(WebSocketDeflate, OurClientAndServerAgreeOrNotAsTheyAreTold) {
  Application app;
  int compress = -1;
  add_echo(app, compress);
  Application plain_app;
  int plain_compress = -1;
  add_echo(plain_app, plain_compress, {.compress = false});
  std::string big;
  for (int i = 0; i < 20000; ++i) big += "word" + std::to_string(i % 100) + " ";
  auto talk = [&](std::string base, int offer, int expect) -> Coro<> {
    ClientSession session;
    const WSConnectOptions options{.compress = offer};
    ClientWebSocketResponse ws = co_await session.ws_connect(base + "/ws", options);
    EXPECT_EQ(ws.compress(), expect);
    for (int i = 0; i < 3; ++i) {
      co_await ws.send_str("hello " + std::to_string(i));
      EXPECT_EQ(co_await wait_for(ws.receive_str(), kBound), "echo hello " + std::to_string(i));
    }
    co_await ws.send_bytes(big);
    EXPECT_EQ(co_await wait_for(ws.receive_bytes(), kBound), big);
    co_await ws.send_bytes("");
    EXPECT_EQ(co_await wait_for(ws.receive_bytes(), kBound), "");
    EXPECT_TRUE(co_await wait_for(ws.close(), kBound));
    EXPECT_EQ(ws.close_code(), 1000);
    co_await session.close();
  };
  test::serve_app(app, [&](std::string base) -> Coro<> {
    co_await talk(base, 15, 15);
    EXPECT_EQ(compress, 15);
    co_await talk(base, 10, 15);  // the server's window is 10; ours is still 15
    EXPECT_EQ(compress, 10);
    co_await talk(base, 0, 0);
    EXPECT_EQ(compress, 0);
    bool refused = false;
    ClientSession session;
    try {
      const WSConnectOptions eight{.compress = 8};
      (void)co_await session.ws_connect(base + "/ws", eight);
    } catch (const ValueError& e) {
      refused = std::string(e.what()) == "Compress wbits must between 9 and 15, zlib does not support wbits=8";
    }
    EXPECT_TRUE(refused);
    co_await session.close();
  });
  test::serve_app(plain_app, [&](std::string base) -> Coro<> {
    co_await talk(base, 15, 0);  // offered, declined: plain frames
    EXPECT_EQ(plain_compress, 0);
  });
}

// A server by hand whose answer has client_max_window_bits=8: an extension not
// offered when the client offered none, a window zlib cannot deflate with when it did.
TEST(WebSocketDeflate, OurClientFailsAnAnswerTheRfcSaysToFail) {
  auto handle = [](StreamReader r, StreamWriter w) -> Coro<void> {
    const std::string head = co_await r.readuntil("\r\n\r\n");
    const std::size_t at = head.find("Sec-WebSocket-Key: ") + 19;
    const std::string key = head.substr(at, head.find("\r\n", at) - at);
    w.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
            detail::ws_accept_key(key) + "\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=8\r\n\r\n");
    co_await w.drain();
    (void)co_await r.read();
    w.close();
  };
  auto main_ = [&]() -> Coro<> {
    Server server = co_await start_server(handle, "127.0.0.1", 0);
    const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/";
    ClientSession session;
    const int offers[] = {0, 15};
    for (const int offer : offers) {
      std::string message;
      int status = 0;
      try {
        const WSConnectOptions options{.compress = offer};
        (void)co_await session.ws_connect(url, options);
      } catch (const WSServerHandshakeError& e) {
        message = e.message();
        status = e.status();
      }
      EXPECT_EQ(status, 101);
      EXPECT_EQ(message, offer == 0 ? "Extension not offered in Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=8"
                                    : "Invalid window size in Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=8");
      EXPECT_EQ(session.connector().statistics().acquired, 0u);
    }
    co_await session.close();
    server.close();
    co_await server.wait_closed();
  };
  aio::run(main_());
}

// --- against real peers

// Runs `script` with /usr/bin/python3 and `arg`; its stdout, after checking it exited 0.
Coro<std::string> python(const char* script, std::string arg) {
  std::vector<std::string> args{std::move(arg)};  // named first: g++ 12
  test::PeerRun run = co_await test::run_python(script, args);
  EXPECT_EQ(run.status, 0) << run.err;
  co_return run.out;
}

TEST(WebSocketDeflate, AiohttpsAndWebsocketsClientsTalkToOurServerCompressed) {
  Application app;
  int compress = -1;
  add_echo(app, compress);
  const char* aiohttp_client = R"(
import asyncio, sys, aiohttp
async def main(base):
    async with aiohttp.ClientSession() as s:
        async with s.ws_connect(base + "/ws", compress=15) as ws:
            print("compress", ws.compress)
            for i in range(3):
                await ws.send_str("hi %d" % i)
                print((await ws.receive()).data)
            data = b"".join(b"%d," % i for i in range(50000))
            await ws.send_bytes(data)
            print("bytes back", (await ws.receive()).data == data)
asyncio.run(main(sys.argv[1]))
)";
  // websockets checks our answer against RFC 7692 and asks for what aiohttp never does:
  // both no_context_takeover parameters and a smaller server window. Its inflater then
  // has a window of 2^10 bytes, so the text it sends repeats 3,000 random letters,
  // which a server deflating with a larger window would answer with references it
  // cannot follow.
  const char* websockets_client = R"(
import asyncio, random, sys, websockets
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
r = random.Random(1)
chunk = "".join(r.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(3000))
async def main(url):
    for f in (None, ClientPerMessageDeflateFactory(server_max_window_bits=10, server_no_context_takeover=True,
                                                   client_no_context_takeover=True)):
        async with websockets.connect(url, extensions=[f] if f else None, compression="deflate" if not f else None) as ws:
            print(ws.response_headers["Sec-WebSocket-Extensions"])
            for i in range(3):
                await ws.send("hello " * 100 + str(i))
                print((await ws.recv())[-13:])
            data = bytes(range(256)) * 400
            await ws.send(data)
            print("bytes back", (await ws.recv()) == data)
            await ws.send(chunk * 3)
            print("far repeats back", (await ws.recv()) == "echo " + chunk * 3)
asyncio.run(main(sys.argv[1]))
)";
  test::serve_app(app, [&](std::string base) -> Coro<> {
    EXPECT_EQ(co_await python(aiohttp_client, base),
              "compress 15\necho hi 0\necho hi 1\necho hi 2\nbytes back True\n");
    EXPECT_EQ(compress, 15);
    EXPECT_EQ(co_await python(websockets_client, "ws" + base.substr(4) + "/ws"),
              "permessage-deflate\nhello hello 0\nhello hello 1\nhello hello 2\nbytes back True\nfar repeats back True\n"
              "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10\n"
              "hello hello 0\nhello hello 1\nhello hello 2\nbytes back True\nfar repeats back True\n");
    EXPECT_EQ(compress, 10);
  });
}

TEST(WebSocketDeflate, OurClientTalksCompressedToAiohttpsAndWebsocketsServers) {
  // Each server echoes, then says how it compresses. websockets' first server asks our
  // client for a window of 12 bits (client_max_window_bits=12), so the messages repeat
  // random text 6,000 bytes apart; its second asks for client_no_context_takeover, so
  // the same message goes twice (with our window kept, the second would refer to the
  // first, which that server's fresh inflater has not).
  const char* script = R"(
import asyncio, sys, websockets
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from aiohttp import web
async def handler(request):
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async for msg in ws:
        if msg.type == web.WSMsgType.TEXT and msg.data == "how":
            await ws.send_str("aiohttp compress=%s" % ws.compress)
        elif msg.type == web.WSMsgType.TEXT:
            await ws.send_str(msg.data)
        else:
            await ws.send_bytes(msg.data)
    return ws
async def echo(ws):
    async for msg in ws:
        await ws.send("websockets %s" % ws.response_headers["Sec-WebSocket-Extensions"] if msg == "how" else msg)
async def main():
    app = web.Application()
    app.router.add_get("/ws", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fresh = ServerPerMessageDeflateFactory(client_no_context_takeover=True)
    async with websockets.serve(echo, "127.0.0.1", 0) as server:
        async with websockets.serve(echo, "127.0.0.1", 0, extensions=[fresh]) as server2:
            print(site._server.sockets[0].getsockname()[1], server.sockets[0].getsockname()[1],
                  server2.sockets[0].getsockname()[1], flush=True)
            await asyncio.sleep(30)
asyncio.run(main())
)";
  auto main_ = [&]() -> Coro<> {
    test::PythonServer peer = co_await test::PythonServer::start(script);
    std::vector<std::string> port;
    for (std::size_t at = 0; at <= peer.line.size();) {
      const std::size_t end = std::min(peer.line.find(' ', at), peer.line.size());
      port.push_back(peer.line.substr(at, end - at));
      at = end + 1;
    }
    CO_ASSERT_TRUE(port.size() == 3u);
    // Random letters, 6,000 of them three times over: repeats too far for a 12-bit window.
    std::string chunk;
    std::uint32_t x = 1;
    for (int i = 0; i < 6000; ++i) chunk += static_cast<char>('a' + (x = x * 1103515245 + 12345) % 26);
    const std::string big = chunk + chunk + chunk;
    ClientSession session;
    const std::vector<std::tuple<std::string, int, bool, std::string>> peers{
        {port[0], 15, false, "aiohttp compress=15"},
        {port[1], 12, false, "websockets permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"},
        {port[2], 15, true, "websockets permessage-deflate; client_no_context_takeover"}};
    for (const auto& [at, window, fresh, how] : peers) {
      const WSConnectOptions offer{.compress = 15};
      ClientWebSocketResponse ws = co_await session.ws_connect("http://127.0.0.1:" + at + "/ws", offer);
      EXPECT_EQ(ws.compress(), window);
      EXPECT_EQ(ws.client_notakeover(), fresh);
      for (int i = 0; i < 3; ++i) {  // the same text each time but its last letter
        co_await ws.send_str(big.substr(0, 2000) + std::to_string(i));
        EXPECT_EQ(co_await wait_for(ws.receive_str(), kBound), big.substr(0, 2000) + std::to_string(i));
      }
      co_await ws.send_bytes(big);
      EXPECT_EQ(co_await wait_for(ws.receive_bytes(), kBound), big);
      co_await ws.send_str("how");
      EXPECT_EQ(co_await wait_for(ws.receive_str(), kBound), how);
      EXPECT_TRUE(co_await wait_for(ws.close(), kBound));
      EXPECT_EQ(ws.close_code(), 1000);
    }
    co_await session.close();
    co_await peer.stop();
  };
  aio::run(main_());
}

}  // namespace
}  // namespace aio::http
