// The slow path of the frame pool: slabs, the shared depot, and the hand-over of a
// thread's free lists when it exits. See aio/detail/pool.hpp.
#include "aio/detail/pool.hpp"

#include <atomic>
#include <cstdlib>
#include <mutex>

namespace aio::detail {
namespace {

constexpr std::size_t kSlabBytes = 64 * 1024;

std::atomic<std::size_t> g_slab_bytes{0};

struct Depot {
  std::mutex mu;
  void* free[kPoolClasses] = {};
};

Depot& depot() {
  static Depot* d = new Depot;  // never destroyed: threads may exit after main's statics
  return *d;
}

// Hands this thread's cached blocks to the depot when the thread exits.
struct ThreadFlusher {
  ~ThreadFlusher() {
    Depot& d = depot();
    std::lock_guard lock(d.mu);
    for (std::size_t c = 0; c < kPoolClasses; ++c) {
      void* head = tls_pool_cache.free[c];
      if (head == nullptr) continue;
      void* tail = head;
      while (*static_cast<void**>(tail) != nullptr) tail = *static_cast<void**>(tail);
      *static_cast<void**>(tail) = d.free[c];
      d.free[c] = head;
      tls_pool_cache.free[c] = nullptr;
    }
  }
};

thread_local ThreadFlusher tls_flusher;

}  // namespace

void* pool_refill(std::size_t c) {
  (void)&tls_flusher;  // make sure this thread hands its lists back when it exits
  const std::size_t block = (c + 1) * kPoolGranule;
  {
    Depot& d = depot();
    std::lock_guard lock(d.mu);
    if (d.free[c] != nullptr) {
      void* p = d.free[c];
      d.free[c] = nullptr;
      tls_pool_cache.free[c] = *static_cast<void**>(p);
      return p;
    }
  }
  // Carve a new slab into blocks of this class; the first is returned.
  char* slab = static_cast<char*>(::operator new(kSlabBytes, std::align_val_t{kPoolGranule}));
  g_slab_bytes.fetch_add(kSlabBytes, std::memory_order_relaxed);
  const std::size_t n = kSlabBytes / block;
  void* head = nullptr;
  for (std::size_t i = n; i-- > 1;) {
    void* b = slab + i * block;
    *static_cast<void**>(b) = head;
    head = b;
  }
  tls_pool_cache.free[c] = head;
  return slab;
}

std::size_t pool_slab_bytes() noexcept { return g_slab_bytes.load(std::memory_order_relaxed); }

}  // namespace aio::detail
