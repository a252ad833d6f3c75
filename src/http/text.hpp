// Small text helpers the HTTP layer shares: ASCII case and blanks (no locale), and
// Latin-1 to UTF-8. Not a public header.
#pragma once

#include <string>
#include <string_view>

namespace aio::http::detail {

/// `s` with ASCII A-Z in lower case.
inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
  return out;
}

/// `s` without the spaces and tabs around it (HTTP's OWS).
constexpr std::string_view trim_blanks(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/// ISO-8859-1 bytes as UTF-8.
inline std::string latin1_to_utf8(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (unsigned char c : in) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

}  // namespace aio::http::detail
