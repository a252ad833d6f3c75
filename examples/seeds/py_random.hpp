// Python's `random` module, as far as the seeds use it: random.seed(int) and
// random.randint(a, b), giving the same numbers CPython gives for the same seed, so
// that a port prints what the Python original prints (seed 444 in rand.py and
// chained.py). The generator is MT19937 seeded with the reference init_by_array, and
// randint draws the way CPython's _randbelow does: getrandbits(k), rejecting values
// out of range.
#pragma once

#include <array>
#include <charconv>
#include <random>
#include <string>
#include <cstdint>
#include <vector>

class PyRandom {
 public:
  /// Seeded from the system's entropy, as an unseeded Python random is.
  PyRandom() { seed(std::random_device{}()); }
  explicit PyRandom(std::uint32_t seed) { this->seed(seed); }

  /// random.seed(n) for a non-negative n below 2**32 (one 32-bit key word).
  void seed(std::uint32_t n) { init_by_array({n}); }

  /// random.random(): a float in [0, 1) with 53 random bits, as CPython makes it.
  double random() {
    const std::uint32_t a = genrand_uint32() >> 5, b = genrand_uint32() >> 6;
    return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
  }

  /// Python's repr() of a float: the shortest string that reads back the same.
  static std::string repr(double x) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x);
    std::string s(buf, end);
    if (s.find_first_of(".en") == std::string::npos) s += ".0";
    return s;
  }

  /// random.randint(a, b): a uniform integer in [a, b].
  long randint(long a, long b) { return a + static_cast<long>(randbelow(static_cast<std::uint32_t>(b - a + 1))); }

 private:
  static constexpr int N = 624, M = 397;

  void init_genrand(std::uint32_t s) {
    mt_[0] = s;
    for (int i = 1; i < N; ++i) mt_[i] = 1812433253u * (mt_[i - 1] ^ (mt_[i - 1] >> 30)) + static_cast<std::uint32_t>(i);
    index_ = N;
  }

  void init_by_array(const std::vector<std::uint32_t>& key) {
    init_genrand(19650218u);
    int i = 1, j = 0;
    const int len = static_cast<int>(key.size());
    for (int k = (N > len ? N : len); k > 0; --k) {
      mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1664525u)) + key[static_cast<std::size_t>(j)] +
               static_cast<std::uint32_t>(j);
      ++i;
      ++j;
      if (i >= N) {
        mt_[0] = mt_[N - 1];
        i = 1;
      }
      if (j >= len) j = 0;
    }
    for (int k = N - 1; k > 0; --k) {
      mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1566083941u)) - static_cast<std::uint32_t>(i);
      ++i;
      if (i >= N) {
        mt_[0] = mt_[N - 1];
        i = 1;
      }
    }
    mt_[0] = 0x80000000u;
    index_ = N;
  }

  std::uint32_t genrand_uint32() {
    if (index_ >= N) {
      for (int k = 0; k < N; ++k) {
        const std::uint32_t y = (mt_[k] & 0x80000000u) | (mt_[(k + 1) % N] & 0x7fffffffu);
        mt_[k] = mt_[(k + M) % N] ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
      }
      index_ = 0;
    }
    std::uint32_t y = mt_[index_++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
  }

  std::uint32_t randbelow(std::uint32_t n) {
    int k = 0;
    for (std::uint32_t v = n; v != 0; v >>= 1) ++k;  // n.bit_length()
    std::uint32_t r = genrand_uint32() >> (32 - k);
    while (r >= n) r = genrand_uint32() >> (32 - k);
    return r;
  }

  std::array<std::uint32_t, N> mt_{};
  int index_ = N;
};
