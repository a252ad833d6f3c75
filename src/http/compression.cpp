// zlib streams for Content-Encoding: gzip and deflate, with Python zlib's
// decompressobj semantics (max_length, unconsumed_tail, unused_data, eof).
#include "aio/http/compression.hpp"

#include <zlib.h>

#include <algorithm>

#include "aio/errors.hpp"
#include "aio/http/exceptions.hpp"
#include "aio/http/headers.hpp"

namespace aio::http {
namespace {

enum class Kind { gzip, deflate };

Kind parse_encoding(std::string_view encoding) {
  if (ascii_iequals(encoding, "gzip") || ascii_iequals(encoding, "x-gzip")) return Kind::gzip;
  if (ascii_iequals(encoding, "deflate")) return Kind::deflate;
  throw ContentEncodingError("Can not decode content-encoding: " + std::string(encoding));
}

// The bytes zlib writes per inflate()/deflate() call when no smaller bound applies.
constexpr std::size_t kStep = 16 * 1024;

Bytef* in_ptr(std::string_view s) {
  // zlib's next_in is not const-qualified, but it never writes through it.
  return reinterpret_cast<Bytef*>(const_cast<char*>(s.data()));
}

}  // namespace

// ---------------------------------------------------------------------------
// ZLibDecompressor

struct ZLibDecompressor::State {
  Kind kind;
  std::string encoding;
  z_stream zs{};
  bool initialized = false;  // inflateInit2 done (deflate waits for its first 2 bytes)
  bool eof = false;          // Z_STREAM_END of the current stream or member
  bool broken = false;       // an error was thrown; every later call throws it again
  std::string prefix;        // deflate: the first byte, until the second decides the format
  std::string unconsumed_tail, unused_data;

  ~State() {
    if (initialized) inflateEnd(&zs);
  }

  [[noreturn]] void fail() {
    broken = true;
    throw ContentEncodingError("Can not decode content-encoding: " + encoding);
  }

