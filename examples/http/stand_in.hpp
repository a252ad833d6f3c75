// examples/http/stand_in.hpp: running the local services (local_services.hpp) for a
// program, and the blocking client that the seeds' `requests.get` stands for.
//
//   auto services = co_await stand_in::Services::start(latency);  // in this loop
//   std::string url = services->url("/data/2.5/weather?q=London");
//   ...
//   co_await services->close();
//
//   stand_in::ServicesThread services(latency);  // on a thread and loop of its own,
//   std::string body = stand_in::blocking_get(services.url("/"));  // so blocking calls
//                                                                    // cannot stall it
#pragma once

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

#include "aio/aio.hpp"
#include "aio/http.hpp"
#include "local_services.hpp"

namespace stand_in {

namespace web = aio::http::web;

/// The local services on 127.0.0.1 (a free port), served by the running loop.
class Services {
 public:
  static aio::Coro<std::unique_ptr<Services>> start(double latency) {
    std::unique_ptr<Services> s(new Services(latency));
    co_await s->runner_.setup();
    co_await s->site_.start();
    co_return s;
  }
  int port() const { return site_.port(); }
  /// "http://127.0.0.1:PORT" + path.
  std::string url(std::string_view path = "/") const {
    return "http://127.0.0.1:" + std::to_string(port()) + std::string(path);
  }
  aio::Coro<> close() { co_await runner_.cleanup(); }

 private:
  explicit Services(double latency) : runner_(app_, {.access_log = nullptr}), site_(runner_, "127.0.0.1", 0) {
    local_services::add_routes(app_, {.latency = latency});
  }

  web::Application app_;
  web::AppRunner runner_;
  web::TCPSite site_;
};

/// The local services on a thread and an event loop of their own, for programs that
/// make blocking calls (which would stall a service on their own loop).
class ServicesThread {
 public:
  explicit ServicesThread(double latency) {
    thread_ = std::thread([this, latency] { aio::run(serve(latency)); });
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [this] { return port_ != 0 || failed_; });
    if (failed_) {
      lock.unlock();
      thread_.join();
      throw std::runtime_error("the local services did not start");
    }
  }
  ~ServicesThread() {
    loop_->call_soon_threadsafe([this] { stop_->set_result(); });
    thread_.join();
  }
  ServicesThread(const ServicesThread&) = delete;
  ServicesThread& operator=(const ServicesThread&) = delete;

  std::string url(std::string_view path = "/") const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }

 private:
  aio::Coro<> serve(double latency) {
    try {
      std::unique_ptr<Services> services = co_await Services::start(latency);
      aio::Future<void> stop = aio::get_running_loop().create_future();
      {
        std::lock_guard lock(mutex_);
        loop_ = &aio::get_running_loop();
        stop_ = &stop;
        port_ = services->port();
      }
      ready_.notify_all();
      co_await stop;
      co_await services->close();
    } catch (...) {
      {
        std::lock_guard lock(mutex_);
        failed_ = true;
      }
      ready_.notify_all();
    }
  }

  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable ready_;
  aio::EventLoop* loop_ = nullptr;
  aio::Future<void>* stop_ = nullptr;
  int port_ = 0;
  bool failed_ = false;
};

/// What a blocking `requests.get(url)` does: connect, send, wait for the whole
/// response (framed by aio's HTTP parser), on the caller's thread. Returns the body;
/// `status` receives the status code. Throws std::runtime_error naming the URL.
inline std::string blocking_get(const std::string& url_text, int* status = nullptr) {
  const aio::http::URL url(url_text);
  const std::string host = url.host().value_or("127.0.0.1");
  const std::string port = std::to_string(url.port().value_or(80));
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    throw std::runtime_error(host + ":" + port + ": " + ::gai_strerror(rc));
  }
  int fd = -1;
  int err = 0;
  for (addrinfo* a = res; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd >= 0 && ::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      err = errno;
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(res);
  if (fd < 0) throw std::runtime_error("cannot connect to " + host + ":" + port + ": " + std::strerror(err));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  const std::string request =
      "GET " + url.raw_path_qs() + " HTTP/1.1\r\nHost: " + host + ":" + port + "\r\nConnection: close\r\n\r\n";
  for (std::size_t sent = 0; sent < request.size();) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error("send to " + host + ":" + port + ": " + std::strerror(errno));
    sent += static_cast<std::size_t>(n);
  }
  std::string in, body;
  aio::http::MessageHead head;
  std::optional<aio::http::BodyDecoder> decoder;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::runtime_error("recv from " + host + ":" + port + ": " + std::strerror(errno));
    in.append(buf, static_cast<std::size_t>(n));
    if (!decoder) {
      const std::size_t head_size = aio::http::parse_response_head(in, head, "GET");
      if (head_size > 0) {
        if (status != nullptr) *status = head.status;
        decoder.emplace(head);
        in.erase(0, head_size);
      }
    }
    if (decoder) {
      for (;;) {
        const auto step = decoder->feed(in);
        body.append(step.data);
        in.erase(0, step.consumed);
        if (step.done || step.consumed == 0) break;
      }
      if (n == 0 && !decoder->done()) decoder->feed_eof();
      if (decoder->done()) return body;
    }
    if (n == 0) throw std::runtime_error(url_text + ": the server closed before the response was complete");
  }
}

}  // namespace stand_in
