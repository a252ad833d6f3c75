// libFuzzer target: a stream of responses as a client reads it, whole and cut at each
// position class; see fuzz_support.hpp. A leading "!" selects small limits; then an
// optional first line "@METHOD\n" names the request's method (GET when absent), so the
// HEAD and CONNECT rules are reached.
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  aio_fuzz::Config cfg;
  cfg.mode = aio_fuzz::Mode::response;
  std::string_view in = aio_fuzz::take_limits(std::string_view(reinterpret_cast<const char*>(data), size), cfg);
  if (!in.empty() && in.front() == '@') {
    const std::size_t nl = in.find('\n');
    if (nl == std::string_view::npos) return 0;
    cfg.method = std::string(in.substr(1, nl - 1));
    in.remove_prefix(nl + 1);
  }
  aio_fuzz::check_all(in, cfg);
  return 0;
}
