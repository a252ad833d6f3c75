// The read-buffer blocks' slow path: a new block when the thread's cache is empty,
// and the blocks a thread holds handed back when it exits. See
// aio/detail/byte_buffer.hpp.
#include "aio/detail/byte_buffer.hpp"

#include <cstring>

namespace aio::detail {
namespace {

struct ReadBlockFlusher {
  ~ReadBlockFlusher() {
    ReadBlockCache& c = tls_read_blocks;
    c.exited = true;
    while (c.count > 0) delete[] c.blocks[--c.count];
  }
};

thread_local ReadBlockFlusher tls_read_block_flusher;

}  // namespace

char* ByteBuffer::grow(std::size_t n) {
  const std::size_t used = size();
  if (begin_ > 0 && cap_ - used >= n) {
    std::memmove(data_, data_ + begin_, used);
  } else {
    std::size_t cap = cap_ == 0 ? 4096 : cap_;
    while (cap - used < n) cap *= 2;
    char* grown = new char[cap];
    if (used > 0) std::memcpy(grown, data_ + begin_, used);
    release();
    data_ = grown;
    cap_ = cap;
  }
  begin_ = 0;
  end_ = used;
  return data_ + end_;
}

char* new_read_block() { return new char[ReadBlockCache::kBlock]; }

void arm_read_block_cache() noexcept {
  (void)&tls_read_block_flusher;  // constructed now, destroyed when the thread exits
  tls_read_blocks.armed = true;
}

}  // namespace aio::detail
