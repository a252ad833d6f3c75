// TLS: SSLContext over OpenSSL 3's SSL_CTX, and the per-connection TlsSession over
// memory BIOs that streams drive (src/streams.cpp).
#include "aio/ssl.hpp"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>

#include "aio/errors.hpp"
#include "aio/socket.hpp"

namespace aio {

struct SSLContext::State {
  SSL_CTX* ctx = nullptr;
  SSLProtocol protocol = PROTOCOL_TLS_CLIENT;
  bool check_hostname = false;
  VerifyMode verify_mode = CERT_NONE;
  TLSVersion min_version = TLSVersion::TLSv1_2;
  TLSVersion max_version = TLSVersion::MAXIMUM_SUPPORTED;
  std::string alpn_wire;  // length-prefixed, as the TLS extension carries them
  ~State() { SSL_CTX_free(ctx); }
};

namespace {

std::string upper_snake(const char* text) {
  std::string out = text != nullptr ? text : "";
  for (char& c : out) c = c == ' ' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string library_name(unsigned long e) {
  switch (ERR_GET_LIB(e)) {
    case ERR_LIB_SSL: return "SSL";
    case ERR_LIB_X509: return "X509";
    case ERR_LIB_PEM: return "PEM";
    case ERR_LIB_SYS: return "SYS";
    case ERR_LIB_EVP: return "EVP";
    case ERR_LIB_ASN1: return "ASN1";
    case ERR_LIB_X509V3: return "X509V3";
    default: {
      const char* lib = ERR_lib_error_string(e);
      return lib != nullptr ? upper_snake(lib) : "";
    }
  }
}

// The first error on OpenSSL's queue as Python shows it; the queue is emptied.
[[noreturn]] void raise_queue(const std::string& fallback) {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) throw SSLError(5, "", "", fallback);  // Python's SSL_ERROR_EOF-like case
  const char* reason = ERR_reason_error_string(e);
  const std::string text = reason != nullptr ? reason : fallback;
  throw SSLError(static_cast<int>(ERR_GET_REASON(e)), library_name(e), upper_snake(reason), text);
}

int to_openssl(TLSVersion v) {
  switch (v) {
    case TLSVersion::TLSv1: return TLS1_VERSION;
    case TLSVersion::TLSv1_1: return TLS1_1_VERSION;
    case TLSVersion::TLSv1_2: return TLS1_2_VERSION;
    case TLSVersion::TLSv1_3: return TLS1_3_VERSION;
    default: return 0;  // no bound
  }
}

void apply_verify(SSLContext::State& s) {
  int mode = SSL_VERIFY_NONE;
  if (s.verify_mode != CERT_NONE) mode = SSL_VERIFY_PEER;
  if (s.verify_mode == CERT_REQUIRED && s.protocol == PROTOCOL_TLS_SERVER) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  SSL_CTX_set_verify(s.ctx, mode, nullptr);
}

int alpn_select(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen,
                void* arg) {
  auto* s = static_cast<SSLContext::State*>(arg);
  unsigned char* chosen = nullptr;
  const int r = SSL_select_next_proto(&chosen, outlen, reinterpret_cast<const unsigned char*>(s->alpn_wire.data()),
                                      static_cast<unsigned int>(s->alpn_wire.size()), in, inlen);
  if (r != OPENSSL_NPN_NEGOTIATED) return SSL_TLSEXT_ERR_NOACK;
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

void check_readable(const std::string& path, const char* func) {
  if (::access(path.c_str(), R_OK) != 0) detail::throw_os_error(errno, std::string(func) + "('" + path + "')");
}

}  // namespace

SSLContext::SSLContext(SSLProtocol protocol) : s_(std::make_shared<State>()) {
  s_->protocol = protocol;
  s_->ctx = SSL_CTX_new(protocol == PROTOCOL_TLS_SERVER ? TLS_server_method() : TLS_client_method());
  if (s_->ctx == nullptr) raise_queue("SSL_CTX_new failed");
  SSL_CTX_set_options(s_->ctx, SSL_OP_ALL | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_mode(s_->ctx, SSL_MODE_AUTO_RETRY);
  SSL_CTX_set_min_proto_version(s_->ctx, TLS1_2_VERSION);
  if (protocol == PROTOCOL_TLS_CLIENT) {
    s_->check_hostname = true;
    s_->verify_mode = CERT_REQUIRED;
  }
  apply_verify(*s_);
}

SSLProtocol SSLContext::protocol() const noexcept { return s_->protocol; }

void SSLContext::load_cert_chain(const std::string& certfile, const std::string& keyfile) {
  check_readable(certfile, "load_cert_chain");
  const std::string& key = keyfile.empty() ? certfile : keyfile;
  check_readable(key, "load_cert_chain");
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(s_->ctx, certfile.c_str()) != 1) raise_queue("cannot load " + certfile);
  if (SSL_CTX_use_PrivateKey_file(s_->ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) raise_queue("cannot load " + key);
  if (SSL_CTX_check_private_key(s_->ctx) != 1) raise_queue("the key does not match the certificate");
}

void SSLContext::load_verify_locations(const std::string& cafile, const std::string& capath) {
  if (cafile.empty() && capath.empty()) throw TypeError("cafile, capath and cadata cannot be all omitted");
  if (!cafile.empty()) check_readable(cafile, "load_verify_locations");
  ERR_clear_error();
  if (SSL_CTX_load_verify_locations(s_->ctx, cafile.empty() ? nullptr : cafile.c_str(),
                                    capath.empty() ? nullptr : capath.c_str()) != 1) {
    raise_queue("cannot load the verify locations");
  }
}

void SSLContext::load_default_certs() { set_default_verify_paths(); }

void SSLContext::set_default_verify_paths() {
  ERR_clear_error();
  if (SSL_CTX_set_default_verify_paths(s_->ctx) != 1) raise_queue("cannot load the default verify paths");
}

bool SSLContext::check_hostname() const noexcept { return s_->check_hostname; }

void SSLContext::set_check_hostname(bool on) {
  if (on && s_->verify_mode == CERT_NONE) {
    s_->verify_mode = CERT_REQUIRED;
    apply_verify(*s_);
  }
  s_->check_hostname = on;
}

VerifyMode SSLContext::verify_mode() const noexcept { return s_->verify_mode; }

void SSLContext::set_verify_mode(VerifyMode mode) {
  if (mode == CERT_NONE && s_->check_hostname) {
    throw ValueError("Cannot set verify_mode to CERT_NONE when check_hostname is enabled.");
  }
  s_->verify_mode = mode;
  apply_verify(*s_);
}

void SSLContext::set_alpn_protocols(const std::vector<std::string>& protocols) {
  std::string wire;
  for (const std::string& p : protocols) {
    if (p.empty() || p.size() > 255) throw ValueError("ALPN protocols must be 1 to 255 in length");
    wire += static_cast<char>(p.size());
    wire += p;
  }
  s_->alpn_wire = wire;
  if (s_->protocol == PROTOCOL_TLS_CLIENT) {
    if (SSL_CTX_set_alpn_protos(s_->ctx, reinterpret_cast<const unsigned char*>(wire.data()),
                                static_cast<unsigned int>(wire.size())) != 0) {
      raise_queue("cannot set the ALPN protocols");
    }
  } else {
    SSL_CTX_set_alpn_select_cb(s_->ctx, alpn_select, s_.get());
  }
}

void SSLContext::set_ciphers(const std::string& ciphers) {
  ERR_clear_error();
  if (SSL_CTX_set_cipher_list(s_->ctx, ciphers.c_str()) != 1) {
    ERR_clear_error();
    throw SSLError(1, "", "", "No cipher can be selected.");
  }
}

TLSVersion SSLContext::minimum_version() const noexcept { return s_->min_version; }
void SSLContext::set_minimum_version(TLSVersion v) {
  if (SSL_CTX_set_min_proto_version(s_->ctx, to_openssl(v)) != 1) throw ValueError("Unsupported TLS/SSL version");
  s_->min_version = v;
}
TLSVersion SSLContext::maximum_version() const noexcept { return s_->max_version; }
void SSLContext::set_maximum_version(TLSVersion v) {
  if (SSL_CTX_set_max_proto_version(s_->ctx, to_openssl(v)) != 1) throw ValueError("Unsupported TLS/SSL version");
  s_->max_version = v;
}

void* SSLContext::native_handle() const noexcept { return s_->ctx; }

SSLContext create_default_context(Purpose purpose, const std::string& cafile) {
  SSLContext ctx(purpose == Purpose::SERVER_AUTH ? PROTOCOL_TLS_CLIENT : PROTOCOL_TLS_SERVER);
  if (!cafile.empty()) {
    ctx.load_verify_locations(cafile);
  } else {
    ctx.load_default_certs();
  }
  return ctx;
}

// --- one connection

namespace detail {

namespace {

SSL* as_ssl(void* p) { return static_cast<SSL*>(p); }
BIO* as_bio(void* p) { return static_cast<BIO*>(p); }

bool is_ip_address(const std::string& host) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 || ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

std::string bio_text(BIO* bio) {
  char* p = nullptr;
  const long n = BIO_get_mem_data(bio, &p);
  return n > 0 ? std::string(p, static_cast<std::size_t>(n)) : std::string();
}

std::string name_text(const X509_NAME* name) {
  BIO* bio = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
  std::string out = bio_text(bio);
  BIO_free(bio);
  return out;
}

std::string time_text(const ASN1_TIME* t) {
  BIO* bio = BIO_new(BIO_s_mem());
  ASN1_TIME_print(bio, t);
  std::string out = bio_text(bio);
  BIO_free(bio);
  return out;
}

}  // namespace

TlsSession::TlsSession(const SSLContext& ctx, bool server_side, const std::string& server_hostname)
    : server_side_(server_side), hostname_(server_hostname) {
  auto* c = static_cast<SSL_CTX*>(ctx.native_handle());
  if (!server_side && ctx.check_hostname() && server_hostname.empty()) {
    throw ValueError("check_hostname requires server_hostname");
  }
  SSL* ssl = SSL_new(c);
  if (ssl == nullptr) raise_queue("SSL_new failed");
  BIO* rbio = BIO_new(BIO_s_mem());
  BIO* wbio = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(rbio, -1);  // empty: "retry", until feed_eof
  SSL_set_bio(ssl, rbio, wbio);       // the SSL owns both now
  ssl_ = ssl;
  rbio_ = rbio;
  wbio_ = wbio;
  if (server_side) {
    SSL_set_accept_state(ssl);
    return;
  }
  SSL_set_connect_state(ssl);
  if (server_hostname.empty()) return;
  const bool ip = is_ip_address(server_hostname);
  // As Python: SNI for names only; the host (or address) checked when asked to.
  if (!ip) {
    SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(server_hostname.c_str()));
  }
  if (ctx.check_hostname()) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    const int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, server_hostname.c_str())
                      : X509_VERIFY_PARAM_set1_host(param, server_hostname.c_str(), 0);
    if (ok != 1) {
      SSL_free(ssl);
      ssl_ = nullptr;
      throw ValueError("invalid server_hostname '" + server_hostname + "'");
    }
  }
}

TlsSession::~TlsSession() { SSL_free(as_ssl(ssl_)); }

TlsSession::Status TlsSession::handshake() {
  SSL* ssl = as_ssl(ssl_);
  ERR_clear_error();
  const int r = SSL_do_handshake(ssl);
  if (r == 1) return OK;
  const int e = SSL_get_error(ssl, r);
  if (e == SSL_ERROR_WANT_READ && !fed_eof_) return WANT_READ;
  const long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK && SSL_get_verify_mode(ssl) != SSL_VERIFY_NONE) {
    ERR_clear_error();
    std::string msg;
    if (verify == X509_V_ERR_HOSTNAME_MISMATCH) {
      msg = "Hostname mismatch, certificate is not valid for '" + hostname_ + "'.";
    } else if (verify == X509_V_ERR_IP_ADDRESS_MISMATCH) {
      msg = "IP address mismatch, certificate is not valid for '" + hostname_ + "'.";
    } else {
      msg = X509_verify_cert_error_string(verify);
    }
    throw SSLCertVerificationError(verify, msg);
  }
  if (e == SSL_ERROR_WANT_READ || ((e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN) && ERR_peek_error() == 0)) {
    throw_os_error(ECONNRESET, "the peer closed the connection during the SSL handshake");
  }
  raise_queue("EOF occurred in violation of protocol");
}

