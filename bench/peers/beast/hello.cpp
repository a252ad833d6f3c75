// hello PORT: the HTTP benchmark's server on Boost.Beast: one io_context run by one
// thread (BOOST_ASIO_CONCURRENCY_HINT_UNSAFE, no locking), Asio's asynchronous
// operations with completion handlers (Beast's own style), a session object per
// connection that reads a request (http::async_read into a flat_buffer, which keeps
// the bytes of pipelined requests for the next read), answers GET / with 200
// "Hello, World!" (text/plain) and anything else with 404, and reads the next one
// while the request allows keep-alive. Listens on 127.0.0.1:PORT, prints
// "listening port=PORT" when ready and runs until killed.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <utility>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  explicit Session(tcp::socket sock) : sock_(std::move(sock)) {}

  void read() {
    req_ = {};
    http::async_read(sock_, buf_, req_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->close();  // EOF, or a request Beast cannot parse
      self->answer();
    });
  }

 private:
  void answer() {
    res_ = {};
    res_.version(req_.version());
    res_.keep_alive(req_.keep_alive());
    res_.set(http::field::server, "beast");
    res_.set(http::field::content_type, "text/plain");
    if (req_.method() == http::verb::get && req_.target() == "/") {
      res_.result(http::status::ok);
      res_.body() = "Hello, World!";
    } else {
      res_.result(http::status::not_found);
      res_.body() = "Not Found";
    }
    res_.prepare_payload();
    http::async_write(sock_, res_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec || !self->res_.keep_alive()) return self->close();
      self->read();
    });
  }

  void close() {
    beast::error_code ec;
    sock_.shutdown(tcp::socket::shutdown_send, ec);
    sock_.close(ec);
  }

  tcp::socket sock_;
  beast::flat_buffer buf_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
};

void accept(tcp::acceptor& acceptor) {
  acceptor.async_accept([&acceptor](beast::error_code ec, tcp::socket sock) {
    if (!ec) {
      sock.set_option(tcp::no_delay(true), ec);
      std::make_shared<Session>(std::move(sock))->read();
    }
    accept(acceptor);
  });
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s PORT\n", argv[0]);
    return 2;
  }
  asio::io_context io(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE);
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(std::atoi(argv[1]))));
  std::printf("listening port=%s\n", argv[1]);
  std::fflush(stdout);
  accept(acceptor);
  io.run();
  return 0;
}
