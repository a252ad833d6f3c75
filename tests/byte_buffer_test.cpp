// The streams' read buffer (aio/detail/byte_buffer.hpp): storage given back when the
// buffer is read to empty, through the per-thread cache of 64 KiB blocks.
#include <malloc.h>

#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "aio/detail/byte_buffer.hpp"

namespace {

using aio::detail::ByteBuffer;
using aio::detail::cached_read_blocks;
using aio::detail::ReadBlockCache;

void fill(ByteBuffer& b, std::string_view s) {
  std::memcpy(b.prepare(ReadBlockCache::kBlock), s.data(), s.size());
  b.commit(s.size());
}

TEST(ByteBuffer, ABufferReadToEmptyHoldsNoStorage) {
  ByteBuffer b;
  EXPECT_EQ(b.capacity(), 0u);
  fill(b, "hello world");
  EXPECT_EQ(b.capacity(), ReadBlockCache::kBlock);
  b.consume(6);
  EXPECT_EQ(b.view(), "world");
  EXPECT_EQ(b.capacity(), ReadBlockCache::kBlock);  // bytes left: the block stays
  EXPECT_EQ(b.take(5), "world");
  EXPECT_EQ(b.capacity(), 0u);
  EXPECT_TRUE(b.empty());
  fill(b, "again");  // and it takes a block again
  EXPECT_EQ(b.take(5), "again");
}

TEST(ByteBuffer, TheNextBufferReadsIntoTheBlockReleasedLast) {
  const int before = cached_read_blocks();
  ByteBuffer a;
  ByteBuffer b;
  fill(a, "one");
  const char* block = a.view().data();
  a.consume(3);
#ifdef AIO_POOL_DISABLED
  // Under the sanitizers every block is freed and new, so that a stale view is caught.
  EXPECT_EQ(cached_read_blocks(), before);
  (void)block;
#else
  EXPECT_EQ(cached_read_blocks(), before + 1);
  fill(b, "two");
  EXPECT_EQ(b.view().data(), block);  // the same memory, still in the cache
  EXPECT_EQ(cached_read_blocks(), before);
#endif
}

TEST(ByteBuffer, TheCacheKeepsAFewBlocksAndFreesTheRest) {
  std::vector<ByteBuffer> buffers(3 * ReadBlockCache::kKeep);
  for (ByteBuffer& b : buffers) fill(b, "x");
  for (ByteBuffer& b : buffers) b.consume(1);
  EXPECT_LE(cached_read_blocks(), ReadBlockCache::kKeep);
  for (const ByteBuffer& b : buffers) EXPECT_EQ(b.capacity(), 0u);
}

TEST(ByteBuffer, ABufferGrownPastTheBlockSizeFreesItsStorageWhenEmptied) {
  ByteBuffer b;
  const std::string big(3 * ReadBlockCache::kBlock, 'z');
  std::memcpy(b.prepare(big.size()), big.data(), big.size());
  b.commit(big.size());
  EXPECT_GE(b.capacity(), big.size());
  const int before = cached_read_blocks();
  EXPECT_EQ(b.take(big.size()), big);
  EXPECT_EQ(b.capacity(), 0u);
  EXPECT_EQ(cached_read_blocks(), before);  // not a block of the cached size
}

TEST(ByteBuffer, AThreadsCachedBlocksAreFreedWhenItExits) {
  std::thread([] {  // warm the allocator's arena for this kind of thread
    ByteBuffer b;
    fill(b, "x");
  }).join();
  const std::size_t before = mallinfo2().uordblks;
  int cached_in_thread = -1;
  std::thread([&] {
    std::vector<ByteBuffer> buffers(ReadBlockCache::kKeep);
    for (ByteBuffer& b : buffers) fill(b, "x");
    for (ByteBuffer& b : buffers) b.consume(1);
    cached_in_thread = cached_read_blocks();
  }).join();
#ifdef AIO_POOL_DISABLED
  EXPECT_EQ(cached_in_thread, 0);
#else
  EXPECT_EQ(cached_in_thread, ReadBlockCache::kKeep);
#endif
  // Whatever the thread cached is back with the allocator (a block's worth of slack).
  EXPECT_LT(mallinfo2().uordblks, before + ReadBlockCache::kBlock);
}

}  // namespace
