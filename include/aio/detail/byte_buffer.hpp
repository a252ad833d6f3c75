// aio/detail/byte_buffer.hpp: a growable byte buffer with a consumed prefix, for the
// streams' read side. Unlike std::string, making room to read into does not zero it.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace aio::detail {

class ByteBuffer {
 public:
  /// The unread bytes.
  std::string_view view() const noexcept { return {data_.get() + begin_, end_ - begin_}; }
  std::size_t size() const noexcept { return end_ - begin_; }
  bool empty() const noexcept { return begin_ == end_; }

  /// Room for at least `n` more bytes at the end (moving the unread bytes to the
  /// front when that frees enough); returns where to write them.
  char* prepare(std::size_t n) {
    if (cap_ - end_ >= n) return data_.get() + end_;
    const std::size_t used = size();
    if (begin_ > 0 && cap_ - used >= n) {
      std::memmove(data_.get(), data_.get() + begin_, used);
    } else {
      std::size_t cap = cap_ == 0 ? 4096 : cap_;
      while (cap - used < n) cap *= 2;
      std::unique_ptr<char[]> grown(new char[cap]);
      if (used > 0) std::memcpy(grown.get(), data_.get() + begin_, used);
      data_ = std::move(grown);
      cap_ = cap;
    }
    begin_ = 0;
    end_ = used;
    return data_.get() + end_;
  }
  /// The first `n` bytes of the prepared room now hold data.
  void commit(std::size_t n) noexcept { end_ += n; }
  void append(std::string_view s) {
    if (s.empty()) return;
    std::memcpy(prepare(s.size()), s.data(), s.size());
    commit(s.size());
  }
  void consume(std::size_t n) noexcept {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  std::string take(std::size_t n) {
    std::string out(data_.get() + begin_, n);
    consume(n);
    return out;
  }
  /// Frees the storage when the buffer is empty and larger than `keep` bytes.
  void shrink_if_empty(std::size_t keep) noexcept {
    if (empty() && cap_ > keep) {
      data_.reset();
      cap_ = begin_ = end_ = 0;
    }
  }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t cap_ = 0;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace aio::detail