  void init(int window_bits) {
    if (inflateInit2(&zs, window_bits) != Z_OK) fail();
    initialized = true;
  }
};

ZLibDecompressor::ZLibDecompressor(std::string_view encoding) : s_(std::make_unique<State>()) {
  s_->kind = parse_encoding(encoding);
  s_->encoding.assign(encoding);
  if (s_->kind == Kind::gzip) s_->init(16 + MAX_WBITS);
}
ZLibDecompressor::ZLibDecompressor(RawDeflate raw) : s_(std::make_unique<State>()) {
  if (raw.wbits < 8 || raw.wbits > 15) throw ValueError("wbits must be 8 to 15 for raw inflate");
  s_->kind = Kind::deflate;
  s_->encoding = "deflate";
  s_->init(-raw.wbits);
}
ZLibDecompressor::~ZLibDecompressor() = default;
ZLibDecompressor::ZLibDecompressor(ZLibDecompressor&&) noexcept = default;
ZLibDecompressor& ZLibDecompressor::operator=(ZLibDecompressor&&) noexcept = default;

bool ZLibDecompressor::eof() const noexcept { return s_->eof; }
const std::string& ZLibDecompressor::unconsumed_tail() const noexcept { return s_->unconsumed_tail; }
const std::string& ZLibDecompressor::unused_data() const noexcept { return s_->unused_data; }
const std::string& ZLibDecompressor::encoding() const noexcept { return s_->encoding; }

std::string ZLibDecompressor::decompress(std::string_view chunk, std::size_t max_length) {
  State& s = *s_;
  if (s.broken) s.fail();
  std::string joined;
  if (!s.initialized) {
    // "deflate" is meant to be zlib-wrapped (RFC 9110 8.4.1.2), but servers also send
    // raw deflate. A zlib header is CM = 8 in the low nibble of the first byte, a
    // window of at most 32 KiB, and the first two bytes a multiple of 31 (RFC 1950).
    s.prefix.append(chunk);
    if (s.prefix.size() < 2) return {};
    auto b0 = static_cast<unsigned char>(s.prefix[0]);
    auto b1 = static_cast<unsigned char>(s.prefix[1]);
    bool zlib_header = (b0 & 0x0F) == 8 && (b0 >> 4) <= 7 && ((b0 << 8) | b1) % 31 == 0;
    s.init(zlib_header ? MAX_WBITS : -MAX_WBITS);
    joined = std::move(s.prefix);
    s.prefix.clear();
    chunk = joined;
  }
  s.unconsumed_tail.clear();
  std::string out;
  std::string_view in = chunk;
  if (s.eof) {
    if (s.kind == Kind::gzip) {
      // After a gzip member: zero padding is skipped (as Python's gzip module does),
      // another member is decoded, anything else is left unused.
      while (!in.empty() && in.front() == '\0') in.remove_prefix(1);
      if (in.empty()) return out;
      if (static_cast<unsigned char>(in.front()) == 0x1f) {
        inflateReset(&s.zs);
        s.eof = false;
      }
    }
    if (s.eof) {
      s.unused_data.append(in);
      return out;
    }
  }
  const std::size_t limit = max_length == 0 ? std::string::npos : max_length;
  // The output is made room for (and zeroed) in steps that grow from a guess at the
  // input's size, so that a small piece costs little.
  std::size_t step = std::min(kStep, std::max<std::size_t>(256, 4 * in.size()));
  for (;; step = std::min(kStep, 2 * step)) {
    std::size_t room = std::min(step, limit - out.size());
    if (room == 0) break;
    std::size_t old = out.size();
    out.resize(old + room);
    s.zs.next_in = in_ptr(in);
    s.zs.avail_in = static_cast<uInt>(std::min<std::size_t>(in.size(), 1u << 30));
    s.zs.next_out = reinterpret_cast<Bytef*>(out.data() + old);
    s.zs.avail_out = static_cast<uInt>(room);
    int rc = inflate(&s.zs, Z_SYNC_FLUSH);
    std::size_t consumed = static_cast<std::size_t>(s.zs.next_in - in_ptr(in));
    std::size_t produced = room - s.zs.avail_out;
    out.resize(old + produced);
    in.remove_prefix(consumed);
    if (rc == Z_STREAM_END) {
      s.eof = true;
      if (s.kind == Kind::gzip) {
        while (!in.empty() && in.front() == '\0') in.remove_prefix(1);
        if (!in.empty() && static_cast<unsigned char>(in.front()) == 0x1f) {
          inflateReset(&s.zs);
          s.eof = false;
          continue;
        }
      }
      s.unused_data.append(in);
      in = {};
      break;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) s.fail();
    // Z_BUF_ERROR, or no progress: zlib needs more input than there is.
    if (consumed == 0 && produced == 0) break;
    // zlib stops when it has used all input and has no more output to give; it may
    // hold output when avail_out reached 0, so go round again then.
    if (in.empty() && s.zs.avail_out != 0) break;
  }
  s.unconsumed_tail.assign(in);
  return out;
}

void ZLibDecompressor::reset(bool keep_window) {
  State& s = *s_;
  if (s.broken) s.fail();
  if (s.initialized) {
    unsigned char window[1 << MAX_WBITS];
    uInt length = 0;
    if (keep_window && inflateGetDictionary(&s.zs, window, &length) != Z_OK) s.fail();
    if (inflateReset(&s.zs) != Z_OK) s.fail();
    if (keep_window && length != 0 && inflateSetDictionary(&s.zs, window, length) != Z_OK) s.fail();
  }
  s.eof = false;
  s.unconsumed_tail.clear();
  s.unused_data.clear();
}

std::string ZLibDecompressor::flush() {
  State& s = *s_;
  if (s.broken) s.fail();
  if (!s.initialized && !s.prefix.empty()) {
    // One byte of deflate in all: not enough to tell; it is raw deflate (or broken).
    s.init(-MAX_WBITS);
    std::string p = std::move(s.prefix);
    s.prefix.clear();
    return decompress(p);
  }
  if (!s.initialized) return {};
  std::string tail = std::move(s.unconsumed_tail);
  s.unconsumed_tail.clear();
  return decompress(tail);
}

// ---------------------------------------------------------------------------
// ZLibCompressor

struct ZLibCompressor::State {
  z_stream zs{};
  bool initialized = false;
  bool finished = false;
  ~State() {
    if (initialized) deflateEnd(&zs);
  }