TlsSession::Status TlsSession::read(char* p, std::size_t n, std::size_t& got) {
  SSL* ssl = as_ssl(ssl_);
  ERR_clear_error();
  got = 0;
  if (SSL_read_ex(ssl, p, n, &got) == 1) return OK;
  const int e = SSL_get_error(ssl, 0);
  switch (e) {
    case SSL_ERROR_WANT_READ:
      return fed_eof_ ? CLOSED : WANT_READ;
    case SSL_ERROR_ZERO_RETURN:
      return CLOSED;
    case SSL_ERROR_SYSCALL:
      if (ERR_peek_error() == 0) return CLOSED;
      break;
    case SSL_ERROR_SSL:
      // The ciphertext ended without close_notify: asyncio's reader sees EOF.
      if (fed_eof_ && ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        ERR_clear_error();
        return CLOSED;
      }
      break;
    default:
      break;
  }
  raise_queue("EOF occurred in violation of protocol");
}

TlsSession::Status TlsSession::write(const char* p, std::size_t n) {
  SSL* ssl = as_ssl(ssl_);
  ERR_clear_error();
  std::size_t written = 0;
  if (SSL_write_ex(ssl, p, n, &written) == 1) return OK;
  const int e = SSL_get_error(ssl, 0);
  if (e == SSL_ERROR_WANT_READ) return WANT_READ;
  raise_queue("write after the TLS session ended");
}

