// aio/detail/pool.hpp: the per-thread recycling allocator behind coroutine frames,
// task states and loop handles.
//
// Blocks up to 512 bytes come from per-thread free lists, one per 16-byte size class;
// an empty list is refilled by carving the block from the thread's current slab (a
// bump pointer: fresh memory is not touched before it is used). Freeing pushes the
// block on the freeing thread's list. A thread that exits hands its lists to a shared
// depot that other threads refill from, so memory migrates between threads but is
// never lost. The fast path is a TLS load, a pointer pop and a store: no lock, no
// system allocator. Slabs are 64 KiB at first; once a thread has taken 4 MiB they are
// 2 MiB regions the kernel may back with transparent huge pages, so a program with a
// million tasks does not take a page fault every 4 KiB.
//
// Under AddressSanitizer the pool steps aside and every block comes from operator new,
// so that use-after-free and leaks stay visible.
#pragma once

#include <cstddef>
#include <new>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define AIO_POOL_DISABLED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define AIO_POOL_DISABLED 1
#endif
#endif

namespace aio::detail {

inline constexpr std::size_t kPoolGranule = 16;
inline constexpr std::size_t kPoolClasses = 32;  // blocks up to 512 bytes
inline constexpr std::size_t kPoolMaxBlock = kPoolGranule * kPoolClasses;

struct PoolCache {
  void* free[kPoolClasses];
  char* bump;      // the unused part of the current slab
  char* bump_end;
  std::size_t slab_total;  // bytes of slabs this thread has taken
};

// Trivial and zero-initialised, so access needs no TLS guard.
inline thread_local PoolCache tls_pool_cache{};

void* pool_refill(std::size_t size_class);

inline void* pool_allocate(std::size_t n) {
#ifdef AIO_POOL_DISABLED
  return ::operator new(n);
#else
  if (n - 1 >= kPoolMaxBlock) return ::operator new(n);  // also catches n == 0
  const std::size_t c = (n - 1) / kPoolGranule;
  void* p = tls_pool_cache.free[c];
  if (p == nullptr) return pool_refill(c);
  tls_pool_cache.free[c] = *static_cast<void**>(p);
  return p;
#endif
}

inline void pool_deallocate(void* p, std::size_t n) noexcept {
#ifdef AIO_POOL_DISABLED
  (void)n;
  ::operator delete(p);
#else
  if (n - 1 >= kPoolMaxBlock) {
    (void)n;
  ::operator delete(p);
    return;
  }
  const std::size_t c = (n - 1) / kPoolGranule;
  *static_cast<void**>(p) = tls_pool_cache.free[c];
  tls_pool_cache.free[c] = p;
#endif
}

/// Bytes the pool has taken from the system allocator (slabs), for the benchmarks.
std::size_t pool_slab_bytes() noexcept;

/// Gives a class pool-backed operator new and delete.
struct PoolAllocated {
  static void* operator new(std::size_t n) { return pool_allocate(n); }
  static void operator delete(void* p, std::size_t n) noexcept { pool_deallocate(p, n); }
};

}  // namespace aio::detail
