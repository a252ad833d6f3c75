// aio/errors.hpp: every exception aio raises, mirroring asyncio.exceptions.
//
// The hierarchy follows Python's: CancelledError and KeyboardInterrupt derive from
// BaseException, not from Exception, so they do not derive from std::exception here
// either and `catch (const std::exception&)` cannot swallow a cancellation.
#pragma once

#include <exception>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace aio {

/// The root of the exceptions that are not errors (Python's BaseException).
class BaseException {
 public:
  BaseException() = default;
  explicit BaseException(std::string msg) : msg_(std::move(msg)) {}
  virtual ~BaseException() = default;
  BaseException(const BaseException&) = default;
  BaseException& operator=(const BaseException&) = default;

  const std::string& message() const noexcept { return msg_; }
  virtual const char* what() const noexcept { return msg_.c_str(); }

 private:
  std::string msg_;
};

/// The operation was cancelled (asyncio.CancelledError). It carries the message given
/// to `cancel(msg)`, empty when none was.
class CancelledError : public BaseException {
 public:
  using BaseException::BaseException;
};

/// SIGINT ended `aio::run` (Python's KeyboardInterrupt). When nothing catches it the
/// process ends as Python's does: by SIGINT, exit status 130.
class KeyboardInterrupt : public BaseException {
 public:
  using BaseException::BaseException;
};

/// Raised by a synchronous generator's `next()` when it is exhausted.
class StopIteration : public BaseException {
 public:
  using BaseException::BaseException;
};

/// Thrown into a suspended async generator by aclose() (Python's GeneratorExit): the
/// generator runs its cleanup and must not yield again.
class GeneratorExit : public BaseException {
 public:
  using BaseException::BaseException;
};

/// anext() on an exhausted async generator (Python's StopAsyncIteration).
class StopAsyncIteration : public std::runtime_error {
 public:
  StopAsyncIteration() : std::runtime_error("") {}
};

/// A deadline passed (asyncio.TimeoutError, which is Python's TimeoutError).
class TimeoutError : public std::runtime_error {
 public:
  TimeoutError() : std::runtime_error("") {}
  explicit TimeoutError(const std::string& msg) : std::runtime_error(msg) {}
};

