// ZLibDecompressor and ZLibCompressor against Python's zlib and gzip modules: python3
// compresses what we decompress, and decompresses what we compress.
#include "aio/http/compression.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "aio/errors.hpp"
#include "aio/http/exceptions.hpp"

namespace http = aio::http;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Runs `python3 -c script` with `input` on stdin and returns its stdout.
std::string python(const std::string& script, const std::string& input) {
  char dir_template[] = "/tmp/aio-compression-XXXXXX";
  const char* dir = mkdtemp(dir_template);
  if (dir == nullptr) throw std::runtime_error("mkdtemp failed");
  std::string in = std::string(dir) + "/in", out = std::string(dir) + "/out", py = std::string(dir) + "/s.py";
  std::ofstream(in, std::ios::binary) << input;
  std::ofstream(py) << "import sys, zlib, gzip\ndata = sys.stdin.buffer.read()\n" << script << "\n";
  std::string cmd = "python3 " + py + " < " + in + " > " + out;
  int rc = std::system(cmd.c_str());
  std::string result = read_file(out);
  std::system(("rm -rf " + std::string(dir)).c_str());
  if (rc != 0) throw std::runtime_error("python3 failed: " + script);
  return result;
}

std::string payload() {
  std::string s;
  for (int i = 0; i < 20000; ++i) s += "line " + std::to_string(i * 7919 % 1000) + " of the payload\n";
  return s;
}

std::string decompress_all(http::ZLibDecompressor& d, std::string_view data, std::size_t chunk) {
  std::string out;
  for (std::size_t i = 0; i < data.size(); i += chunk) out += d.decompress(data.substr(i, chunk));
  out += d.flush();
  return out;
}

// decompress() then flush(), in that order (the operands of + are unsequenced).
std::string all_of(http::ZLibDecompressor& d, std::string_view data) {
  std::string out = d.decompress(data);
  out += d.flush();
  return out;
}

const char* const kWrite = "sys.stdout.buffer.write(";

}  // namespace

TEST(ZLibDecompressor, GzipFromPython) {
  std::string plain = payload();
  std::string gz = python(std::string(kWrite) + "gzip.compress(data))", plain);
  for (std::size_t chunk : {gz.size(), std::size_t{4096}, std::size_t{1}}) {
    http::ZLibDecompressor d("gzip");
    EXPECT_FALSE(d.eof());
    EXPECT_EQ(decompress_all(d, gz, chunk), plain) << "chunk " << chunk;
    EXPECT_TRUE(d.eof());
    EXPECT_EQ(d.unused_data(), "");
  }
}

TEST(ZLibDecompressor, DeflateWithAndWithoutTheZlibWrapper) {
  std::string plain = payload();
  std::string wrapped = python(std::string(kWrite) + "zlib.compress(data))", plain);
  std::string raw = python(std::string(kWrite) + "(lambda c: c.compress(data) + c.flush())(zlib.compressobj(9, zlib.DEFLATED, -15)))", plain);
  ASSERT_NE(wrapped.substr(2), raw);
  for (const std::string* stream : {&wrapped, &raw}) {
    for (std::size_t chunk : {stream->size(), std::size_t{1}}) {
      http::ZLibDecompressor d("deflate");
      EXPECT_EQ(decompress_all(d, *stream, chunk), plain);
      EXPECT_TRUE(d.eof());
    }
  }
  // Every zlib level's header is told from raw deflate (the 2 bytes are a multiple of 31).
  for (int level = 0; level <= 9; ++level) {
    std::string z = python(std::string(kWrite) + "zlib.compress(data, " + std::to_string(level) + "))", "abc");
    std::string r = python(std::string(kWrite) + "(lambda c: c.compress(data) + c.flush())(zlib.compressobj(" +
                               std::to_string(level) + ", zlib.DEFLATED, -15)))",
                           "abc");
    http::ZLibDecompressor dz("deflate"), dr("DEFLATE");
    EXPECT_EQ(all_of(dz, z), "abc") << level;
    EXPECT_EQ(all_of(dr, r), "abc") << level;
  }
}

