// echo PORT: the echo benchmark's server on Boost.Asio with C++20 coroutines: one
// io_context run by one thread (BOOST_ASIO_CONCURRENCY_HINT_UNSAFE, no locking), an
// awaitable per connection that reads what is available (async_read_some), writes it
// all back (async_write) and closes after the client's EOF. Listens on
// 127.0.0.1:PORT and runs until killed.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

asio::awaitable<void> echo(tcp::socket sock) {
  std::array<char, 64 * 1024> buf;
  boost::system::error_code ec;
  for (;;) {
    const std::size_t n = co_await sock.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;  // EOF or an error
    co_await asio::async_write(sock, asio::buffer(buf.data(), n), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
  }
  sock.close(ec);
}

asio::awaitable<void> listen(tcp::acceptor acceptor) {
  for (;;) {
    tcp::socket sock = co_await acceptor.async_accept(asio::use_awaitable);
    sock.set_option(tcp::no_delay(true));
    asio::co_spawn(acceptor.get_executor(), echo(std::move(sock)), asio::detached);
  }
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
  asio::co_spawn(io, listen(std::move(acceptor)), asio::detached);
  io.run();
  return 0;
}
