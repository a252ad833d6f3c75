// repr() helpers: demangling, Python-style quoting, callback names.
#include "format.hpp"

#include <cxxabi.h>
#include <dlfcn.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <typeinfo>

#include "aio/detail/loop_item.hpp"
#include "aio/events.hpp"
#include "aio/futures.hpp"

namespace aio::detail {

std::string demangle(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> out(abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
  return status == 0 && out ? std::string(out.get()) : std::string(mangled);
}

std::string quote(const std::string& s) {
  const char q = (s.find('\'') != std::string::npos && s.find('"') == std::string::npos) ? '"' : '\'';
  std::string out(1, q);
  for (unsigned char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c == static_cast<unsigned char>(q)) {
          out += '\\';
          out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += q;
  return out;
}

void write_stderr(const std::string& text) noexcept {
  std::string line = text;
  line += '\n';
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) return;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

std::string callable_name(const std::type_info& type, const void* fn_ptr) {
  if (fn_ptr != nullptr) {
    Dl_info info{};
    if (::dladdr(fn_ptr, &info) != 0 && info.dli_sname != nullptr) {
      std::string name = demangle(info.dli_sname);
      if (auto paren = name.find('('); paren != std::string::npos) name.resize(paren);
      return name;
    }
  }
  std::string name = demangle(type.name());
  // aio's own callbacks read as asyncio's do: without the namespaces.
  for (const char* prefix : {"aio::detail::(anonymous namespace)::", "aio::detail::", "aio::"}) {
    if (name.rfind(prefix, 0) == 0) return name.substr(std::string(prefix).size());
  }
  return name;
}

std::string value_repr_string(const std::string& s) { return quote(s); }

std::string HandleBase::repr() const {
  std::string out = when_ns_ >= 0 ? "<TimerHandle " : "<Handle ";
  if (cancelled_) out += "cancelled ";
  if (when_ns_ >= 0) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "when=%.3f ", when());
    out += buf;
  }
  out += callback_name();
  out += "()>";
  return out;
}

void HandleBase::cancel() noexcept {
  if (cancelled_) return;
  cancelled_ = true;
  if (heap_loop_ != nullptr) heap_loop_->timer_cancelled();
}

}  // namespace aio::detail