TEST(ZLibDecompressor, ConcatenatedGzipMembersAndZeroPadding) {
  std::string a = python(std::string(kWrite) + "gzip.compress(data))", "first member\n");
  std::string b = python(std::string(kWrite) + "gzip.compress(data))", "second member\n");
  std::string both = a + b + std::string(8, '\0');
  EXPECT_EQ(python(std::string(kWrite) + "gzip.decompress(data))", both), "first member\nsecond member\n");
  for (std::size_t chunk : {both.size(), std::size_t{1}, a.size()}) {
    http::ZLibDecompressor d("x-gzip");
    EXPECT_EQ(decompress_all(d, both, chunk), "first member\nsecond member\n") << chunk;
    EXPECT_TRUE(d.eof());
  }
}

TEST(ZLibDecompressor, DataAfterTheStreamIsUnused) {
  std::string z = python(std::string(kWrite) + "zlib.compress(data))", "hello");
  http::ZLibDecompressor d("deflate");
  EXPECT_EQ(d.decompress(z + "TRAILER"), "hello");
  EXPECT_TRUE(d.eof());
  EXPECT_EQ(d.unused_data(), "TRAILER");
  EXPECT_EQ(d.decompress("more"), "");
  EXPECT_EQ(d.unused_data(), "TRAILERmore");
  http::ZLibDecompressor g("gzip");
  EXPECT_EQ(g.decompress(python(std::string(kWrite) + "gzip.compress(data))", "x") + "junk"), "x");
  EXPECT_EQ(g.unused_data(), "junk");
}

TEST(ZLibDecompressor, MaxLengthBoundsEachCallAgainstZipBombs) {
  // 64 MiB of zeros is about 64 KiB compressed.
  std::string bomb = python(std::string(kWrite) + "gzip.compress(bytes(64 << 20)))", "");
  ASSERT_LT(bomb.size(), 100000u);
  http::ZLibDecompressor d("gzip");
  constexpr std::size_t kMax = 65536;
  std::size_t total = 0, calls = 0;
  std::string first = d.decompress(bomb, kMax);
  EXPECT_EQ(first.size(), kMax);
  EXPECT_FALSE(d.unconsumed_tail().empty());
  total += first.size();
  std::string tail = d.unconsumed_tail();
  while (!d.eof()) {
    std::string out = d.decompress(tail, kMax);
    ASSERT_LE(out.size(), kMax);
    EXPECT_EQ(out.find_first_not_of('\0'), std::string::npos);
    total += out.size();
    tail = d.unconsumed_tail();
    ASSERT_LT(++calls, 10000u);
  }
  EXPECT_EQ(total, std::size_t{64} << 20);
  EXPECT_TRUE(d.unconsumed_tail().empty());
}

TEST(ZLibDecompressor, MaxLengthMatchesPython) {
  std::string plain = payload();
  std::string z = python(std::string(kWrite) + "zlib.compress(data))", plain);
  std::string py_first = python(std::string(kWrite) + "zlib.decompressobj().decompress(data, 1000))", z);
  std::string py_tail = python(
      "d = zlib.decompressobj(); d.decompress(data, 1000); sys.stdout.buffer.write(d.unconsumed_tail)", z);
  http::ZLibDecompressor d("deflate");
  EXPECT_EQ(d.decompress(z, 1000), py_first);
  EXPECT_EQ(d.unconsumed_tail(), py_tail);
  EXPECT_EQ(d.flush(), plain.substr(1000));
  EXPECT_TRUE(d.eof());
}

