// The frame pool (aio/detail/pool.hpp): alignment, recycling, big populations,
// blocks freed on another thread. Under AddressSanitizer the pool steps aside (every
// block comes from operator new) and the tests check that instead.
#include <cstdint>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include "support/aio_test.hpp"

namespace aio::detail {
namespace {

TEST(Pool, BlocksAreSixteenByteAlignedAndDistinct) {
  std::vector<std::pair<void*, std::size_t>> blocks;
  std::set<std::uintptr_t> seen;
  for (std::size_t n = 1; n <= 600; n += 7) {
    void* p = pool_allocate(n);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 16, 0u) << n;
    std::memset(p, 0xab, n);  // the whole block is usable
    EXPECT_TRUE(seen.insert(reinterpret_cast<std::uintptr_t>(p)).second);
    blocks.emplace_back(p, n);
  }
  for (auto [p, n] : blocks) pool_deallocate(p, n);
}

TEST(Pool, AFreedBlockIsReusedForTheSameSizeClass) {
  void* a = pool_allocate(100);
  pool_deallocate(a, 100);
  void* b = pool_allocate(97);  // same 16-byte class (97..112)
#ifdef AIO_POOL_DISABLED
  SUCCEED() << "AddressSanitizer build: operator new decides";
  EXPECT_EQ(pool_slab_bytes(), 0u);
#else
  EXPECT_EQ(a, b);
  EXPECT_GT(pool_slab_bytes(), 0u);
#endif
  pool_deallocate(b, 97);
}

TEST(Pool, ALargePopulationMovesToBigSlabs) {
  // 200,000 blocks of 128 bytes: 25 MiB, past the 4 MiB where slabs become 2 MiB.
  const std::size_t before = pool_slab_bytes();
  std::vector<void*> blocks(200000);
  for (void*& p : blocks) {
    p = pool_allocate(128);
    *static_cast<char*>(p) = 1;
  }
#ifndef AIO_POOL_DISABLED
  EXPECT_GE(pool_slab_bytes() - before, 200000u * 128u);
#else
  EXPECT_EQ(pool_slab_bytes(), before);
#endif
  for (void* p : blocks) pool_deallocate(p, 128);
}

TEST(Pool, BlocksFreedOnAnotherThreadAreFine) {
  std::vector<void*> blocks(1000);
  for (void*& p : blocks) p = pool_allocate(48);
  std::thread t([&] {
    for (void* p : blocks) pool_deallocate(p, 48);
    // This thread's lists go to the shared depot when it exits.
  });
  t.join();
  std::thread u([] {
    std::vector<void*> mine(1000);
    for (void*& p : mine) p = pool_allocate(48);  // may come from the depot
    for (void* p : mine) pool_deallocate(p, 48);
  });
  u.join();
  SUCCEED();
}

TEST(Pool, CoroutineFramesAndTasksUseIt) {
  // 100,000 short tasks, one after another, reuse the same few blocks: the slabs
  // taken stay small (under ASan the pool is off and takes nothing).
  const std::size_t before = pool_slab_bytes();
  auto main_ = []() -> Coro<long> {
    long sum = 0;
    for (int i = 0; i < 100000; ++i) sum += co_await create_task([](int v) -> Coro<int> { co_return v; }(1));
    co_return sum;
  };
  EXPECT_EQ(test::run_virtual(main_()), 100000);
  EXPECT_LT(pool_slab_bytes() - before, 1u << 20);
}

}  // namespace
}  // namespace aio::detail
