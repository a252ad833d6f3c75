// aio/detail/io_event.hpp: one ready descriptor, as the platform's backend reports it
// to the loop (src/platform/backend.hpp).
#pragma once

namespace aio::detail {

struct IoEvent {
  int fd;
  bool readable;
  bool writable;
  bool hangup;  // the peer closed or reset, or an error is pending
};

}  // namespace aio::detail
