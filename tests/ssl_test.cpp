// TLS streams over real sockets on 127.0.0.1: aio against `openssl s_server` and
// `openssl s_client`, aio on both ends, and python3's ssl module as a client that
// resets the connection (support/resetting_client.hpp). The certificates (a CA, a
// good server certificate for localhost and 127.0.0.1, an expired one, one for
// another host, a self-signed one and a client certificate) are made with the
// `openssl` command in a temporary directory. These run on the real clock; timeouts
// only bound a hang, except the handshake timeout's own test (0.2 s against a peer
// that never answers).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "support/aio_test.hpp"
#include "support/exception_ptr.hpp"
#include "support/resetting_client.hpp"

extern char** environ;

namespace aio {
namespace {

constexpr double kBound = 20;  // seconds: only a hung test reaches it

static_assert(std::is_base_of_v<OSError, SSLError>);
static_assert(std::is_base_of_v<SSLError, SSLCertVerificationError>);
static_assert(std::is_trivially_destructible_v<SSLOption>);  // see SSLOption

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

using test::holds;

// --- certificates

const char* kMakeCertificates = R"SH(set -e
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1" 2>/dev/null; }
key ca.key
openssl req -x509 -new -key ca.key -out ca.pem -days 30 -subj "/CN=aio test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > server.ext
printf 'subjectAltName=DNS:wrong.example\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > wrong.ext
printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n' > client.ext
sign() {
  key "$1.key"
  openssl req -new -key "$1.key" -out "$1.csr" -subj "$2"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$1.pem" -days 30 -extfile "$3" 2>/dev/null
}
sign good /CN=localhost server.ext
sign wrong /CN=wrong.example wrong.ext
sign client "/CN=aio client" client.ext
key self.key
openssl req -x509 -new -key self.key -out self.pem -days 30 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1"
key expired.key
openssl req -new -key expired.key -out expired.csr -subj /CN=localhost
: > index.txt
echo 1000 > serial
cat > ca.cnf <<'CNF'
[ca]
default_ca = aio
[aio]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any
x509_extensions = ext
[any]
commonName = supplied
[ext]
subjectAltName = DNS:localhost,IP:127.0.0.1
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth
CNF
openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in expired.csr -out expired.pem \
  -startdate 20200101000000Z -enddate 20200201000000Z -notext 2>/dev/null
)SH";

class Certs {
 public:
  Certs() {
    char tmpl[] = "/tmp/aio-ssl-test-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    const std::string script = dir_ + "/make.sh";
    FILE* f = std::fopen(script.c_str(), "w");
    std::fputs(kMakeCertificates, f);
    std::fclose(f);
    const std::string cmd = "cd " + dir_ + " && sh make.sh >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("making the certificates failed");
  }
  ~Certs() { (void)std::system(("rm -rf " + dir_).c_str()); }
  std::string operator()(const std::string& name) const { return dir_ + "/" + name; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

const Certs& certs() {
  static Certs c;
  return c;
}

SSLContext server_context(const std::string& cert = "good") {
  SSLContext ctx(PROTOCOL_TLS_SERVER);
  ctx.load_cert_chain(certs()(cert + ".pem"), certs()(cert + ".key"));
  return ctx;
}

SSLContext client_context() { return create_default_context(Purpose::SERVER_AUTH, certs()("ca.pem")); }

int free_port() {
  Socket s(AF_INET, SOCK_STREAM);
  s.bind(SockAddr("127.0.0.1", 0));
  return s.getsockname().port();
}

// --- child processes (openssl s_server), killed by their PID at the end

class Child {
 public:
  Child(const std::vector<std::string>& args) {
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const int r = posix_spawnp(&pid_, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(in[0]);
    ::close(out[1]);
    if (r != 0) throw std::runtime_error("posix_spawnp " + args[0]);
    in_ = in[1];
    out_ = out[0];
  }
  ~Child() { stop(); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
    }
    if (in_ >= 0) ::close(std::exchange(in_, -1));
    if (out_ >= 0) ::close(std::exchange(out_, -1));
  }
  // Blocking, before the loop runs: the output up to a line starting with `marker`.
  bool wait_for_line(const std::string& marker) {
    std::string line;
    char c;
    while (::read(out_, &c, 1) == 1) {
      if (c != '\n') {
        line += c;
        continue;
      }
      if (line.rfind(marker, 0) == 0) return true;
      line.clear();
    }
    return false;
  }
  void send(const std::string& s) { (void)!::write(in_, s.data(), s.size()); }
  // The child's stdout as a stream (the pipe end goes to it).
  StreamReader stdout_reader() { return open_stream(Socket::from_fd(std::exchange(out_, -1))).first; }

 private:
  pid_t pid_ = -1;
  int in_ = -1;
  int out_ = -1;
};

// `openssl s_server` on 127.0.0.1:port with one of our certificates, listening.
struct OpensslServer {
  int port = free_port();
  Child child;
  explicit OpensslServer(const std::string& cert, std::vector<std::string> extra = {"-rev"})
      : child(args(cert, port, std::move(extra))) {
    if (!child.wait_for_line("ACCEPT")) throw std::runtime_error("openssl s_server did not start");
  }
  static std::vector<std::string> args(const std::string& cert, int port, std::vector<std::string> extra) {
    std::vector<std::string> a = {"openssl", "s_server", "-accept", "127.0.0.1:" + std::to_string(port),
                                  "-cert", certs()(cert + ".pem"), "-key", certs()(cert + ".key")};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
};

// Runs `openssl s_client` with `input` on stdin (off the loop) and returns what it
// printed, stderr included.
Coro<std::string> run_s_client(int port, std::string input, std::string extra = "") {
  auto run_it = [port, input = std::move(input), extra = std::move(extra)]() {
    const std::string cmd = "printf '" + input + "' | timeout 20 openssl s_client -connect 127.0.0.1:" +
                            std::to_string(port) + " -CAfile " + certs()("ca.pem") + " -verify_return_error -quiet " +
                            extra + " 2>&1";
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) return out;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    ::pclose(p);
    return out;
  };
  co_return co_await to_thread(run_it);
}

// Reads the child's output until a line containing `part`.
Coro<bool> read_until_line(StreamReader& r, std::string part) {
  for (;;) {
    std::string line = co_await r.readline();
    if (line.empty()) co_return false;
    if (contains(line, part)) co_return true;
  }
}

// An echo handler: each line back, until EOF.
Coro<void> echo(StreamReader reader, StreamWriter writer) {
  for (;;) {
    std::string line = co_await reader.readline();
    if (line.empty()) break;
    writer.write(line);
    co_await writer.drain();
  }
  writer.close();
}

// --- the context

TEST(SSLContext, DefaultsAndVerificationSwitchedOffExplicitly) {
  SSLContext client(PROTOCOL_TLS_CLIENT);
  EXPECT_TRUE(client.check_hostname());
  EXPECT_EQ(client.verify_mode(), CERT_REQUIRED);
  EXPECT_EQ(client.minimum_version(), TLSVersion::TLSv1_2);
  SSLContext server(PROTOCOL_TLS_SERVER);
  EXPECT_FALSE(server.check_hostname());
  EXPECT_EQ(server.verify_mode(), CERT_NONE);
  // As Python: CERT_NONE needs check_hostname off first.
  try {
    client.set_verify_mode(CERT_NONE);
    ADD_FAILURE() << "no error";
  } catch (const ValueError& e) {
    EXPECT_STREQ(e.what(), "Cannot set verify_mode to CERT_NONE when check_hostname is enabled.");
  }
  client.set_check_hostname(false);
  client.set_verify_mode(CERT_NONE);
  EXPECT_EQ(client.verify_mode(), CERT_NONE);
  client.set_check_hostname(true);  // turns verification back on
  EXPECT_EQ(client.verify_mode(), CERT_REQUIRED);
  EXPECT_THROW(client.set_ciphers("NO-SUCH-CIPHER"), SSLError);
  EXPECT_THROW(client.load_cert_chain("/nonexistent/cert.pem"), OSError);
  EXPECT_THROW(server.load_cert_chain(certs()("good.pem"), certs()("wrong.key")), SSLError);
}

// --- aio client, openssl s_server

TEST(SSLClient, TalksToOpensslServerAndShowsTheSessionDetails) {
  OpensslServer peer("good");
  auto main_ = [&]() -> Coro<> {
    auto [reader, writer] =
        co_await wait_for(open_connection("127.0.0.1", peer.port, {.ssl = client_context()}), kBound);
    EXPECT_TRUE(writer.is_tls());
    EXPECT_EQ(writer.ssl_version(), "TLSv1.3");
    auto cipher = writer.cipher();
    CO_ASSERT_TRUE(cipher.has_value());
    EXPECT_EQ(cipher->protocol, "TLSv1.3");
    EXPECT_GE(cipher->secret_bits, 128);
    auto cert = writer.peercert();
    CO_ASSERT_TRUE(cert.has_value());
    EXPECT_EQ(cert->subject, "CN=localhost");
    EXPECT_EQ(cert->issuer, "CN=aio test CA");
    const std::vector<std::pair<std::string, std::string>> san = {{"DNS", "localhost"}, {"IP Address", "127.0.0.1"}};
    EXPECT_EQ(cert->subject_alt_name, san);
    EXPECT_TRUE(contains(cert->not_after, "GMT"));
    EXPECT_TRUE(contains(cert->pem, "-----BEGIN CERTIFICATE-----"));
    EXPECT_FALSE(writer.can_write_eof());
    EXPECT_THROW(writer.write_eof(), NotImplementedError);
    writer.write("hello\n");
    co_await writer.drain();
    EXPECT_EQ(co_await wait_for(reader.readline(), kBound), "olleh\n");
    writer.close();
    co_await wait_for(writer.wait_closed(), kBound);
  };
  aio::run(main_());
}

TEST(SSLClient, OnlyTheGoodCertificateIsAccepted) {
  struct Case {
    std::string cert;
    bool with_ca;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"expired", true, "certificate has expired"},
      {"self", true, "self-signed certificate"},
      {"wrong", true, "Hostname mismatch, certificate is not valid for 'localhost'."},
      {"good", false, "unable to get local issuer certificate"},
  };
  for (const Case& c : cases) {
    OpensslServer peer(c.cert);
    auto main_ = [&]() -> Coro<> {
      SSLContext ctx = c.with_ca ? client_context() : SSLContext(PROTOCOL_TLS_CLIENT);
      try {
        (void)co_await wait_for(
            open_connection("127.0.0.1", peer.port, {.ssl = ctx, .server_hostname = "localhost"}), kBound);
        ADD_FAILURE() << c.cert << ": connected";
      } catch (const SSLCertVerificationError& e) {
        EXPECT_EQ(e.verify_message, c.reason) << c.cert;
        EXPECT_NE(e.verify_code, 0);
        EXPECT_EQ(std::string(e.what()), "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: " + c.reason);
      }
    };
    aio::run(main_());
  }
  // The host's address is checked against the certificate's IP entries.
  OpensslServer wrong("wrong");
  auto by_address = [&]() -> Coro<> {
    try {
      (void)co_await wait_for(open_connection("127.0.0.1", wrong.port, {.ssl = client_context()}), kBound);
      ADD_FAILURE() << "connected";
    } catch (const SSLCertVerificationError& e) {
      EXPECT_EQ(e.verify_message, "IP address mismatch, certificate is not valid for '127.0.0.1'.");
    }
  };
  aio::run(by_address());
  // ssl=true: create_default_context(), the system's store, which does not know our CA.
  OpensslServer system("good");
  auto with_defaults = [&]() -> Coro<> {
    try {
      (void)co_await wait_for(open_connection("127.0.0.1", system.port, {.ssl = true}), kBound);
      ADD_FAILURE() << "connected";
    } catch (const SSLCertVerificationError& e) {
      EXPECT_EQ(e.verify_message, "unable to get local issuer certificate");
    }
    EXPECT_THROW((void)co_await open_connection("127.0.0.1", system.port, {.server_hostname = "localhost"}),
                 ValueError);  // server_hostname is only meaningful with ssl
  };
  aio::run(with_defaults());
  OpensslServer good("good");
  auto accepted = [&]() -> Coro<> {
    auto [reader, writer] = co_await wait_for(
        open_connection("127.0.0.1", good.port, {.ssl = client_context(), .server_hostname = "localhost"}), kBound);
    writer.write("abc\n");
    EXPECT_EQ(co_await wait_for(reader.readline(), kBound), "cba\n");
  };
  aio::run(accepted());
}

TEST(SSLClient, SendsTheServerNameForNamesOnly) {
  // s_server gives the good certificate to clients that ask for "localhost" (SNI) and
  // the one for another host to the others.
  OpensslServer peer("wrong", {"-rev", "-servername", "localhost", "-cert2", certs()("good.pem"), "-key2",
                               certs()("good.key")});
  auto main_ = [&]() -> Coro<> {
    auto [reader, writer] = co_await wait_for(
        open_connection("127.0.0.1", peer.port, {.ssl = client_context(), .server_hostname = "localhost"}), kBound);
    EXPECT_EQ(writer.peercert()->subject, "CN=localhost");
    writer.close();
    co_await wait_for(writer.wait_closed(), kBound);
  };
  aio::run(main_());
  OpensslServer by_address("wrong", {"-rev", "-servername", "localhost", "-cert2", certs()("good.pem"), "-key2",
                                     certs()("good.key")});
  auto no_sni = [&]() -> Coro<> {
    // An IP address is not sent as a server name (as Python): the default certificate.
    SSLContext ctx = client_context();
    ctx.set_check_hostname(false);
    auto [reader, writer] = co_await wait_for(open_connection("127.0.0.1", by_address.port, {.ssl = ctx}), kBound);
    EXPECT_EQ(writer.peercert()->subject, "CN=wrong.example");
  };
  aio::run(no_sni());
}

TEST(SSLClient, VerificationSwitchedOffAcceptsASelfSignedCertificate) {
  OpensslServer peer("self");
  auto main_ = [&]() -> Coro<> {
    SSLContext ctx(PROTOCOL_TLS_CLIENT);
    ctx.set_check_hostname(false);
    ctx.set_verify_mode(CERT_NONE);
    auto [reader, writer] = co_await wait_for(open_connection("127.0.0.1", peer.port, {.ssl = ctx}), kBound);
    auto cert = writer.peercert();
    CO_ASSERT_TRUE(cert.has_value());
    EXPECT_EQ(cert->issuer, "CN=localhost");
    writer.write("self\n");
    EXPECT_EQ(co_await wait_for(reader.readline(), kBound), "fles\n");
  };
  aio::run(main_());
}

TEST(SSLClient, EofWithoutCloseNotifyIsEofForTheReader) {
  OpensslServer peer("good");
  auto main_ = [&]() -> Coro<> {
    auto [reader, writer] =
        co_await wait_for(open_connection("127.0.0.1", peer.port, {.ssl = client_context()}), kBound);
    writer.write("x\n");
    EXPECT_EQ(co_await wait_for(reader.readline(), kBound), "x\n");
    peer.child.stop();  // SIGKILL: the kernel closes the socket, no close_notify
    EXPECT_EQ(co_await wait_for(reader.read(), kBound), "");
    EXPECT_TRUE(reader.at_eof());
  };
  aio::run(main_());
}

TEST(SSLClient, OurCloseSendsCloseNotify) {
  OpensslServer peer("good", {"-naccept", "1"});  // prints what it gets, and how it ends
  auto main_ = [&]() -> Coro<> {
    StreamReader out = peer.child.stdout_reader();
    auto [reader, writer] =
        co_await wait_for(open_connection("127.0.0.1", peer.port, {.ssl = client_context()}), kBound);
    writer.write("before close\n");
    EXPECT_TRUE(co_await wait_for(read_until_line(out, "before close"), kBound));
    writer.close();
    co_await wait_for(writer.wait_closed(), kBound);
    // s_server says DONE on a close_notify (and ERROR on a bare EOF).
    std::string rest = co_await wait_for(out.read(), kBound);
    EXPECT_TRUE(contains(rest, "DONE")) << rest;
    EXPECT_FALSE(contains(rest, "ERROR")) << rest;
  };
  aio::run(main_());
}

TEST(SSLClient, KeyUpdateAnsweredWhileReading) {
  OpensslServer peer("good", {"-naccept", "1"});
  auto main_ = [&]() -> Coro<> {
    StreamReader out = peer.child.stdout_reader();
    auto [reader, writer] =
        co_await wait_for(open_connection("127.0.0.1", peer.port, {.ssl = client_context()}), kBound);
    writer.write("ping\n");
    EXPECT_TRUE(co_await wait_for(read_until_line(out, "ping"), kBound));
    peer.child.send("K\n");  // a KeyUpdate that asks for ours
    // s_server reports it ("SSL_do_handshake -> 1") with its next output: ping until
    // the report shows, so that the next line on its stdin is not taken with the K.
    bool updated = false;
    for (int i = 0; i < 50 && !updated; ++i) {
      writer.write("ping " + std::to_string(i) + "\n");
      for (;;) {
        std::string line = co_await wait_for(out.readline(), kBound);
        if (line.empty()) break;
        if (contains(line, "SSL_do_handshake -> 1")) updated = true;
        if (contains(line, "ping " + std::to_string(i))) break;
      }
    }
    CO_ASSERT_TRUE(updated);
    peer.child.send("after the update\n");
    EXPECT_EQ(co_await wait_for(reader.readline(), kBound), "after the update\n");
    // Our answer went out while we read; the server reads us with the new keys.
    writer.write("pong\n");
    EXPECT_TRUE(co_await wait_for(read_until_line(out, "pong"), kBound));
  };
  aio::run(main_());
}

TEST(SSLClient, RenegotiationWhileReadingOnTls12) {
  OpensslServer peer("good", {"-naccept", "1", "-tls1_2"});
  auto main_ = [&]() -> Coro<> {
    StreamReader out = peer.child.stdout_reader();
    auto [reader, writer] =
        co_await wait_for(open_connection("127.0.0.1", peer.port, {.ssl = client_context()}), kBound);
    EXPECT_EQ(writer.ssl_version(), "TLSv1.2");
    writer.write("ping\n");
    EXPECT_TRUE(co_await wait_for(read_until_line(out, "ping"), kBound));
    peer.child.send("r\n");  // the server renegotiates; it needs our answers to go on
    Task<std::string> line = create_task(reader.readline());
    EXPECT_TRUE(co_await wait_for(read_until_line(out, "SSL_do_handshake -> 1"), kBound));
    peer.child.send("renegotiated\n");
    EXPECT_EQ(co_await wait_for(line, kBound), "renegotiated\n");
    writer.write("pong\n");
    EXPECT_TRUE(co_await wait_for(read_until_line(out, "pong"), kBound));
    // It did renegotiate: s_server counts it in the statistics it prints at the end.
    writer.close();
    co_await wait_for(writer.wait_closed(), kBound);
    long renegotiations = -1;
    for (;;) {
      std::string stat = co_await wait_for(out.readline(), kBound);
      if (stat.empty()) break;
      if (contains(stat, "server renegotiates")) renegotiations = std::stol(stat);
    }
    EXPECT_GT(renegotiations, 0);
  };
  aio::run(main_());
}

TEST(SSLClient, HandshakeTimeoutAgainstAServerThatNeverAnswers) {
  auto main_ = []() -> Coro<> {
    // A plain TCP server that reads the ClientHello and says nothing.
    auto silent = [](StreamReader reader, StreamWriter) -> Coro<void> { (void)co_await reader.read(); };
    Server server = co_await start_server(silent, "127.0.0.1", 0);
    const auto start = std::chrono::steady_clock::now();
    try {
      (void)co_await wait_for(
          open_connection("127.0.0.1", server.port(), {.ssl = client_context(), .ssl_handshake_timeout = 0.2}),
          kBound);
      ADD_FAILURE() << "connected";
    } catch (const ConnectionAbortedError& e) {
      EXPECT_TRUE(contains(e.what(), "SSL handshake is taking longer than 0.2 seconds: aborting the connection"))
          << e.what();
    }
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_GE(took, 0.19);
    EXPECT_LT(took, 5.0);
    server.close();
    server.close_clients();
    co_await wait_for(server.wait_closed(), kBound);
  };
  aio::run(main_());
}

// --- aio server

TEST(SSLServer, EchoesToOpensslClientAndClosesWithCloseNotify) {
  auto main_ = []() -> Coro<> {
    auto handler = [](StreamReader reader, StreamWriter writer) -> Coro<void> {
      std::string line = co_await reader.readline();
      writer.write("echo: " + line);
      co_await writer.drain();
      writer.close();  // close_notify: s_client ends cleanly
    };
    Server server = co_await start_server(handler, "127.0.0.1", 0, {.ssl = server_context()});
    std::string out = co_await wait_for(run_s_client(server.port(), "hello\\n"), kBound);
    EXPECT_TRUE(contains(out, "echo: hello\n")) << out;
    EXPECT_TRUE(contains(out, "verify return:1")) << out;
    EXPECT_FALSE(contains(out, "unexpected eof")) << out;
    EXPECT_FALSE(contains(out, "error")) << out;
    server.close();
    co_await wait_for(server.wait_closed(), kBound);
  };
  aio::run(main_());
}

TEST(SSLServer, APlainTextClientIsReportedAndTheServerKeepsServing) {
  auto main_ = []() -> Coro<> {
    std::vector<ExceptionContext> reported;
    get_running_loop().set_exception_handler(
        [&reported](EventLoop&, const ExceptionContext& ctx) { reported.push_back(ctx); });
    Server server = co_await start_server(echo, "127.0.0.1", 0, {.ssl = server_context()});
    {
      auto [reader, writer] = co_await wait_for(open_connection("127.0.0.1", server.port()), kBound);
      writer.write("this is not a ClientHello\r\n\r\n");
      try {
        std::string got = co_await wait_for(reader.read(), kBound);
        (void)got;  // an alert, or nothing
        while (!(co_await wait_for(reader.read(), kBound)).empty()) {
        }
      } catch (const ConnectionResetError&) {
        // the server aborted the connection
      }
    }
    for (int i = 0; i < 200 && reported.empty(); ++i) co_await sleep(0.01);
    CO_ASSERT_TRUE(reported.size() == 1u);
    EXPECT_EQ(reported[0].message, "SSL handshake failed");
    try {
      std::rethrow_exception(reported[0].exception);
    } catch (const SSLError& e) {
      EXPECT_TRUE(contains(e.what(), "[SSL: ")) << e.what();
    } catch (...) {
      ADD_FAILURE() << exception_repr(std::current_exception());
    }
    // The next client is served.
    auto [reader, writer] =
        co_await wait_for(open_connection("127.0.0.1", server.port(), {.ssl = client_context()}), kBound);
    writer.write("still here\n");
    EXPECT_EQ(co_await wait_for(reader.readline(), kBound), "still here\n");
    writer.close();
    co_await wait_for(writer.wait_closed(), kBound);
    server.close();
    co_await wait_for(server.wait_closed(), kBound);
  };
  aio::run(main_());
}

TEST(SSLServer, AioBothEndsWithAlpnAndAClientCertificate) {
  auto main_ = []() -> Coro<> {
    SSLContext sctx = server_context();
    sctx.load_verify_locations(certs()("ca.pem"));
    sctx.set_verify_mode(CERT_REQUIRED);
    sctx.set_alpn_protocols({"h2", "http/1.1"});
    std::string seen_client, seen_alpn;
    auto handler = [&](StreamReader reader, StreamWriter writer) -> Coro<void> {
      if (auto c = writer.peercert()) seen_client = c->subject;
      seen_alpn = writer.selected_alpn_protocol();
      co_await echo(reader, writer);
    };
    Server server = co_await start_server(handler, "127.0.0.1", 0, {.ssl = sctx});
    SSLContext cctx = client_context();
    cctx.load_cert_chain(certs()("client.pem"), certs()("client.key"));
    cctx.set_alpn_protocols({"http/1.1", "spdy/1"});
    auto [reader, writer] = co_await wait_for(
        open_connection("localhost", server.port(), {.family = AF_INET, .ssl = cctx}), kBound);
    EXPECT_EQ(writer.selected_alpn_protocol(), "http/1.1");
    writer.write("with a certificate\n");
    EXPECT_EQ(co_await wait_for(reader.readline(), kBound), "with a certificate\n");
    EXPECT_EQ(seen_client, "CN=aio client");
    EXPECT_EQ(seen_alpn, "http/1.1");
    writer.close();
    co_await wait_for(writer.wait_closed(), kBound);

    // Without a client certificate the server refuses (TLS 1.3: the client learns it
    // from the alert that follows its handshake) and says why.
    std::vector<ExceptionContext> reported;
    get_running_loop().set_exception_handler(
        [&reported](EventLoop&, const ExceptionContext& ctx) { reported.push_back(ctx); });
    auto [r2, w2] = co_await wait_for(open_connection("127.0.0.1", server.port(), {.ssl = client_context()}), kBound);
    EXPECT_THROW((void)co_await wait_for(r2.read(), kBound), SSLError);
    for (int i = 0; i < 200 && reported.empty(); ++i) co_await sleep(0.01);
    CO_ASSERT_TRUE(reported.size() == 1u);
    EXPECT_EQ(reported[0].message, "SSL handshake failed");
    EXPECT_TRUE(contains(exception_str(reported[0].exception), "certificate")) << exception_str(reported[0].exception);
    server.close();
    co_await wait_for(server.wait_closed(), kBound);
  };
  aio::run(main_());
}

TEST(SSLServer, LargeTransfersBothWaysWithDrain) {
  auto main_ = []() -> Coro<> {
    constexpr std::size_t kSize = 4 * 1024 * 1024;
    std::string data(kSize, '\0');
    for (std::size_t i = 0; i < kSize; ++i) data[i] = static_cast<char>('a' + i % 23);
    auto handler = [&data](StreamReader reader, StreamWriter writer) -> Coro<void> {
      std::string got = co_await reader.readexactly(kSize);
      EXPECT_TRUE(got == data);
      for (std::size_t off = 0; off < kSize; off += 100000) {
        writer.write(std::string_view(data).substr(off, 100000));
        co_await writer.drain();
      }
      writer.close();
    };
    Server server = co_await start_server(handler, "127.0.0.1", 0, {.ssl = server_context()});
    auto [reader, writer] =
        co_await wait_for(open_connection("127.0.0.1", server.port(), {.ssl = client_context()}), kBound);
    std::size_t max_buffered = 0;
    for (std::size_t off = 0; off < kSize; off += 65536) {
      writer.write(std::string_view(data).substr(off, 65536));
      max_buffered = std::max(max_buffered, writer.get_write_buffer_size());
      co_await wait_for(writer.drain(), kBound);
    }
    EXPECT_GT(max_buffered, 0u);  // the kernel did not take it all at once: buffering was exercised
    std::string back = co_await wait_for(reader.read(), kBound);
    while (back.size() < kSize) {
      std::string more = co_await wait_for(reader.read(), kBound);
      if (more.empty()) break;
      back += more;
    }
    EXPECT_EQ(back.size(), kSize);
    EXPECT_TRUE(back == data);
    EXPECT_EQ(co_await wait_for(reader.read(), kBound), "");  // the server's close_notify
    writer.close();
    co_await wait_for(writer.wait_closed(), kBound);
    server.close();
    co_await wait_for(server.wait_closed(), kBound);
  };
  aio::run(main_());
}

TEST(SSLServer, CloseGivesUpAfterTheShutdownTimeoutWhenThePeerReadsNothing) {
  auto main_ = []() -> Coro<> {
    Future<double> closed_after = get_running_loop().create_future<double>();
    auto handler = [&closed_after](StreamReader, StreamWriter writer) -> Coro<void> {
      writer.write(std::string(16 * 1024 * 1024, 'z'));  // more than the socket buffers hold
      const auto start = std::chrono::steady_clock::now();
      writer.close();  // the close_notify waits behind it
      co_await writer.wait_closed();
      closed_after.set_result(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    };
    Server server = co_await start_server(handler, "127.0.0.1", 0, {.ssl = server_context(), .ssl_shutdown_timeout = 0.2});
    auto [reader, writer] =
        co_await wait_for(open_connection("127.0.0.1", server.port(), {.ssl = client_context()}), kBound);
    const double took = co_await wait_for(closed_after, kBound);  // we read nothing meanwhile
    EXPECT_GE(took, 0.19);
    EXPECT_LT(took, 5.0);
    server.close();
    co_await wait_for(server.wait_closed(), kBound);
  };
  aio::run(main_());
}

TEST(SSLServer, AClientThatClosesWithoutReadingLosesNothing) {
  // TLS 1.3 servers send session tickets after the handshake: a client that never
  // reads has them unread when it closes, and a close with unread bytes would reset
  // the connection (and drop what was still to go) if they were left there. The close
  // waits for the server's close_notify, reading what comes before it.
  auto main_ = []() -> Coro<> {
    constexpr std::size_t kSize = 1024 * 1024;
    Future<std::size_t> got = get_running_loop().create_future<std::size_t>();
    auto handler = [&got](StreamReader reader, StreamWriter) -> Coro<void> {
      std::size_t n = 0;
      try {
        for (;;) {
          std::string chunk = co_await reader.read(65536);
          if (chunk.empty()) break;
          n += chunk.size();
        }
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
      }
      got.set_result(n);
    };
    Server server = co_await start_server(handler, "127.0.0.1", 0, {.ssl = server_context()});
    for (int round = 0; round < 5; ++round) {
      auto [reader, writer] =
          co_await wait_for(open_connection("127.0.0.1", server.port(), {.ssl = client_context()}), kBound);
      if (round % 2 == 0) co_await sleep(0.02);  // the tickets come before the close, or after it
      writer.write(std::string(kSize, 'q'));
      writer.close();
      co_await wait_for(writer.wait_closed(), kBound);
      EXPECT_EQ(co_await wait_for(got, kBound), kSize);
      got = get_running_loop().create_future<std::size_t>();
    }
    server.close();
    co_await wait_for(server.wait_closed(), kBound);
  };
  aio::run(main_());
}

// --- resets under TLS: the peer closes with SO_LINGER {1, 0}, an RST and no close_notify

// The error of a connection the peer reset: ConnectionResetError (BrokenPipeError
// when the kernel had told it once already), naming the peer and what failed.
void expect_reset(const std::exception_ptr& e, const std::string& peer, const std::string& call) {
  ASSERT_TRUE(e != nullptr);
  try {
    std::rethrow_exception(e);
  } catch (const ConnectionResetError& x) {
    EXPECT_EQ(x.code().value(), ECONNRESET);
    EXPECT_TRUE(contains(x.what(), call + " " + peer)) << x.what();
  } catch (const BrokenPipeError& x) {
    EXPECT_EQ(x.code().value(), EPIPE);
    EXPECT_TRUE(contains(x.what(), call + " " + peer)) << x.what();
  } catch (...) {
    ADD_FAILURE() << exception_repr(std::current_exception());
  }
}

// Serves one line back on the next connection: the server outlived the reset one.
Coro<void> expect_served(int port) {
  auto [reader, writer] = co_await wait_for(open_connection("127.0.0.1", port, {.ssl = client_context()}), kBound);
  writer.write("after the reset\n");
  EXPECT_EQ(co_await wait_for(reader.readline(), kBound), "after the reset\n");
  writer.close();
  co_await wait_for(writer.wait_closed(), kBound);
}

TEST(SSLServer, APeerThatResetsDuringALargeWriteFailsTheDrainAndTheServerGoesOn) {
  auto main_ = []() -> Coro<> {
    std::vector<std::string> reported;
    get_running_loop().set_exception_handler(
        [&reported](EventLoop&, const ExceptionContext& ctx) { reported.push_back(ctx.message); });
    // The buffers on the way hold a few hundred KiB (the client's receive buffer and
    // our send buffer are small): once the client stops reading, the first drain
    // waits for good.
    constexpr std::size_t kSize = 8 * 1024 * 1024;
    constexpr std::size_t kChunk = 1024 * 1024;
    int connections = 0;
    std::size_t written = 0;
    bool draining = false;
    std::optional<StreamWriter> first;
    std::exception_ptr failed;
    std::string peer;
    Event done;
    auto handler = [&](StreamReader reader, StreamWriter writer) -> Coro<void> {
      if (++connections > 1) {
        co_await echo(reader, writer);
        co_return;
      }
      first = writer;
      peer = writer.peername().str();
      const int small = 64 * 1024;
      ::setsockopt(writer.fileno(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
      const std::string chunk(kChunk, 'r');
      try {
        while (written < kSize) {
          writer.write(chunk);
          written += kChunk;
          draining = true;
          co_await writer.drain();
          draining = false;
        }
      } catch (const std::exception&) {
        failed = std::current_exception();
      }
      done.set();
    };
    Server server = co_await start_server(handler, "127.0.0.1", 0, {.ssl = server_context()});
    test::ResettingClient client = co_await test::ResettingClient::start(server.port(), certs()("ca.pem"), "read");
    EXPECT_EQ(co_await client.report(), "read 65536\n");
    CO_ASSERT_TRUE(first.has_value());
    EXPECT_TRUE(draining);  // our only suspension point: the drain waits, the reset comes
    EXPECT_GT(first->get_write_buffer_size(), 64u * 1024);
    EXPECT_FALSE(done.is_set());
    EXPECT_EQ(co_await client.reset(), 0);
    co_await wait_for(done.wait(), kBound);
    EXPECT_EQ(written, kChunk);
    expect_reset(failed, peer, "send to");
    EXPECT_EQ(first->get_write_buffer_size(), 0u);  // the buffer went with the connection
    first->write("dropped");  // as asyncio: a write to a lost connection goes nowhere
    EXPECT_THROW(co_await first->drain(), ConnectionResetError);  // and drain says why again
    first.reset();
    co_await expect_served(server.port());
    EXPECT_EQ(connections, 2);
    EXPECT_EQ(reported, std::vector<std::string>());
    server.close();
    co_await wait_for(server.wait_closed(), kBound);
  };
  aio::run(main_());
}

// As asyncio: a reset while a read waits is ConnectionResetError (not an EOF, and not
// IncompleteReadError even with a part of what readexactly wants in the buffer), and
// every later read raises it again.
TEST(SSLServer, AResetWhileReadingRaisesConnectionResetErrorOnBothSides) {
  auto main_ = []() -> Coro<> {
    std::vector<std::string> reported;
    get_running_loop().set_exception_handler(
        [&reported](EventLoop&, const ExceptionContext& ctx) { reported.push_back(ctx.message); });
    // The server side, in readexactly, reset by the python3 client.
    std::string peer, hello;
    std::optional<StreamReader> waiting;
    std::exception_ptr failed, again;
    Event done;
    auto waits = [&](StreamReader reader, StreamWriter writer) -> Coro<void> {
      peer = writer.peername().str();
      hello = co_await reader.readline();
      waiting = reader;
      writer.write("ready\n");
      co_await writer.drain();
      try {
        (void)co_await reader.readexactly(1024 * 1024);
        ADD_FAILURE() << "readexactly returned";
      } catch (const std::exception&) {
        failed = std::current_exception();
      }
      try {
        (void)co_await reader.read(100);
      } catch (const std::exception&) {
        again = std::current_exception();
      }
      done.set();
    };
    Server server = co_await start_server(waits, "127.0.0.1", 0, {.ssl = server_context()});
    test::ResettingClient client = co_await test::ResettingClient::start(server.port(), certs()("ca.pem"), "write");
    EXPECT_EQ(co_await client.report(), "sent\n");
    CO_ASSERT_TRUE(waiting.has_value());
    for (int i = 0; i < 20000 && waiting->buffered().size() < 12; ++i) co_await sleep(0.001);  // bounds a hang only
    EXPECT_EQ(waiting->buffered(), "a part of it");  // readexactly has it, and waits for more
    EXPECT_FALSE(done.is_set());
    EXPECT_EQ(co_await client.reset(), 0);
    co_await wait_for(done.wait(), kBound);
    EXPECT_EQ(hello, "hello\n");
    expect_reset(failed, peer, "recv from");
    EXPECT_TRUE(holds<ConnectionResetError>(again)) << exception_repr(again);  // buffered bytes or not
    EXPECT_TRUE(holds<ConnectionResetError>(waiting->exception())) << exception_repr(waiting->exception());
    waiting.reset();
    server.close();
    co_await wait_for(server.wait_closed(), kBound);

    // The client side, in read, reset by an aio server that aborts with SO_LINGER {1, 0}.
    int accepted_fd = -1;
    int connections = 0;
    Event sent;
    auto answers = [&](StreamReader reader, StreamWriter writer) -> Coro<void> {
      if (++connections > 1) {
        co_await echo(reader, writer);
        co_return;
      }
      (void)co_await reader.readline();
      accepted_fd = writer.fileno();
      writer.write("some\n");
      co_await writer.drain();
      sent.set();
      try {
        (void)co_await reader.read();  // until the abort
      } catch (const std::exception&) {
      }
    };
    Server resetting = co_await start_server(answers, "127.0.0.1", 0, {.ssl = server_context()});
    auto [reader, writer] =
        co_await wait_for(open_connection("127.0.0.1", resetting.port(), {.ssl = client_context()}), kBound);
    writer.write("go\n");
    EXPECT_EQ(co_await wait_for(reader.readline(), kBound), "some\n");
    co_await wait_for(sent.wait(), kBound);
    Task<std::string> reading = create_task(reader.read(65536));
    for (int i = 0; i < 5; ++i) co_await sleep(0);  // it starts, finds nothing, and waits
    CO_ASSERT_TRUE(!reading.done());
    linger lg{1, 0};
    CO_ASSERT_TRUE(::setsockopt(accepted_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
    resetting.abort_clients();  // closed at once: the RST
    std::exception_ptr client_failed;
    try {
      (void)co_await wait_for(reading, kBound);
      ADD_FAILURE() << "read returned";
    } catch (const std::exception&) {
      client_failed = std::current_exception();
    }
    const SockAddr server_addr("127.0.0.1", resetting.port());
    expect_reset(client_failed, server_addr.str(), "recv from");
    EXPECT_TRUE(holds<ConnectionResetError>(reader.exception())) << exception_repr(reader.exception());
    EXPECT_THROW((void)co_await reader.readline(), ConnectionResetError);
    co_await expect_served(resetting.port());
    EXPECT_EQ(reported, std::vector<std::string>());
    resetting.close();
    co_await wait_for(resetting.wait_closed(), kBound);
  };
  aio::run(main_());
}

TEST(SSLServer, StartTlsUpgradesAPlainConnectionInPlace) {
  auto main_ = []() -> Coro<> {
    auto handler = [](StreamReader reader, StreamWriter writer) -> Coro<void> {
      EXPECT_EQ(co_await reader.readline(), "STARTTLS\n");
      writer.write("OK\n");
      co_await writer.start_tls(server_context());  // the server side, as start_server accepted it
      EXPECT_TRUE(writer.is_tls());
      co_await echo(reader, writer);
    };
    Server server = co_await start_server(handler, "127.0.0.1", 0);
    auto [reader, writer] = co_await wait_for(open_connection("127.0.0.1", server.port()), kBound);
    writer.write("STARTTLS\n");
    EXPECT_EQ(co_await wait_for(reader.readline(), kBound), "OK\n");
    EXPECT_FALSE(writer.is_tls());
    EXPECT_EQ(writer.ssl_version(), "");
    EXPECT_FALSE(writer.peercert().has_value());
    co_await wait_for(writer.start_tls(client_context(), "localhost"), kBound);
    EXPECT_TRUE(writer.is_tls());
    EXPECT_EQ(writer.peercert()->subject, "CN=localhost");
    writer.write("now encrypted\n");
    EXPECT_EQ(co_await wait_for(reader.readline(), kBound), "now encrypted\n");
    EXPECT_THROW(co_await writer.start_tls(client_context(), "localhost"), RuntimeError);
    writer.close();
    co_await wait_for(writer.wait_closed(), kBound);
    server.close();
    co_await wait_for(server.wait_closed(), kBound);
  };
  aio::run(main_());
}

TEST(SSLServer, OverUnixSockets) {
  auto main_ = []() -> Coro<> {
    const std::string path = certs().dir() + "/tls.sock";
    Server server = co_await start_unix_server(echo, path, {.ssl = server_context()});
    EXPECT_THROW((void)co_await open_unix_connection(path, {.ssl = client_context()}), ValueError);
    auto [reader, writer] = co_await wait_for(
        open_unix_connection(path, {.ssl = client_context(), .server_hostname = "localhost"}), kBound);
    writer.write("over unix\n");
    EXPECT_EQ(co_await wait_for(reader.readline(), kBound), "over unix\n");
    writer.close();
    co_await wait_for(writer.wait_closed(), kBound);
    server.close();
    co_await wait_for(server.wait_closed(), kBound);
  };
  aio::run(main_());
}

// --- accepting

// The listening descriptor of a server on 127.0.0.1:port (servers do not show it).
int listener_fd(int port) {
  for (int fd = 3; fd < 4096; ++fd) {
    int listening = 0;
    socklen_t len = sizeof listening;
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || listening == 0) continue;
    sockaddr_in sin{};
    socklen_t sl = sizeof sin;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &sl) == 0 && sin.sin_family == AF_INET &&
        ntohs(sin.sin_port) == port) {
      return fd;
    }
  }
  return -1;
}

TEST(Server, AnAcceptErrorIsReportedAndAcceptingGoesOnWithoutSpinning) {
  auto main_ = []() -> Coro<> {
    std::vector<ExceptionContext> reported;
    get_running_loop().set_exception_handler(
        [&reported](EventLoop&, const ExceptionContext& ctx) { reported.push_back(ctx); });
    Server server = co_await start_server(echo, "127.0.0.1", 0);
    const int fd = listener_fd(server.port());
    CO_ASSERT_TRUE(fd >= 0);
    // A listener shut down for reading fails every accept (EINVAL).
    CO_ASSERT_TRUE(::shutdown(fd, SHUT_RD) == 0);
    for (int i = 0; i < 300 && reported.size() < 2; ++i) co_await sleep(0.01);
    CO_ASSERT_TRUE(reported.size() >= 2u);
    EXPECT_EQ(reported[0].message, "Error on accepting a connection");
    try {
      std::rethrow_exception(reported[0].exception);
    } catch (const OSError& e) {
      EXPECT_EQ(e.errno_(), EINVAL);
    }
    EXPECT_TRUE(server.is_serving());
    // Failing again and again, it retries once a second, not in a loop.
    const std::size_t before = reported.size();
    co_await sleep(0.5);
    EXPECT_LE(reported.size(), before + 1);
    server.close();
    co_await wait_for(server.wait_closed(), kBound);
  };
  aio::run(main_());
}

}  // namespace
}  // namespace aio
