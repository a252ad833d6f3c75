// Base64 (RFC 4648, with padding) for the HTTP layer's headers: BasicAuth's
// Authorization, the WebSocket handshake's Sec-WebSocket-Key and -Accept. Not a public
// header.
#pragma once

#include <openssl/evp.h>

#include <string>
#include <string_view>

namespace aio::http::detail {

inline std::string base64_encode(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(in.data()),
                  static_cast<int>(in.size()));
  return out;
}

}  // namespace aio::http::detail
