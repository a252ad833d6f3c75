// libFuzzer target: WebSocket frames (aio/http/websocket.hpp's WSFrameReader), read as
// a server (masked frames) or a client (unmasked), whole and cut into pieces. The
// first byte picks the side, the message limit and where the input is cut; the rest
// is the stream; with bit 5 set, permessage-deflate is agreed, so a frame with RSV1
// starts a compressed message (an inflated one is held to the limit just the same).
// Every feed must take no more than it was given, every message must
// keep the protocol's promises (text is UTF-8, control payloads at most 125 bytes, no
// message over the limit), and cutting the stream anywhere must not change what comes
// out: the same messages, then the same error or none.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aio/http/websocket.hpp"

namespace {

namespace http = aio::http;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "invariant broken: %s\n", what);
  std::abort();
}
#define WS_FUZZ_CHECK(cond) \
  do {                      \
    if (!(cond)) fail(#cond); \
  } while (0)

// What a stream gives: one line per message, then the error's close code (or "end").
std::vector<std::string> run(std::string_view input, bool masked, bool deflate, std::size_t limit, std::size_t step) {
  http::detail::WSFrameReader reader(masked, limit);
  if (deflate) reader.accept_deflate();
  std::vector<std::string> out;
  std::string buf;
  std::size_t fed = 0;
  try {
    for (;;) {
      std::optional<http::WSMessage> m;
      const std::size_t n = reader.feed(buf, m);
      WS_FUZZ_CHECK(n <= buf.size());
      if (n == 0) {
        WS_FUZZ_CHECK(!m);
        if (fed == input.size()) break;
        const std::size_t more = step == 0 ? input.size() - fed : std::min(step, input.size() - fed);
        buf.append(input.substr(fed, more));
        fed += more;
        continue;
      }
      buf.erase(0, n);
      if (!m) continue;
      const int type = static_cast<int>(m->type);
      if (m->type == http::WSMsgType::TEXT) WS_FUZZ_CHECK(http::detail::valid_utf8(m->data));
      if (m->type == http::WSMsgType::TEXT || m->type == http::WSMsgType::BINARY) {
        WS_FUZZ_CHECK(limit == 0 || m->data.size() <= limit);
      } else {
        WS_FUZZ_CHECK(m->type == http::WSMsgType::PING || m->type == http::WSMsgType::PONG ||
                      m->type == http::WSMsgType::CLOSE);
        WS_FUZZ_CHECK(m->data.size() <= 125 && m->extra.size() <= 123);
        if (m->type == http::WSMsgType::CLOSE) WS_FUZZ_CHECK(http::detail::valid_utf8(m->extra));
      }
      out.push_back(std::to_string(type) + " " + std::to_string(m->code) + " " + m->data + "|" + m->extra);
    }
    out.push_back("end " + std::to_string(buf.size()));
  } catch (const http::WebSocketError& e) {
    WS_FUZZ_CHECK(e.code() == http::WSCloseCode::PROTOCOL_ERROR || e.code() == http::WSCloseCode::INVALID_TEXT ||
                  e.code() == http::WSCloseCode::MESSAGE_TOO_BIG);
    out.push_back("error " + std::to_string(e.code()));
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t cfg = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  const bool masked = (cfg & 1) != 0;
  const std::size_t limit = (cfg & 2) != 0 ? 64 : 0;
  const bool deflate = (cfg & 32) != 0;
  const std::vector<std::string> whole = run(input, masked, deflate, limit, 0);
  for (std::size_t step : {std::size_t{1}, std::size_t{2} + ((cfg >> 2) & 7), std::size_t{13}}) {
    if (run(input, masked, deflate, limit, step) != whole) fail("cutting the stream changed what came out");
  }
  return 0;
}
