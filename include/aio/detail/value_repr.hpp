// aio/detail/value_repr.hpp: Python's repr() of a value, for the reprs that show one:
// a future's result (futures.hpp) and a context variable's default (contextvars.hpp).
#pragma once

#include <string>
#include <type_traits>
#include <typeinfo>
#include <variant>

#include "aio/detail/loop_item.hpp"  // callable_name

namespace aio::detail {

/// A string as Python's repr() quotes it (format.cpp).
std::string value_repr_string(const std::string& s);

/// True/False, a number, a quoted string, None (std::monostate, aio::None), or
/// "<TYPE object>".
template <class T>
std::string value_repr(const T& v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v ? "True" : "False";
  } else if constexpr (std::is_arithmetic_v<T>) {
    return std::to_string(v);
  } else if constexpr (std::is_convertible_v<const T&, std::string>) {
    return value_repr_string(std::string(v));
  } else if constexpr (std::is_same_v<T, std::monostate>) {
    return "None";
  } else {
    return "<" + callable_name(typeid(T), nullptr) + " object>";
  }
}

}  // namespace aio::detail