void TlsSession::shutdown() noexcept {
  SSL* ssl = as_ssl(ssl_);
  if ((SSL_get_shutdown(ssl) & SSL_SENT_SHUTDOWN) != 0 || !SSL_is_init_finished(ssl)) return;
  ERR_clear_error();
  (void)SSL_shutdown(ssl);
  ERR_clear_error();
}

void TlsSession::feed(const char* p, std::size_t n) {
  if (BIO_write(as_bio(rbio_), p, static_cast<int>(n)) != static_cast<int>(n)) raise_queue("memory BIO write failed");
}

void TlsSession::feed_eof() noexcept {
  fed_eof_ = true;
  BIO_set_mem_eof_return(as_bio(rbio_), 0);
}

std::string_view TlsSession::output() const noexcept {
  char* p = nullptr;
  const long n = BIO_get_mem_data(as_bio(wbio_), &p);
  return n > 0 ? std::string_view(p, static_cast<std::size_t>(n)) : std::string_view();
}

void TlsSession::consume_output() noexcept { (void)BIO_reset(as_bio(wbio_)); }

bool TlsSession::established() const noexcept { return SSL_is_init_finished(as_ssl(ssl_)) == 1; }

bool TlsSession::peer_closed() const noexcept { return (SSL_get_shutdown(as_ssl(ssl_)) & SSL_RECEIVED_SHUTDOWN) != 0; }

