// aio/netdb.hpp: name resolution as coroutines (asyncio's loop.getaddrinfo and
// loop.getnameinfo). The C library's resolver runs on the loop's default executor, as
// asyncio does, so /etc/hosts and nsswitch are honoured.
#pragma once

#include <netdb.h>
#include <sys/socket.h>

#include <string>
#include <utility>
#include <vector>

#include "aio/coro.hpp"
#include "aio/errors.hpp"
#include "aio/socket.hpp"

namespace aio {

/// One result of getaddrinfo: (family, type, proto, canonname, sockaddr).
struct AddrInfo {
  int family = 0;
  int type = 0;
  int proto = 0;
  std::string canonname;
  SockAddr address;
};

/// A resolver failure (Python's socket.gaierror): what() names the host and port,
/// code() is the EAI_* value.
class gaierror : public OSError {
 public:
  gaierror(int eai, const std::string& what) : OSError(eai, what), eai_(eai) {}
  int eai() const noexcept { return eai_; }

 private:
  int eai_;
};

/// Resolves host and port (a number or a service name; empty: none).
Coro<std::vector<AddrInfo>> getaddrinfo(std::string host, std::string port, int family = AF_UNSPEC,
                                        int type = 0, int proto = 0, int flags = 0);
Coro<std::vector<AddrInfo>> getaddrinfo(std::string host, int port, int family = AF_UNSPEC, int type = 0,
                                        int proto = 0, int flags = 0);
/// (host, service) for an address.
Coro<std::pair<std::string, std::string>> getnameinfo(SockAddr address, int flags = 0);

}  // namespace aio
