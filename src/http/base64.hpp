// Base64 (RFC 4648, with padding) for the HTTP layer's headers: BasicAuth's
// Authorization, the WebSocket handshake's Sec-WebSocket-Key and -Accept. Not a public
// header.
#pragma once

#include <openssl/evp.h>

#include <optional>
#include <string>
#include <string_view>

namespace aio::http::detail {

inline std::string base64_encode(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(in.data()),
                  static_cast<int>(in.size()));
  return out;
}

/// Decodes base64, skipping the line breaks and blanks of MIME bodies (RFC 2045); the
/// padding is optional. nullopt for any other character or a lone last digit.
inline std::optional<std::string> base64_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size() / 4 * 3 + 3);
  unsigned acc = 0;
  int bits = 0, digits = 0;
  bool padded = false;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+') v = 62;
    else if (c == '/') v = 63;
    else if (c == '\r' || c == '\n' || c == ' ' || c == '\t') continue;
    else if (c == '=') {
      padded = true;
      continue;
    } else return std::nullopt;
    if (padded) return std::nullopt;  // a digit after the padding
    acc = ((acc << 6) | static_cast<unsigned>(v)) & 0xFFFFFFu;
    bits += 6;
    ++digits;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  if (digits % 4 == 1) return std::nullopt;
  return out;
}

}  // namespace aio::http::detail