/// An operation is not allowed in the object's current state (asyncio.InvalidStateError).
class InvalidStateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Python's RuntimeError, raised where asyncio raises it (e.g. "no running event loop").
class RuntimeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Python's ValueError.
class ValueError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// Python's TypeError.
class TypeError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// A key or index is not there (Python's LookupError): ContextVar::get() of a variable
/// with no value and no default; the message is the variable's repr().
class LookupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A mapping has no such key (Python's KeyError): Context[var] of a variable the
/// context holds no value for.
class KeyError : public LookupError {
 public:
  using LookupError::LookupError;
};

/// get_nowait() on an empty queue (asyncio.QueueEmpty).
class QueueEmpty : public std::runtime_error {
 public:
  QueueEmpty() : std::runtime_error("") {}
};

/// put_nowait() on a full queue (asyncio.QueueFull).
class QueueFull : public std::runtime_error {
 public:
  QueueFull() : std::runtime_error("") {}
};

/// put() or get() on a queue that was shut down (asyncio.QueueShutDown, Python 3.13).
class QueueShutDown : public std::runtime_error {
 public:
  QueueShutDown() : std::runtime_error("") {}
};

/// A Barrier was aborted or reset while tasks waited on it (asyncio.BrokenBarrierError).
class BrokenBarrierError : public RuntimeError {
 public:
  using RuntimeError::RuntimeError;
};

/// An operating-system failure (Python's OSError): a std::system_error carrying the
/// errno, whose what() names the address, path or command involved:
/// "[Errno 111] Connect call failed ('127.0.0.1', 8888): Connection refused".
class OSError : public std::system_error {
 public:
  OSError(int err, const std::string& what) : std::system_error(err, std::generic_category(), what) {}
  int errno_() const noexcept { return code().value(); }
};
class ConnectionError : public OSError {
 public:
  using OSError::OSError;
};
class ConnectionRefusedError : public ConnectionError {
 public:
  using ConnectionError::ConnectionError;
};
class ConnectionResetError : public ConnectionError {
 public:
  using ConnectionError::ConnectionError;
};
class ConnectionAbortedError : public ConnectionError {
 public:
  using ConnectionError::ConnectionError;
};
class BrokenPipeError : public ConnectionError {
 public:
  using ConnectionError::ConnectionError;
};

/// A file or program does not exist (ENOENT; Python's FileNotFoundError).
class FileNotFoundError : public OSError {
 public:
  using OSError::OSError;
};
/// Not allowed (EACCES, EPERM; Python's PermissionError).
class PermissionError : public OSError {
 public:
  using OSError::OSError;
};
/// No such process (ESRCH; Python's ProcessLookupError).
class ProcessLookupError : public OSError {
 public:
  using OSError::OSError;
};

/// Python's NotImplementedError (e.g. write_eof() on a TLS stream).
class NotImplementedError : public RuntimeError {
 public:
  using RuntimeError::RuntimeError;
};

/// A TLS failure (ssl.SSLError, an OSError). `library()` and `reason()` are OpenSSL's
/// names for it ("SSL", "WRONG_VERSION_NUMBER"); what() reads as Python's str():
/// "[SSL: WRONG_VERSION_NUMBER] wrong version number".
class SSLError : public OSError {
 public:
  SSLError(int err, std::string library, std::string reason, const std::string& message)
      : OSError(err, message),
        library_(std::move(library)),
        reason_(std::move(reason)),
        what_(library_.empty() && reason_.empty() ? message : "[" + library_ + ": " + reason_ + "] " + message) {}
  const char* what() const noexcept override { return what_.c_str(); }
  const std::string& library() const noexcept { return library_; }
  const std::string& reason() const noexcept { return reason_; }

 private:
  std::string library_;
  std::string reason_;
  std::string what_;
};

/// The peer's certificate failed verification (ssl.SSLCertVerificationError):
/// `verify_code` is OpenSSL's X509_V_ERR_* number and `verify_message` its text,
/// e.g. "certificate has expired" or "Hostname mismatch, certificate is not valid for
/// 'x'."; what() is "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: ...".
class SSLCertVerificationError : public SSLError {
 public:
  SSLCertVerificationError(long code, std::string message)
      : SSLError(1, "SSL", "CERTIFICATE_VERIFY_FAILED", "certificate verify failed: " + message),
        verify_code(code),
        verify_message(std::move(message)) {}
  long verify_code;
  std::string verify_message;
};

/// The stream ended before the expected bytes came (asyncio.IncompleteReadError);
/// `partial` holds what did come, `expected` the size asked for (-1: a separator).
class IncompleteReadError : public std::runtime_error {
 public:
  IncompleteReadError(std::string partial_bytes, long expected_bytes)
      : std::runtime_error(std::to_string(partial_bytes.size()) + " bytes read on a total of " +
                           (expected_bytes < 0 ? std::string("undefined") : std::to_string(expected_bytes)) +
                           " expected bytes"),
        partial(std::move(partial_bytes)),
        expected(expected_bytes) {}
  std::string partial;
  long expected;
};

/// The buffer limit was reached while looking for a separator
/// (asyncio.LimitOverrunError); `consumed` bytes are to be consumed.
class LimitOverrunError : public std::runtime_error {
 public:
  LimitOverrunError(const std::string& msg, std::size_t consumed_bytes)
      : std::runtime_error(msg), consumed(consumed_bytes) {}
  std::size_t consumed;
};

/// Several exceptions at once (Python's ExceptionGroup), raised by TaskGroup.
/// what() reads like Python's str(): "unhandled errors in a TaskGroup (2 sub-exceptions)".
class ExceptionGroup : public std::exception {
 public:
  ExceptionGroup(std::string message, std::vector<std::exception_ptr> exceptions);
  const char* what() const noexcept override { return what_.c_str(); }
  const std::string& message() const noexcept { return message_; }
  const std::vector<std::exception_ptr>& exceptions() const noexcept { return exceptions_; }

 private:
  std::string message_;
  std::string what_;
  std::vector<std::exception_ptr> exceptions_;
};

/// "TypeName('message')", as Python's repr() of an exception; any type, including
/// types not derived from std::exception. Empty pointer: "None".
std::string exception_repr(const std::exception_ptr& e);

/// "TypeName: message", as the last line of a Python traceback.
std::string exception_str(const std::exception_ptr& e);

/// The demangled name of the exception's dynamic type.
std::string exception_type_name(const std::exception_ptr& e);

/// True when `e` holds a CancelledError.
bool is_cancelled_error(const std::exception_ptr& e) noexcept;

}  // namespace aio
