// nginx as a test peer: started as this (non-root) user with a config generated into a
// temporary directory (one worker, daemon off, pid, temp paths and logs inside it),
// listening on 127.0.0.1 at a free port (picked by binding a socket first; retried when
// another process takes it before nginx does), and stopped by its PID at the end.
//
// Locations: static files under /static/ (the `root` is dir()/www), gzip on for
// text/plain and application/json at any size, /chunked/ (the same files through SSI,
// which nginx sends chunked), redirects /r301 /r302 /r307 /r308 to /static/hello.txt,
// keep-alive (1000 requests per connection). With `tls`, a second listener speaks TLS
// with the given certificate and key (port tls_port()).
#pragma once

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/peer_process.hpp"

namespace aio::test {

class Nginx {
 public:
  struct Tls {
    std::string cert, key;
  };
  explicit Nginx(std::optional<Tls> tls = std::nullopt) {
    char tmpl[] = "/tmp/aio-nginx-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    ::mkdir((dir_ + "/www").c_str(), 0755);
    ::mkdir((dir_ + "/www/static").c_str(), 0755);
    ::mkdir((dir_ + "/tmp").c_str(), 0755);
    for (int attempt = 0; attempt < 10; ++attempt) {
      port_ = free_port();
      if (tls) tls_port_ = free_port();
      write_config(tls);
      const std::string conf = dir_ + "/nginx.conf";
      proc_ = std::make_unique<PeerProcess>(
          std::vector<std::string>{"/usr/sbin/nginx", "-p", dir_, "-c", conf, "-e", dir_ + "/error.log"}, true);
      if (wait_listening(port_) && (!tls || wait_listening(tls_port_))) return;
      proc_.reset();  // the port was taken first (or nginx failed): another one
    }
    throw std::runtime_error("nginx did not start; see " + dir_ + "/error.log");
  }
  ~Nginx() {
    proc_.reset();  // SIGKILL by its PID, and reaped
    (void)std::system(("rm -rf " + dir_).c_str());
  }
  Nginx(const Nginx&) = delete;
  Nginx& operator=(const Nginx&) = delete;

  int port() const noexcept { return port_; }
  int tls_port() const noexcept { return tls_port_; }
  const std::string& dir() const noexcept { return dir_; }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  /// Writes a file under the static root: /static/NAME.
  void put(const std::string& name, const std::string& content) const {
    std::ofstream(dir_ + "/www/static/" + name, std::ios::binary) << content;
  }

  static int free_port() {
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(s);
    return ntohs(a.sin_port);
  }

 private:
  void write_config(const std::optional<Tls>& tls) const {
    std::ofstream f(dir_ + "/nginx.conf");
    f << "worker_processes 1;\ndaemon off;\nmaster_process off;\npid " << dir_ << "/nginx.pid;\n"
      << "error_log " << dir_ << "/error.log;\nevents { worker_connections 1024; }\nhttp {\n"
      << "  access_log off;\n"
      << "  client_body_temp_path " << dir_ << "/tmp/body;\n  proxy_temp_path " << dir_ << "/tmp/proxy;\n"
      << "  fastcgi_temp_path " << dir_ << "/tmp/fastcgi;\n  uwsgi_temp_path " << dir_ << "/tmp/uwsgi;\n"
      << "  scgi_temp_path " << dir_ << "/tmp/scgi;\n"
      << "  types { text/plain txt; application/json json; text/html html; }\n"
      << "  default_type application/octet-stream;\n"
      << "  keepalive_requests 100000;\n  keepalive_timeout 60s;\n"
      << "  gzip on;\n  gzip_min_length 0;\n  gzip_types text/plain application/json;\n"
      << "  server {\n    listen 127.0.0.1:" << port_ << ";\n";
    if (tls) {
      f << "    listen 127.0.0.1:" << tls_port_ << " ssl;\n    ssl_certificate " << tls->cert
        << ";\n    ssl_certificate_key " << tls->key << ";\n";
    }
    f << "    root " << dir_ << "/www;\n"
      << "    location /static/ { }\n"
      << "    location /chunked/ { ssi on; ssi_types *; chunked_transfer_encoding on; alias " << dir_
      << "/www/static/; }\n"
      << "    location = /r301 { return 301 /static/hello.txt; }\n"
      << "    location = /r302 { return 302 /static/hello.txt; }\n"
      << "    location = /r307 { return 307 /static/hello.txt; }\n"
      << "    location = /r308 { return 308 /static/hello.txt; }\n"
      << "  }\n}\n";
  }

  // True once something accepts on 127.0.0.1:port and nginx is still running.
  bool wait_listening(int port) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (!proc_->running()) return false;  // exited (reaped)
      const int s = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(static_cast<std::uint16_t>(port));
      const bool ok = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
      ::close(s);
      if (ok) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  std::string dir_;
  int port_ = 0, tls_port_ = 0;
  std::unique_ptr<PeerProcess> proc_;
};

}  // namespace aio::test
