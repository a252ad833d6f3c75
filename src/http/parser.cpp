// The HTTP/1.1 parser (aio/http/parser.hpp). Stub: the interface links; the parser
// follows.
#include "aio/http/parser.hpp"

namespace aio::http {

std::optional<std::string_view> MessageHead::header(std::string_view) const { return std::nullopt; }

void MessageHead::clear() noexcept {
  method = target = reason = {};
  status = 0;
  version_major = version_minor = 1;
  headers.clear();
  body = BodyKind::none;
  content_length = 0;
  keep_alive = true;
  expect_continue = upgrade = false;
  scan_ = {};
}

std::size_t parse_request_head(std::string_view, MessageHead&, const ParserLimits&) {
  throw BadHttpMessage("not implemented yet");
}

std::size_t parse_response_head(std::string_view, MessageHead&, std::string_view, const ParserLimits&) {
  throw BadHttpMessage("not implemented yet");
}

BodyDecoder::BodyDecoder(const MessageHead&, const ParserLimits& limits)
    : state_(State::done), limits_(limits) {
  remaining_ = line_len_ = digits_ = 0;
}

BodyDecoder::Step BodyDecoder::feed(std::string_view) { return {0, {}, true}; }

void BodyDecoder::feed_eof() {}

}  // namespace aio::http
