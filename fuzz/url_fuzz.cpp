// libFuzzer target for aio::http::URL: any input parses or throws InvalidURL; a parsed
// URL's str() parses again to the same string; joining never crashes and yields a URL
// whose str() is stable too; quote/unquote round-trip.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "aio/http/exceptions.hpp"
#include "aio/http/url.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

void check_stable(const aio::http::URL& u) {
  std::string s = u.str();
  aio::http::URL again(s);  // must not throw: str() is always valid
  check(again.str() == s);
  check(again == aio::http::URL(again.str()));
  (void)u.human_repr();
  (void)u.path();
  (void)u.query();
  (void)u.parts();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // The input is a base and a reference separated by the first newline (when there is one).
  auto nl = in.find('\n');
  std::string_view first = in.substr(0, nl), second = nl == std::string_view::npos ? in : in.substr(nl + 1);
  std::optional<aio::http::URL> base, ref;
  try {
    base.emplace(first);
  } catch (const aio::http::InvalidURL&) {
  }
  try {
    ref.emplace(second);
  } catch (const aio::http::InvalidURL&) {
  }
  if (base) check_stable(*base);
  if (ref) check_stable(*ref);
  if (base && ref) check_stable(base->join(*ref));
  std::string q = aio::http::quote(in, "");
  check(aio::http::unquote(q) == in);
  check(aio::http::unquote_plus(aio::http::quote_plus(in)) == in);
  (void)aio::http::parse_qsl(in, true);
  return 0;
}