TEST(ZLibDecompressor, CorruptStreamIsContentEncodingError) {
  std::string gz = python(std::string(kWrite) + "gzip.compress(data))", payload());
  // A wrong CRC-32 in the trailer (a flipped bit in the middle may only read as a
  // stream that is not finished yet, which is not an error before the body ends).
  gz[gz.size() - 6] = static_cast<char>(gz[gz.size() - 6] ^ 1);
  http::ZLibDecompressor d("gzip");
  try {
    (void)decompress_all(d, gz, gz.size());
    FAIL() << "no error";
  } catch (const http::ContentEncodingError& e) {
    EXPECT_EQ(e.message(), "Can not decode content-encoding: gzip");
    EXPECT_EQ(e.code(), 400);
  }
  http::ZLibDecompressor n("gzip");
  EXPECT_THROW((void)n.decompress("not gzip at all"), http::ContentEncodingError);
  EXPECT_THROW((void)n.decompress("x"), http::ContentEncodingError);  // stays broken
  http::ZLibDecompressor z("deflate");
  // A zlib header, then a block of the reserved type 3.
  EXPECT_THROW((void)z.decompress(std::string("\x78\x9c\x07\xff\xff\xff", 6)), http::ContentEncodingError);
  http::ZLibDecompressor r("deflate");
  EXPECT_THROW((void)r.decompress(std::string("\x07\xff\xff\xff", 4)), http::ContentEncodingError);
}

TEST(ZLibDecompressor, TruncatedStreamIsNotEof) {
  std::string gz = python(std::string(kWrite) + "gzip.compress(data))", payload());
  http::ZLibDecompressor d("gzip");
  std::string out = d.decompress(gz.substr(0, gz.size() - 10));
  out += d.flush();
  EXPECT_FALSE(d.eof());
  EXPECT_EQ(out, payload().substr(0, out.size()));
}

TEST(ZLibDecompressor, UnsupportedEncodings) {
  for (const char* e : {"br", "compress", "identity", ""}) {
    try {
      http::ZLibDecompressor d(e);
      ADD_FAILURE() << e;
    } catch (const http::ContentEncodingError& err) {
      EXPECT_EQ(err.message(), std::string("Can not decode content-encoding: ") + e);
    }
  }
  EXPECT_THROW(http::ZLibCompressor("br"), http::ContentEncodingError);
  EXPECT_THROW(http::ZLibCompressor("gzip", 10), aio::ValueError);
}

TEST(ZLibCompressor, PythonDecompressesOurs) {
  std::string plain = payload();
  for (int level : {-1, 0, 1, 9}) {
    http::ZLibCompressor gz("gzip", level);
    std::string g;
    for (std::size_t i = 0; i < plain.size(); i += 1000) g += gz.compress(std::string_view(plain).substr(i, 1000));
    g += gz.flush();
    EXPECT_EQ(python(std::string(kWrite) + "gzip.decompress(data))", g), plain) << level;
    http::ZLibCompressor df("deflate", level);
    std::string z = df.compress(plain);
    z += df.flush();
    EXPECT_EQ(python(std::string(kWrite) + "zlib.decompress(data))", z), plain) << level;
  }
  http::ZLibCompressor c("gzip");
  (void)c.flush();
  EXPECT_THROW((void)c.compress("x"), aio::RuntimeError);
}

TEST(ZLibCompressor, SyncFlushMakesEverythingSoFarDecodable) {
  http::ZLibCompressor c("deflate", 6);
  http::ZLibDecompressor d("deflate");
  std::string part = c.compress("hello, ");
  part += c.flush(http::ZLibCompressor::Flush::sync);
  EXPECT_EQ(d.decompress(part), "hello, ");
  part = c.compress("world");
  part += c.flush(http::ZLibCompressor::Flush::full);
  EXPECT_EQ(d.decompress(part), "world");
  EXPECT_FALSE(d.eof());
  EXPECT_EQ(d.decompress(c.flush()), "");
  EXPECT_TRUE(d.eof());
}

TEST(ZLibCompressor, RoundTripBinary) {
  std::string bin;
  for (int i = 0; i < 300000; ++i) bin += static_cast<char>((i * 2654435761u) >> 13);
  http::ZLibCompressor c("gzip", 1);
  std::string gz = c.compress(bin);
  gz += c.flush();
  http::ZLibDecompressor d("gzip");
  EXPECT_EQ(all_of(d, gz), bin);
  EXPECT_TRUE(d.eof());
}