  void init(int level, int window_bits) {
    if (level < -1 || level > 9) throw ValueError("Bad compression level");
    if (deflateInit2(&zs, level, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
      throw RuntimeError("zlib deflateInit2 failed");
    initialized = true;
  }

  // Runs deflate(flush) over `in` until zlib has nothing more to give.
  std::string run(std::string_view in, int flush) {
    if (finished) throw RuntimeError("compressor already finished (flush(Flush::finish) was called)");
    std::string out;
    zs.next_in = in_ptr(in);
    zs.avail_in = static_cast<uInt>(in.size());
    // First room for what the input can become, plus a flush's few bytes (zlib wants
    // more than 6 bytes free for a flush); what zlib holds beyond that takes further
    // rounds.
    std::size_t room = deflateBound(&zs, zs.avail_in) + 64;
    for (;; room = kStep) {
      std::size_t old = out.size();
      out.resize(old + room);
      zs.next_out = reinterpret_cast<Bytef*>(out.data() + old);
      zs.avail_out = static_cast<uInt>(room);
      int rc = deflate(&zs, flush);
      out.resize(old + (room - zs.avail_out));
      if (rc == Z_STREAM_END) {
        finished = true;
        break;
      }
      if (rc != Z_OK && rc != Z_BUF_ERROR) throw RuntimeError("zlib deflate failed: " + std::to_string(rc));
      if (zs.avail_in == 0 && zs.avail_out != 0) break;
    }
    return out;
  }
};

ZLibCompressor::ZLibCompressor(std::string_view encoding, int level) : s_(std::make_unique<State>()) {
  Kind k = parse_encoding(encoding);
  s_->init(level, k == Kind::gzip ? 16 + MAX_WBITS : MAX_WBITS);
}
ZLibCompressor::ZLibCompressor(RawDeflate raw, int level) : s_(std::make_unique<State>()) {
  // zlib refuses a raw window of 8 (and turns a wrapped one into 9).
  if (raw.wbits < 9 || raw.wbits > 15) throw ValueError("wbits must be 9 to 15 for raw deflate");
  s_->init(level, -raw.wbits);
}
ZLibCompressor::~ZLibCompressor() = default;
ZLibCompressor::ZLibCompressor(ZLibCompressor&&) noexcept = default;
ZLibCompressor& ZLibCompressor::operator=(ZLibCompressor&&) noexcept = default;

std::string ZLibCompressor::compress(std::string_view data) {
  std::string out;
  // avail_in is 32 bits: feed very large inputs in pieces.
  do {
    std::string_view piece = data.substr(0, std::size_t{1} << 30);
    out += s_->run(piece, Z_NO_FLUSH);
    data.remove_prefix(piece.size());
  } while (!data.empty());
  return out;
}

namespace {
int zlib_flush(ZLibCompressor::Flush mode) {
  return mode == ZLibCompressor::Flush::sync ? Z_SYNC_FLUSH : mode == ZLibCompressor::Flush::full ? Z_FULL_FLUSH : Z_FINISH;
}
}  // namespace

std::string ZLibCompressor::flush(Flush mode) { return s_->run({}, zlib_flush(mode)); }

std::string ZLibCompressor::compress(std::string_view data, Flush mode) {
  if (data.size() <= (std::size_t{1} << 30)) return s_->run(data, zlib_flush(mode));
  std::string out = compress(data);  // avail_in is 32 bits: in pieces, then the flush
  out += flush(mode);
  return out;
}

}  // namespace aio::http
