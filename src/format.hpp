// Internal formatting helpers shared by the repr() functions.
#pragma once

#include <string>

namespace aio::detail {

/// The demangled form of a mangled type name.
std::string demangle(const char* mangled);
/// Python's repr() of a str: 'text' with quotes and escapes.
std::string quote(const std::string& s);
/// Writes one message, followed by a newline, to stderr in a single write.
void write_stderr(const std::string& text) noexcept;

}  // namespace aio::detail