std::string TlsSession::version() const { return established() ? SSL_get_version(as_ssl(ssl_)) : ""; }

CipherInfo TlsSession::cipher() const {
  CipherInfo info;
  const SSL_CIPHER* c = SSL_get_current_cipher(as_ssl(ssl_));
  if (c == nullptr) return info;
  info.name = SSL_CIPHER_get_name(c);
  info.protocol = SSL_CIPHER_get_version(c);
  info.secret_bits = SSL_CIPHER_get_bits(c, nullptr);
  return info;
}

std::optional<PeerCertificate> TlsSession::peercert() const {
  X509* cert = SSL_get0_peer_certificate(as_ssl(ssl_));
  if (cert == nullptr) return std::nullopt;
  PeerCertificate out;
  out.subject = name_text(X509_get_subject_name(cert));
  out.issuer = name_text(X509_get_issuer_name(cert));
  out.not_before = time_text(X509_get0_notBefore(cert));
  out.not_after = time_text(X509_get0_notAfter(cert));
  if (BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr)) {
    if (char* hex = BN_bn2hex(bn)) {
      out.serial_number = hex;
      OPENSSL_free(hex);
    }
    BN_free(bn);
  }
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* g = sk_GENERAL_NAME_value(names, i);
      if (g->type == GEN_DNS) {
        const ASN1_STRING* s = g->d.dNSName;
        out.subject_alt_name.emplace_back(
            "DNS", std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                               static_cast<std::size_t>(ASN1_STRING_length(s))));
      } else if (g->type == GEN_IPADD) {
        const ASN1_OCTET_STRING* s = g->d.iPAddress;
        char text[INET6_ADDRSTRLEN] = {};
        const int len = ASN1_STRING_length(s);
        if (len == 4 || len == 16) {
          ::inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(s), text, sizeof text);
          out.subject_alt_name.emplace_back("IP Address", text);
        }
      }
    }
    GENERAL_NAMES_free(names);
  }
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  out.pem = bio_text(bio);
  BIO_free(bio);
  return out;
}

std::string TlsSession::selected_alpn_protocol() const {
  const unsigned char* p = nullptr;
  unsigned int n = 0;
  SSL_get0_alpn_selected(as_ssl(ssl_), &p, &n);
  return p != nullptr ? std::string(reinterpret_cast<const char*>(p), n) : std::string();
}

}  // namespace detail
}  // namespace aio
