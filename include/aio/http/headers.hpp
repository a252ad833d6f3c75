// aio/http/headers.hpp: multidict's MultiDict and CIMultiDict, the containers aiohttp
// keeps headers, queries, forms and cookies in.
//
// Several values per key, in insertion order. HTTP messages carry a few dozen fields,
// so the items are one vector of pairs searched linearly: no hashing, no node per item,
// and lookups take a std::string_view and allocate nothing.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aio::http {

/// ASCII case-insensitive equality (HTTP field names; no locale).
constexpr bool ascii_iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + ('a' - 'A'));
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + ('a' - 'A'));
    if (x != y) return false;
  }
  return true;
}

namespace detail {
/// RFC 9110's tchar: what a method, a field name and a parameter name are made of.
constexpr bool is_tchar(char c) noexcept {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}
/// A non-empty run of tchar.
constexpr bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_tchar(c)) return false;
  return true;
}

struct CaseSensitive {
  static constexpr bool equal(std::string_view a, std::string_view b) noexcept { return a == b; }
};
struct CaseInsensitive {
  static constexpr bool equal(std::string_view a, std::string_view b) noexcept {
    return ascii_iequals(a, b);
  }
};
}  // namespace detail

/// multidict.MultiDict (KeyEq = detail::CaseSensitive) and CIMultiDict
/// (detail::CaseInsensitive). Keys keep the case they were added with; a
/// case-insensitive dict only compares them without case.
///
/// Iteration yields `const std::pair<std::string, std::string>&` in insertion order.
/// getone()/operator[] on a missing key throw std::out_of_range whose what() is Python's
/// KeyError text, the key's repr: `'Content-Type'`. References and views returned by
/// lookups live until the dict is next modified.
template <class KeyEq>
class BasicMultiDict {
 public:
  using value_type = std::pair<std::string, std::string>;
  using const_iterator = typename std::vector<value_type>::const_iterator;
  using iterator = const_iterator;

  BasicMultiDict() = default;
  BasicMultiDict(std::initializer_list<std::pair<std::string_view, std::string_view>> items) {
    items_.reserve(items.size());
    for (const auto& [k, v] : items) items_.emplace_back(std::string(k), std::string(v));
  }
  explicit BasicMultiDict(std::vector<value_type> items) : items_(std::move(items)) {}
  /// From a dict of the other case rule (MultiDict(CIMultiDict(...)) in Python).
  template <class Other>
    requires(!std::same_as<Other, KeyEq>)
  explicit BasicMultiDict(const BasicMultiDict<Other>& other) : items_(other.items()) {}

  /// Appends an item, keeping the key's other values (d.add(k, v)).
  template <class K, class V>
    requires std::constructible_from<std::string, K&&> && std::constructible_from<std::string, V&&>
  void add(K&& key, V&& value) {
    items_.emplace_back(std::string(std::forward<K>(key)), std::string(std::forward<V>(value)));
  }

  /// d[k] = v: the key's first item takes the value (and keeps its place and spelling),
  /// the key's other items go; appended when the key is missing.
  template <class K, class V>
    requires std::constructible_from<std::string, K&&> && std::constructible_from<std::string, V&&>
  void set(K&& key, V&& value) {
    std::string_view k(key);
    auto it = find(k);
    if (it == items_.end()) {
      add(std::forward<K>(key), std::forward<V>(value));
      return;
    }
    it->second = std::string(std::forward<V>(value));
    auto first = it - items_.begin();
    items_.erase(std::remove_if(items_.begin() + first + 1, items_.end(),
                                [k](const value_type& p) { return KeyEq::equal(p.first, k); }),
                 items_.end());
  }

  /// d.setdefault(k, v): the key's first value, after adding `value` when missing.
  const std::string& setdefault(std::string_view key, std::string_view value = {}) {
    auto it = find(key);
    if (it != items_.end()) return it->second;
    items_.emplace_back(std::string(key), std::string(value));
    return items_.back().second;
  }

  /// The first value of `key`, or nullopt (d.get(k)).
  std::optional<std::string_view> get(std::string_view key) const noexcept {
    auto it = find(key);
    if (it == items_.end()) return std::nullopt;
    return std::string_view(it->second);
  }
  /// The first value of `key`, or `default_value` (d.get(k, default)).
  std::string_view get(std::string_view key, std::string_view default_value) const noexcept {
    auto it = find(key);
    return it == items_.end() ? default_value : std::string_view(it->second);
  }
  /// The first value of `key`; throws std::out_of_range('key') when missing.
  const std::string& getone(std::string_view key) const {
    auto it = find(key);
    if (it == items_.end()) throw std::out_of_range(key_repr(key));
    return it->second;
  }
  const std::string& operator[](std::string_view key) const { return getone(key); }
  /// Every value of `key` in order; empty when missing (multidict's getall(k, [])).
  std::vector<std::string_view> getall(std::string_view key) const {
    std::vector<std::string_view> out;
    for (const auto& p : items_)
      if (KeyEq::equal(p.first, key)) out.emplace_back(p.second);
    return out;
  }
  bool contains(std::string_view key) const noexcept { return find(key) != items_.end(); }
  std::size_t count(std::string_view key) const noexcept {
    return static_cast<std::size_t>(std::count_if(
        items_.begin(), items_.end(), [key](const value_type& p) { return KeyEq::equal(p.first, key); }));
  }

