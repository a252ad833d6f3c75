// aio/detail/byte_buffer.hpp: a growable byte buffer with a consumed prefix, for the
// streams' read side. Unlike std::string, making room to read into does not zero it.
//
// A buffer that is read to empty gives its storage back: blocks of the standard size
// (64 KiB, the room a stream reads into) go to a small per-thread cache, last in first
// out, and the next buffer that needs room takes the block released last. So an idle
// connection holds no read buffer (ten thousand idle keep-alive connections held
// 640 MiB before), and connections served one after another read into the same block,
// still in the CPU's cache, as a hand-written loop reads into one static buffer.
#pragma once

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

#include "aio/detail/pool.hpp"  // AIO_POOL_DISABLED

namespace aio::detail {

/// The per-thread cache of read-buffer blocks behind ByteBuffer.
struct ReadBlockCache {
  static constexpr std::size_t kBlock = 64 * 1024;  // the size cached
  static constexpr int kKeep = 8;                   // blocks kept per thread (512 KiB)
  char* blocks[kKeep];
  int count;
  bool armed;   // the thread's exit will free what is cached
  bool exited;  // past that point: nothing is cached any more
};
// Trivial and zero-initialised, so access needs no TLS guard; a thread hands its
// blocks back to the system when it exits (byte_buffer.cpp).
inline thread_local ReadBlockCache tls_read_blocks{};

/// A new block, when the cache is empty (byte_buffer.cpp).
char* new_read_block();
/// Makes the thread's exit free its cached blocks (byte_buffer.cpp).
void arm_read_block_cache() noexcept;
/// A block of ReadBlockCache::kBlock bytes: the one released last, or a new one.
inline char* take_read_block() {
#ifndef AIO_POOL_DISABLED
  ReadBlockCache& c = tls_read_blocks;
  if (c.count > 0) return c.blocks[--c.count];
#endif
  return new_read_block();
}
/// Gives a block of ReadBlockCache::kBlock bytes back (freed when the cache is full).
inline void give_read_block(char* p) noexcept {
#ifdef AIO_POOL_DISABLED
  delete[] p;  // under the sanitizers every block is new, so a stale view is caught
#else
  ReadBlockCache& c = tls_read_blocks;
  if (c.count < ReadBlockCache::kKeep && !c.exited) {
    if (!c.armed) arm_read_block_cache();
    c.blocks[c.count++] = p;
  } else {
    delete[] p;
  }
#endif
}

/// Blocks the calling thread's cache holds (for the tests).
inline int cached_read_blocks() noexcept { return tls_read_blocks.count; }

class ByteBuffer {
 public:
  ByteBuffer() = default;
  ByteBuffer(const ByteBuffer&) = delete;
  ByteBuffer& operator=(const ByteBuffer&) = delete;
  ~ByteBuffer() { release(); }

  /// The unread bytes.
  std::string_view view() const noexcept { return {data_ + begin_, end_ - begin_}; }
  std::size_t size() const noexcept { return end_ - begin_; }
  bool empty() const noexcept { return begin_ == end_; }
  /// The bytes of storage held (0 when empty).
  std::size_t capacity() const noexcept { return cap_; }

  /// Room for at least `n` more bytes at the end (moving the unread bytes to the
  /// front when that frees enough); returns where to write them.
  char* prepare(std::size_t n) {
    if (cap_ - end_ >= n) return data_ + end_;
    if (cap_ == 0 && n <= ReadBlockCache::kBlock) {
      data_ = take_read_block();
      cap_ = ReadBlockCache::kBlock;
      return data_;
    }
    return grow(n);
  }
  /// The first `n` bytes of the prepared room now hold data.
  void commit(std::size_t n) noexcept { end_ += n; }
  void append(std::string_view s) {
    if (s.empty()) return;
    std::memcpy(prepare(s.size()), s.data(), s.size());
    commit(s.size());
  }
  /// Drops the first `n` bytes; a buffer left empty gives its storage back, so views
  /// of it end here.
  void consume(std::size_t n) noexcept {
    begin_ += n;
    if (begin_ == end_) release();
  }
  std::string take(std::size_t n) {
    std::string out(data_ + begin_, n);
    consume(n);
    return out;
  }

 private:
  char* grow(std::size_t n);  // byte_buffer.cpp
  void release() noexcept {
    begin_ = end_ = 0;
    if (data_ == nullptr) return;
    if (cap_ == ReadBlockCache::kBlock) {
      give_read_block(data_);
    } else {
      delete[] data_;
    }
    data_ = nullptr;
    cap_ = 0;
  }

  char* data_ = nullptr;
  std::size_t cap_ = 0;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace aio::detail
