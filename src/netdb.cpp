// getaddrinfo and getnameinfo on the default executor.
#include "aio/netdb.hpp"

#include <cerrno>
#include <cstring>
#include <memory>

#include "aio/events.hpp"
#include "aio/threads.hpp"

namespace aio {

namespace {

std::string host_port(const std::string& host, const std::string& port) {
  return "('" + host + "', " + (port.empty() ? std::string("None") : port) + ")";
}

}  // namespace

Coro<std::vector<AddrInfo>> getaddrinfo(std::string host, std::string port, int family, int type, int proto,
                                        int flags) {
  // A named callable: g++ 12 destroys a lambda temporary with captures inside a
  // co_await expression twice (the same family of bugs as PR 101367).
  auto resolve = [=] {
    addrinfo hints{};
    hints.ai_family = family;
    hints.ai_socktype = type;
    hints.ai_protocol = proto;
    hints.ai_flags = flags;
    addrinfo* res = nullptr;
    const int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.empty() ? nullptr : port.c_str(),
                                 &hints, &res);
    if (rc != 0) {
      const std::string why = rc == EAI_SYSTEM ? std::string(std::strerror(errno)) : ::gai_strerror(rc);
      throw gaierror(rc, "[Errno " + std::to_string(rc) + "] " + why + ": getaddrinfo " + host_port(host, port));
    }
    std::unique_ptr<addrinfo, void (*)(addrinfo*)> owned(res, ::freeaddrinfo);
    std::vector<AddrInfo> out;
    for (const addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
      out.push_back(AddrInfo{ai->ai_family, ai->ai_socktype, ai->ai_protocol,
                             ai->ai_canonname ? ai->ai_canonname : "", SockAddr::from(ai->ai_addr, ai->ai_addrlen)});
    }
    return out;
  };
  std::vector<AddrInfo> result = co_await get_running_loop().run_in_executor(nullptr, std::move(resolve));
  co_return result;
}

Coro<std::vector<AddrInfo>> getaddrinfo(std::string host, int port, int family, int type, int proto, int flags) {
  return getaddrinfo(std::move(host), std::to_string(port), family, type, proto, flags);
}

Coro<std::pair<std::string, std::string>> getnameinfo(SockAddr address, int flags) {
  auto lookup = [=] {
    char host[NI_MAXHOST];
    char serv[NI_MAXSERV];
    const int rc = ::getnameinfo(address.data(), address.size(), host, sizeof host, serv, sizeof serv, flags);
    if (rc != 0) {
      throw gaierror(rc, "[Errno " + std::to_string(rc) + "] " + ::gai_strerror(rc) + ": getnameinfo " + address.str());
    }
    return std::pair<std::string, std::string>(host, serv);
  };
  auto result = co_await get_running_loop().run_in_executor(nullptr, std::move(lookup));
  co_return result;
}

}  // namespace aio