  /// Removes every item of `key` and returns how many there were (del d[k] without the
  /// KeyError: 0 means it was missing).
  std::size_t erase(std::string_view key) noexcept {
    auto end = std::remove_if(items_.begin(), items_.end(),
                              [key](const value_type& p) { return KeyEq::equal(p.first, key); });
    auto n = static_cast<std::size_t>(items_.end() - end);
    items_.erase(end, items_.end());
    return n;
  }
  /// Removes and returns the key's first value (d.popone(k, None)).
  std::optional<std::string> popone(std::string_view key) {
    auto it = find(key);
    if (it == items_.end()) return std::nullopt;
    std::string v = std::move(it->second);
    items_.erase(it);
    return v;
  }
  /// d.extend(other): appends all of other's items.
  template <class Other>
  void extend(const BasicMultiDict<Other>& other) {
    items_.insert(items_.end(), other.begin(), other.end());
  }
  /// d.update(other): each key of `other` replaces the key's items here, in place and
  /// in order (key spelling included); extra new items are appended, extra old ones go.
  template <class Other>
  void update(const BasicMultiDict<Other>& other) {
    std::vector<bool> done(other.size(), false);
    for (std::size_t i = 0; i < other.size(); ++i) {
      if (done[i]) continue;
      std::string_view key = other.items()[i].first;
      std::size_t next = i;  // the next item of `key` in `other` to place
      auto take = [&]() -> const value_type* {
        while (next < other.size() && !(KeyEq::equal(other.items()[next].first, key) && !done[next])) ++next;
        if (next == other.size()) return nullptr;
        done[next] = true;
        return &other.items()[next++];
      };
      for (std::size_t j = 0; j < items_.size();) {
        if (!KeyEq::equal(items_[j].first, key)) {
          ++j;
          continue;
        }
        if (const value_type* p = take()) {
          items_[j] = *p;
          ++j;
        } else {
          items_.erase(items_.begin() + static_cast<std::ptrdiff_t>(j));
        }
      }
      while (const value_type* p = take()) items_.push_back(*p);
    }
  }

  std::size_t size() const noexcept { return items_.size(); }
  bool empty() const noexcept { return items_.empty(); }
  void clear() noexcept { items_.clear(); }
  void reserve(std::size_t n) { items_.reserve(n); }
  const_iterator begin() const noexcept { return items_.begin(); }
  const_iterator end() const noexcept { return items_.end(); }
  /// The items in order (d.items()).
  const std::vector<value_type>& items() const noexcept { return items_; }
  /// The keys in order, a key once per item (d.keys()).
  std::vector<std::string_view> keys() const {
    std::vector<std::string_view> out;
    out.reserve(items_.size());
    for (const auto& p : items_) out.emplace_back(p.first);
    return out;
  }

  /// Same items in the same order, keys compared by the dict's rule (multidict's ==).
  friend bool operator==(const BasicMultiDict& a, const BasicMultiDict& b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!KeyEq::equal(a.items_[i].first, b.items_[i].first) || a.items_[i].second != b.items_[i].second)
        return false;
    return true;
  }

 private:
  typename std::vector<value_type>::iterator find(std::string_view key) noexcept {
    return std::find_if(items_.begin(), items_.end(),
                        [key](const value_type& p) { return KeyEq::equal(p.first, key); });
  }
  const_iterator find(std::string_view key) const noexcept {
    return std::find_if(items_.begin(), items_.end(),
                        [key](const value_type& p) { return KeyEq::equal(p.first, key); });
  }
  static std::string key_repr(std::string_view key) {
    std::string r = "'";
    r.append(key);
    r += '\'';
    return r;
  }

  std::vector<value_type> items_;
};

/// multidict.MultiDict: case-sensitive keys (queries, forms, cookies).
using MultiDict = BasicMultiDict<detail::CaseSensitive>;
/// multidict.CIMultiDict: ASCII case-insensitive keys (HTTP headers).
using CIMultiDict = BasicMultiDict<detail::CaseInsensitive>;
/// What requests and responses carry their header fields in.
using Headers = CIMultiDict;

}  // namespace aio::http
