// libFuzzer target: multipart bodies (aio/http/multipart.hpp's MultipartReader), read
// whole and cut into pieces. The first byte picks the piece and chunk sizes and how
// the parts are read (read_chunk, readline, or skipped); the rest is the body, under
// the boundary "XyZ". Every chunk must be at most the size asked for, a part's
// Content-Disposition must parse or give {"", {}} without throwing, decode() may only
// throw aio's ValueError or RuntimeError or a ContentEncodingError, and cutting the
// body anywhere must not change what comes out: the same parts, then the same error
// or none.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aio/aio.hpp"
#include "aio/http/exceptions.hpp"
#include "aio/http/multipart.hpp"

namespace {

namespace http = aio::http;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "invariant broken: %s\n", what);
  std::abort();
}
#define MP_FUZZ_CHECK(cond)   \
  do {                        \
    if (!(cond)) fail(#cond); \
  } while (0)

http::MultipartReader::Read pieces(std::string_view body, std::size_t step) {
  auto at = std::make_shared<std::size_t>(0);
  return [body, step, at]() -> aio::Coro<std::string> {
    const std::size_t n = step == 0 ? body.size() - *at : std::min(step, body.size() - *at);
    std::string out(body.substr(*at, n));
    *at += n;
    co_return out;
  };
}

// decode() may only throw these.
void check_decode(const http::BodyPartReader& part, const std::string& data) {
  try {
    (void)part.decode(data);
  } catch (const aio::ValueError&) {
  } catch (const aio::RuntimeError&) {
  } catch (const http::ContentEncodingError&) {
  }
}

// One line per part (its headers and its bytes as read); ValueError ends it.
aio::Coro<void> read_parts(std::string_view body, std::size_t step, std::size_t chunk, int mode, std::vector<std::string>& out) {
  http::MultipartReader reader("multipart/form-data; boundary=XyZ", pieces(body, step));
  while (http::BodyPartReader* part = co_await reader.next()) {
    std::string line;
    for (const auto& [k, v] : part->headers()) line += k + ":" + v + "\n";
    if (auto cd = part->headers().get("Content-Disposition")) {
      auto parsed = http::parse_content_disposition(*cd);
      line += "disposition " + parsed.first + " " + std::to_string(parsed.second.size()) + "\n";
      (void)part->name();
      (void)part->filename();
    }
    std::string data;
    if (mode == 0) {
      for (std::string c; !(c = co_await part->read_chunk(chunk)).empty();) {
        MP_FUZZ_CHECK(c.size() <= chunk);
        data += c;
      }
      MP_FUZZ_CHECK(part->at_eof());
    } else if (mode == 1) {
      for (std::string l; !(l = co_await part->readline()).empty();) {
        const std::size_t nl = l.find('\n');
        MP_FUZZ_CHECK(nl == std::string::npos || nl + 1 == l.size());
        data += l;
      }
      MP_FUZZ_CHECK(part->at_eof());
    }  // mode 2: left unread, next() drops it
    check_decode(*part, data);
    out.push_back(line + "body " + data);
  }
  MP_FUZZ_CHECK(reader.at_eof());
  out.push_back("end");
}

// What the body gives, then the error or "end".
std::vector<std::string> run(aio::EventLoop& loop, std::string_view body, std::size_t step, std::size_t chunk, int mode) {
  std::vector<std::string> out;
  try {
    loop.run_until_complete(read_parts(body, step, chunk, mode, out));
  } catch (const aio::ValueError& e) {
    out.push_back(std::string("error ") + e.what());
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static aio::EventLoop loop;
  const std::uint8_t cfg = data[0];
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  const int mode = cfg % 3;
  const std::size_t chunk = 1 + ((cfg >> 2) & 15);
  const std::vector<std::string> whole = run(loop, body, 0, chunk, mode);
  for (std::size_t step : {std::size_t{1}, std::size_t{2} + ((cfg >> 4) & 7), std::size_t{17}}) {
    if (run(loop, body, step, chunk, mode) != whole) fail("cutting the body changed what came out");
  }
  return 0;
}
