// aio/ssl.hpp: TLS settings for streams, shaped like Python's ssl.SSLContext.
//
//   auto [reader, writer] = co_await aio::open_connection("example.org", 443, {.ssl = true});
//
//   aio::SSLContext ctx(aio::PROTOCOL_TLS_SERVER);
//   ctx.load_cert_chain("cert.pem", "key.pem");
//   auto server = co_await aio::start_server(handler, "127.0.0.1", 8443, {.ssl = ctx});
//
// An SSLContext is a handle (copies share one OpenSSL SSL_CTX, as Python references
// share one context). Settings apply to connections made after them. Python's
// properties are getter/setter pairs here: `ctx.check_hostname = False` is
// `ctx.set_check_hostname(false)`. The errors (SSLError, SSLCertVerificationError) are
// in aio/errors.hpp.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aio {

/// ssl.PROTOCOL_TLS_CLIENT / ssl.PROTOCOL_TLS_SERVER.
enum SSLProtocol { PROTOCOL_TLS_CLIENT, PROTOCOL_TLS_SERVER };

/// ssl.CERT_NONE / CERT_OPTIONAL / CERT_REQUIRED.
enum VerifyMode { CERT_NONE, CERT_OPTIONAL, CERT_REQUIRED };

/// ssl.TLSVersion.
enum class TLSVersion { MINIMUM_SUPPORTED, TLSv1, TLSv1_1, TLSv1_2, TLSv1_3, MAXIMUM_SUPPORTED };

/// ssl.Purpose: SERVER_AUTH makes a client's context (it authenticates servers).
enum class Purpose { SERVER_AUTH, CLIENT_AUTH };

class SSLContext {
 public:
  /// As Python: a client context verifies the peer (CERT_REQUIRED) and its host name;
  /// a server context asks for no certificate (CERT_NONE). Both want TLS 1.2 or newer.
  explicit SSLContext(SSLProtocol protocol);

  SSLProtocol protocol() const noexcept;

  /// Our certificate (and its chain) and private key, PEM files; the key may be in
  /// the certificate file (keyfile empty). SSLError when they do not load or match.
  void load_cert_chain(const std::string& certfile, const std::string& keyfile = "");
  /// The certificates to trust: a PEM file and/or a hashed directory.
  void load_verify_locations(const std::string& cafile, const std::string& capath = "");
  /// The system's certificates (SSL_CTX_set_default_verify_paths).
  void load_default_certs();
  void set_default_verify_paths();

  bool check_hostname() const noexcept;
  /// Turning it on also sets verify_mode to CERT_REQUIRED when it was CERT_NONE.
  void set_check_hostname(bool on);
  VerifyMode verify_mode() const noexcept;
  /// ValueError for CERT_NONE while check_hostname is on (turn that off first).
  void set_verify_mode(VerifyMode mode);

  /// The protocols to offer (client) or accept (server), in order of preference.
  void set_alpn_protocols(const std::vector<std::string>& protocols);
  /// An OpenSSL cipher list for TLS 1.2 and below; SSLError when it selects none.
  void set_ciphers(const std::string& ciphers);

  TLSVersion minimum_version() const noexcept;
  void set_minimum_version(TLSVersion v);
  TLSVersion maximum_version() const noexcept;
  void set_maximum_version(TLSVersion v);

  /// The OpenSSL SSL_CTX*, for settings this class does not have.
  void* native_handle() const noexcept;

  struct State;

 private:
  std::shared_ptr<State> s_;
};

/// ssl.create_default_context(): a client context (Purpose::SERVER_AUTH) that trusts
/// the system's certificates, or `cafile` when given, and checks host names; or a
/// server context (Purpose::CLIENT_AUTH).
SSLContext create_default_context(Purpose purpose = Purpose::SERVER_AUTH, const std::string& cafile = "");

