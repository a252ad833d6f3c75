// libFuzzer target: a chunked body with trailers, decoded whole and cut at each
// position class; see fuzz_support.hpp. A leading "!" selects small limits.
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  aio_fuzz::Config cfg;
  cfg.mode = aio_fuzz::Mode::chunked;
  const std::string_view in =
      aio_fuzz::take_limits(std::string_view(reinterpret_cast<const char*>(data), size), cfg);
  aio_fuzz::check_all(in, cfg);
  return 0;
}
