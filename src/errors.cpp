// Exception helpers: Python-style repr() and str() of any exception_ptr.
#include "aio/errors.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <typeinfo>

#include "format.hpp"

namespace aio {

ExceptionGroup::ExceptionGroup(std::string message, std::vector<std::exception_ptr> exceptions)
    : message_(std::move(message)), exceptions_(std::move(exceptions)) {
  const std::size_t n = exceptions_.size();
  what_ = message_ + " (" + std::to_string(n) + (n == 1 ? " sub-exception)" : " sub-exceptions)");
}

namespace {

struct Described {
  std::string type;
  std::string message;
  bool has_message = false;
};

Described describe(const std::exception_ptr& e) {
  Described d;
  try {
    std::rethrow_exception(e);
  } catch (const BaseException& x) {
    d.type = detail::demangle(typeid(x).name());
    d.message = x.message();
    d.has_message = !d.message.empty();
  } catch (const std::exception& x) {
    d.type = detail::demangle(typeid(x).name());
    d.message = x.what();
    d.has_message = !d.message.empty();
  } catch (...) {
    const std::type_info* t = abi::__cxa_current_exception_type();
    d.type = t ? detail::demangle(t->name()) : "unknown exception";
  }
  return d;
}

}  // namespace

std::string exception_repr(const std::exception_ptr& e) {
  if (!e) return "None";
  Described d = describe(e);
  if (!d.has_message) return d.type + "()";
  return d.type + "(" + detail::quote(d.message) + ")";
}

std::string exception_str(const std::exception_ptr& e) {
  if (!e) return "None";
  Described d = describe(e);
  return d.has_message ? d.type + ": " + d.message : d.type;
}

std::string exception_type_name(const std::exception_ptr& e) { return e ? describe(e).type : "None"; }

bool is_cancelled_error(const std::exception_ptr& e) noexcept {
  if (!e) return false;
  try {
    std::rethrow_exception(e);
  } catch (const CancelledError&) {
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace aio