/// The `ssl` option of open_connection and start_server: a context, or `true` for
/// create_default_context() (clients only), or nothing (plain TCP). It refers to the
/// context, as a string_view refers to a string: open_connection and start_server take
/// their own reference when they are called, so `{.ssl = make_context()}` in the call
/// is fine, but options kept for later need their context kept alive too. (Options
/// own nothing so that they stay trivially destructible: g++ 12 destroys an aggregate
/// temporary made inside a co_await expression twice.)
class SSLOption {
 public:
  SSLOption() = default;
  SSLOption(bool on) : on_(on) {}  // NOLINT: `.ssl = true`, as Python's ssl=True
  SSLOption(const SSLContext& ctx) : on_(true), ctx_(&ctx) {}  // NOLINT
  explicit operator bool() const noexcept { return on_; }
  /// The context; nullptr for `true` (a default one).
  const SSLContext* context() const noexcept { return ctx_; }

 private:
  bool on_ = false;
  const SSLContext* ctx_ = nullptr;
};

/// The peer's certificate as Python's getpeercert() gives it: names in OpenSSL's
/// one-line RFC 2253 form ("CN=localhost,O=aio"), dates as "Jan  5 09:00:00 2027 GMT".
struct PeerCertificate {
  std::string subject;
  std::string issuer;
  /// ("DNS", "localhost"), ("IP Address", "127.0.0.1"), ...
  std::vector<std::pair<std::string, std::string>> subject_alt_name;
  std::string not_before;
  std::string not_after;
  std::string serial_number;  // hexadecimal
  std::string pem;
};

/// Python's SSLSocket.cipher(): ("TLS_AES_256_GCM_SHA384", "TLSv1.3", 256).
struct CipherInfo {
  std::string name;
  std::string protocol;
  int secret_bits = 0;
};

}  // namespace aio

namespace aio::detail {

/// One TLS connection's OpenSSL state over memory BIOs (as asyncio's SSLProtocol
/// over ssl.MemoryBIO): the stream feeds it the ciphertext it receives and sends the
/// ciphertext it produces (output()); plaintext goes through read() and write().
class TlsSession {
 public:
  enum Status { OK, WANT_READ, CLOSED };

  /// ValueError when the context checks host names and none is given (client side).
  TlsSession(const SSLContext& ctx, bool server_side, const std::string& server_hostname);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  /// One step of the handshake: OK when done, WANT_READ for more ciphertext; raises
  /// SSLCertVerificationError or SSLError when it fails.
  Status handshake();
  /// Decrypts into p[0..n): OK with `got` bytes, WANT_READ, or CLOSED (the peer's
  /// close_notify, or the end of its ciphertext without one); raises SSLError.
  Status read(char* p, std::size_t n, std::size_t& got);
  /// Encrypts all of `data` (OK), or none of it while a renegotiation waits for the
  /// peer (WANT_READ); raises SSLError.
  Status write(const char* p, std::size_t n);
  /// Queues our close_notify.
  void shutdown() noexcept;

  void feed(const char* p, std::size_t n);
  void feed_eof() noexcept;
  bool fed_eof() const noexcept { return fed_eof_; }
  /// Ciphertext to send; consume_output() once it is taken.
  std::string_view output() const noexcept;
  void consume_output() noexcept;

  bool established() const noexcept;
  bool server_side() const noexcept { return server_side_; }
  /// The peer's close_notify came.
  bool peer_closed() const noexcept;

  std::string version() const;
  CipherInfo cipher() const;
  std::optional<PeerCertificate> peercert() const;
  std::string selected_alpn_protocol() const;
  std::string server_hostname() const { return hostname_; }

 private:
  void* ssl_ = nullptr;   // SSL*
  void* rbio_ = nullptr;  // BIO*: ciphertext in
  void* wbio_ = nullptr;  // BIO*: ciphertext out
  bool server_side_;
  bool fed_eof_ = false;
  std::string hostname_;
};

}  // namespace aio::detail
