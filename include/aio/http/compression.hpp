// aio/http/compression.hpp: zlib streams for Content-Encoding gzip and deflate, as
// aiohttp's compression_utils (ZLibDecompressor / ZLibCompressor).
//
// Both keep zlib's state behind a pointer, so this header does not include zlib.h.
// Errors are ContentEncodingError (aio/http/exceptions.hpp) naming the encoding.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace aio::http {

/// Raw deflate (RFC 1951: no zlib header or trailer), as WebSocket's
/// permessage-deflate sends it: aiohttp's suppress_deflate_header=True, Python zlib's
/// negative wbits. `wbits` is the window: 9 to 15 to deflate (zlib cannot deflate with 8),
/// 8 to 15 to inflate.
struct RawDeflate {
  int wbits = 15;
};

/// A streaming decoder of one response or request body.
///
/// "gzip" (and "x-gzip") is a gzip stream, concatenated members included. "deflate"
/// is a zlib-wrapped stream, or a raw deflate stream as some servers send: the first
/// two bytes decide, as aiohttp does. Any other encoding ("br", "compress") throws
/// ContentEncodingError at construction.
class ZLibDecompressor {
 public:
  explicit ZLibDecompressor(std::string_view encoding);
  /// A raw deflate stream with a window of up to `raw.wbits`, 8 to 15 (encoding() is
  /// "deflate").
  explicit ZLibDecompressor(RawDeflate raw);
  ~ZLibDecompressor();
  ZLibDecompressor(ZLibDecompressor&&) noexcept;
  ZLibDecompressor& operator=(ZLibDecompressor&&) noexcept;

  /// Decodes `chunk` and returns what it yields. With `max_length` > 0 it returns at
  /// most that many bytes, and the input it could not consume yet is unconsumed_tail():
  /// pass it (followed by new data) to the next call, as with Python's
  /// zlib.decompressobj. Bytes after the end of the stream are unused_data() (after a
  /// gzip member, another member is decoded instead). Throws ContentEncodingError for
  /// a corrupt stream.
  std::string decompress(std::string_view chunk, std::size_t max_length = 0);
  /// The output still held by zlib (none with unbounded calls); the body ended.
  std::string flush();
  /// The end of the (last) compressed stream was seen.
  bool eof() const noexcept;
  /// Starts a new stream. With `keep_window`, the output's last 32 KiB stay as the
  /// window the new stream may refer back to (a raw stream's preset dictionary), as
  /// permessage-deflate needs after a message that ends with a final block.
  void reset(bool keep_window = false);
  const std::string& unconsumed_tail() const noexcept;
  const std::string& unused_data() const noexcept;
  const std::string& encoding() const noexcept;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

/// A streaming encoder: "gzip" or "deflate" (zlib-wrapped) for responses, or raw
/// deflate for WebSocket messages.
class ZLibCompressor {
 public:
  /// How flush() ends its output (zlib's Z_SYNC_FLUSH, Z_FULL_FLUSH, Z_FINISH).
  enum class Flush { sync, full, finish };

  /// `level` 0..9, or -1 for zlib's default (6). Throws ContentEncodingError for
  /// another encoding, ValueError for a bad level.
  explicit ZLibCompressor(std::string_view encoding = "deflate", int level = -1);
  /// Raw deflate with a window of `raw.wbits` (ValueError outside 9..15).
  explicit ZLibCompressor(RawDeflate raw, int level = -1);
  ~ZLibCompressor();
  ZLibCompressor(ZLibCompressor&&) noexcept;
  ZLibCompressor& operator=(ZLibCompressor&&) noexcept;

  /// Compresses `data`; returns what zlib emits now (often nothing for small input).
  std::string compress(std::string_view data);
  /// compress(data) then flush(mode), in one pass over zlib (a WebSocket message).
  std::string compress(std::string_view data, Flush mode);
  /// Emits the pending output. After Flush::finish the stream is complete and further
  /// calls throw RuntimeError.
  std::string flush(Flush mode = Flush::finish);

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace aio::http
