// Guide, "Transports and protocols", pipes: a child's output read through
// connect_read_pipe with a Protocol.
// test: stdout one
// test: stdout two
// test: stderr-empty
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include <aio/aio.hpp>

// [snippet]
struct Collect : aio::Protocol {
  explicit Collect(aio::Future<void> d) : done(std::move(d)) {}
  aio::Future<void> done;
  std::string text;
  void data_received(std::string_view data) override { text += data; }
  bool eof_received() override {  // the last writer closed
    std::fputs(text.c_str(), stdout);
    return false;
  }
  void connection_lost(std::exception_ptr) override { done.set_result(); }
};

aio::Coro<> main_() {
  aio::EventLoop& loop = aio::get_running_loop();
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
  aio::Process proc =
      co_await aio::create_subprocess_exec("printf", "one\\ntwo\\n", aio::SubprocessOptions{.stdout = fds[1]});
  ::close(fds[1]);  // the child holds the only writer

  aio::Future<void> done = loop.create_future();
  auto [transport, protocol] =  // the transport owns fds[0] now, and closes it
      co_await aio::connect_read_pipe(loop, [&] { return std::make_shared<Collect>(done); }, fds[0]);
  co_await aio::wait_for(done, 5);  // bounded
  co_await proc.wait();
}
// [/snippet]

int main() { aio::run(main_()); }
