// Shared by the HTTP parser fuzzers: a connection simulated over one input, fed whole
// or cut into pieces, and the invariants every step must keep.
//
// run_stream() reads messages from `input` as the server or client does: parse a head
// from the buffer, consume it, feed the body decoder, consume what it used, and append
// the next piece of input when either needs more. Its result names every head, body
// byte, trailer and the final error, so two feeds of the same bytes can be compared:
// cutting the input anywhere must not change the result.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#include "aio/http/parser.hpp"

namespace aio_fuzz {

namespace http = aio::http;

[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "invariant broken: %s\n", what);
  std::abort();
}
#define AIO_FUZZ_CHECK(cond) \
  do {                       \
    if (!(cond)) ::aio_fuzz::fail(#cond); \
  } while (0)

inline bool inside(std::string_view v, std::string_view buf) {
  return v.empty() || (v.data() >= buf.data() && v.data() + v.size() <= buf.data() + buf.size());
}

inline void check_head(const http::MessageHead& h, std::string_view buf, std::size_t size) {
  AIO_FUZZ_CHECK(size <= buf.size());
  const std::string_view head = buf.substr(0, size);
  AIO_FUZZ_CHECK(inside(h.method, head) && inside(h.target, head) && inside(h.reason, head));
  for (const auto& f : h.headers) AIO_FUZZ_CHECK(inside(f.name, head) && inside(f.value, head));
  AIO_FUZZ_CHECK(h.headers.size() <= 100);
  AIO_FUZZ_CHECK(head.size() >= 4 && head.substr(head.size() - 4) == "\r\n\r\n");
  AIO_FUZZ_CHECK(h.version_major == 1 && (h.version_minor == 0 || h.version_minor == 1));
}

inline std::string describe(const http::MessageHead& h) {
  std::string s = "[" + std::string(h.method) + " " + std::string(h.target) + " " + std::to_string(h.status) +
                  " " + std::string(h.reason) + " " + std::to_string(h.version_minor);
  for (const auto& f : h.headers) s += "|" + std::string(f.name) + ":" + std::string(f.value);
  s += " body" + std::to_string(static_cast<int>(h.body)) + " " + std::to_string(h.content_length) + " " +
       std::to_string(h.keep_alive) + std::to_string(h.expect_continue) + std::to_string(h.upgrade) + "]";
  return s;
}

// The error as a comparable string: its type and message, but no sizes for LineTooLong
// (a line cut short is reported with the length seen so far).
inline std::string describe(const http::BadHttpMessage& e) {
  if (dynamic_cast<const http::LineTooLong*>(&e) != nullptr) return std::string("!") + typeid(e).name();
  return std::string("!") + typeid(e).name() + ":" + e.message();
}

// Parses a head; `Parse` is parse_request_head or parse_response_head bound to its method.
enum class Mode { request, response, chunked };

struct Config {
  Mode mode = Mode::request;
  std::string method = "GET";  // the request a response answers
  http::ParserLimits limits{};
};

// Feeds `input` in pieces ending at `cuts` (increasing, then the end).
inline std::string run_stream(std::string_view input, const std::vector<std::size_t>& cuts, const Config& cfg) {
  std::string buf, out;
  std::size_t fed = 0, next_cut = 0;
  auto more = [&] {
    if (fed == input.size()) return false;
    std::size_t end = input.size();
    while (next_cut < cuts.size() && cuts[next_cut] <= fed) ++next_cut;
    if (next_cut < cuts.size()) end = cuts[next_cut++];
    buf.append(input.substr(fed, end - fed));
    fed = end;
    return true;
  };
  auto body = [&](http::BodyDecoder& d) {
    while (!d.done()) {
      const auto st = d.feed(buf);
      AIO_FUZZ_CHECK(st.consumed <= buf.size());
      AIO_FUZZ_CHECK(inside(st.data, std::string_view(buf).substr(0, st.consumed)));
      AIO_FUZZ_CHECK(st.done == d.done());
      // Progress whenever there are bytes to decode.
      AIO_FUZZ_CHECK(st.done || st.consumed > 0 || buf.empty());
      out.append(st.data);
      buf.erase(0, st.consumed);
      if (!st.done && st.consumed == 0 && !more()) {
        d.feed_eof();
        AIO_FUZZ_CHECK(d.done());
        out += "<eof>";
      }
    }
    for (const auto& [k, v] : d.trailers()) out += "{" + k + ":" + v + "}";
  };
  more();
  try {
    if (cfg.mode == Mode::chunked) {
      http::MessageHead h;
      h.body = http::BodyKind::chunked;
      http::BodyDecoder d(h, cfg.limits);
      body(d);
      return out + "<rest " + std::to_string(buf.size() + input.size() - fed) + ">";
    }
    http::MessageHead h;
    for (;;) {
      std::size_t size;
      for (;;) {
        size = cfg.mode == Mode::request ? http::parse_request_head(buf, h, cfg.limits)
                                         : http::parse_response_head(buf, h, cfg.method, cfg.limits);
        if (size != 0 || !more()) break;
      }
      if (size == 0) return out + (buf.empty() ? "<end>" : "<incomplete head>");
      check_head(h, buf, size);
      out += describe(h);
      http::BodyDecoder d(h, cfg.limits);
      const bool last = h.upgrade || h.body == http::BodyKind::until_close;
      buf.erase(0, size);
      if (h.upgrade) return out + "<upgrade>";
      body(d);
      if (last) return out;
    }
  } catch (const http::BadHttpMessage& e) {
    return out + describe(e);
  }
}

// The cut positions worth trying: around every delimiter (CR, LF, colon, space,
// semicolon), the first and last bytes, at most `limit` of them.
inline std::vector<std::size_t> cut_points(std::string_view in, std::size_t limit = 48) {
  std::set<std::size_t> pos;
  auto add = [&](std::size_t p) {
    if (p > 0 && p < in.size()) pos.insert(p);
  };
  add(1);
  add(in.size() - 1);
  for (std::size_t i = 0; i < in.size() && pos.size() < limit; ++i) {
    const char c = in[i];
    if (c == '\r' || c == '\n' || c == ':' || c == ' ' || c == ';') {
      add(i);
      add(i + 1);
    }
  }
  for (std::size_t k = 1; k < 8 && pos.size() < limit + 8; ++k) add(in.size() * k / 8);
  return {pos.begin(), pos.end()};
}

// The whole check: the input fed at once, cut once at each cut point, and (when small)
// a byte at a time, all give the same result.
inline void check_all(std::string_view in, const Config& cfg) {
  const std::string whole = run_stream(in, {}, cfg);
  for (std::size_t p : cut_points(in)) {
    if (run_stream(in, {p}, cfg) != whole) {
      std::fprintf(stderr, "cut at %zu differs:\n  whole: %s\n  cut:   %s\n", p, whole.c_str(),
                   run_stream(in, {p}, cfg).c_str());
      std::abort();
    }
  }
  if (in.size() <= 512) {
    std::vector<std::size_t> every;
    for (std::size_t i = 1; i < in.size(); ++i) every.push_back(i);
    if (run_stream(in, every, cfg) != whole) {
      std::fprintf(stderr, "byte-by-byte differs:\n  whole: %s\n  split: %s\n", whole.c_str(),
                   run_stream(in, every, cfg).c_str());
      std::abort();
    }
  }
}

// A leading "!" selects small limits, so the fuzzer reaches them with small inputs.
inline std::string_view take_limits(std::string_view in, Config& cfg) {
  if (!in.empty() && in.front() == '!') {
    cfg.limits = {.max_line_size = 64, .max_field_size = 48, .max_headers = 4};
    in.remove_prefix(1);
  }
  return in;
}

}  // namespace aio_fuzz
