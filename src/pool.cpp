// The slow path of the frame pool: carving from slabs, the shared depot, and the
// hand-over of a thread's free lists when it exits. See aio/detail/pool.hpp.
#include "aio/detail/pool.hpp"

#include <sys/mman.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <vector>

namespace aio::detail {
namespace {

constexpr std::size_t kSmallSlab = 64 * 1024;
constexpr std::size_t kHugeSlab = 2 * 1024 * 1024;
constexpr std::size_t kHugeAfter = 4 * 1024 * 1024;

std::atomic<std::size_t> g_slab_bytes{0};

// Free lists handed over by exited threads: whole chains, taken whole.
struct Depot {
  std::mutex mu;
  std::vector<void*> chains[kPoolClasses];
};

Depot& depot() {
  static Depot* d = new Depot;  // never destroyed: threads may exit after main's statics
  return *d;
}

struct ThreadFlusher {
  ~ThreadFlusher() {
    Depot& d = depot();
    std::lock_guard lock(d.mu);
    for (std::size_t c = 0; c < kPoolClasses; ++c) {
      if (tls_pool_cache.free[c] != nullptr) d.chains[c].push_back(tls_pool_cache.free[c]);
      tls_pool_cache.free[c] = nullptr;
    }
    tls_pool_cache.bump = tls_pool_cache.bump_end = nullptr;
  }
};

thread_local ThreadFlusher tls_flusher;

void new_slab(PoolCache& cache) {
  (void)&tls_flusher;  // make sure this thread hands its lists back when it exits
  char* slab = nullptr;
  std::size_t size = kSmallSlab;
  if (cache.slab_total >= kHugeAfter) {
    // 2 MiB aligned, so that the kernel can back it with one huge page.
    size = kHugeSlab;
    void* p = ::mmap(nullptr, 2 * kHugeSlab, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    char* raw = static_cast<char*>(p);
    char* aligned = reinterpret_cast<char*>((reinterpret_cast<std::uintptr_t>(raw) + kHugeSlab - 1) & ~(kHugeSlab - 1));
    if (aligned > raw) ::munmap(raw, static_cast<std::size_t>(aligned - raw));
    if (char* tail = aligned + kHugeSlab; tail < raw + 2 * kHugeSlab) {
      ::munmap(tail, static_cast<std::size_t>(raw + 2 * kHugeSlab - tail));
    }
    ::madvise(aligned, kHugeSlab, MADV_HUGEPAGE);
    slab = aligned;
  } else {
    slab = static_cast<char*>(::operator new(kSmallSlab, std::align_val_t{kPoolGranule}));
  }
  cache.slab_total += size;
  g_slab_bytes.fetch_add(size, std::memory_order_relaxed);
  cache.bump = slab;
  cache.bump_end = slab + size;
}

}  // namespace

void* pool_refill(std::size_t c) {
  PoolCache& cache = tls_pool_cache;
  const std::size_t block = (c + 1) * kPoolGranule;
  if (cache.bump == nullptr || static_cast<std::size_t>(cache.bump_end - cache.bump) < block) {
    Depot& d = depot();
    {
      std::lock_guard lock(d.mu);
      if (!d.chains[c].empty()) {
        void* p = d.chains[c].back();
        d.chains[c].pop_back();
        cache.free[c] = *static_cast<void**>(p);
        return p;
      }
    }
    new_slab(cache);
  }
  void* p = cache.bump;
  cache.bump += block;
  return p;
}

std::size_t pool_slab_bytes() noexcept { return g_slab_bytes.load(std::memory_order_relaxed); }

}  // namespace aio::detail
