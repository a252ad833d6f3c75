// The server's connection protocol (web_protocol.cpp), shared with the runner
// (web_app.cpp). Not a public header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aio/events.hpp"
#include "aio/futures.hpp"
#include "aio/http/parser.hpp"
#include "aio/http/web.hpp"
#include "aio/streams.hpp"
#include "aio/tasks.hpp"

namespace aio::http::detail {

class WebConnection;

/// What every connection of one runner shares: the application, the options, the
/// connections open (for a graceful shutdown).
struct WebServer {
  WebServer(Application& a, RunnerOptions o) : app(a), options(std::move(o)) {}
  Application& app;
  RunnerOptions options;
  std::vector<WebConnection*> connections;
  std::vector<Server> servers;          // the sites' listening servers
  std::vector<std::string> addresses;   // their names
  bool shutting_down = false;
  /// Set when shutting down and the last connection goes.
  std::optional<Future<void>> all_closed;

  /// The start_server handler: serves one connection until it closes.
  static Coro<void> serve(std::shared_ptr<WebServer> self, StreamReader reader, StreamWriter writer);
  /// serve() as a start_server handler that does not keep the server alive.
  static Server::Handler handler(std::weak_ptr<WebServer> server);
  /// Graceful shutdown, first step: idle connections close now, busy ones after their
  /// current response.
  void close_idle();
  /// Cancels every connection still open (after shutdown_timeout).
  void cancel_all();
  void remove(WebConnection* c) noexcept;
};

/// One connection: reads heads in place, runs the handler, writes the response.
///
/// States (waiting_head_ / in_handler_): reading a head (the deadline timer may cancel
/// the task: keepalive_timeout when no byte of it came yet, else read_timeout from its
/// first byte), in the handler (the body is read on demand through pull_body), writing
/// (the response in out_, one write), then the next head or close.
class WebConnection {
 public:
  WebConnection(WebServer& server, StreamReader reader, StreamWriter writer);
  ~WebConnection();
  Coro<void> run();

  // For Request, BodyReader and StreamResponse.
  void start_body();
  Coro<bool> pull_body(std::string& dst);
  bool body_done() const noexcept { return body_done_; }
  Coro<void> prepare(StreamResponse& r);
  Coro<void> write_body(StreamResponse& r, std::string_view data);
  Coro<void> write_eof(StreamResponse& r);
  void close_idle();
  void cancel();

  WebServer& server_;
  StreamReader reader_;
  StreamWriter writer_;
  MessageHead head_;
  std::size_t head_size_ = 0;
  bool head_consumed_ = false;  // the head's bytes left the reader (then head_store_ holds them)
  std::string head_store_;
  std::optional<BodyDecoder> decoder_;
  bool body_done_ = true;
  std::uint64_t body_read_ = 0;
  bool continue_sent_ = false;
  bool keep_alive_ = true;
  bool started_ = false;  // the current response's head went out
  bool closing_ = false;
  bool tls_ = false;
  SockAddr peer_;
  std::string scheme_ = "http";
  Request request_;

 private:
  void arm_deadline(double deadline);
  void on_deadline();
  void build_head(StreamResponse& r, std::optional<std::uint64_t> length, bool chunked);
  void append_error(int status, std::string_view text);
  Coro<void> send_file(StreamResponse& r);
  void log_access(const StreamResponse& r, std::uint64_t size);
  void report(std::exception_ptr e);

  void flush_batch();

  std::string out_;  // the response being assembled (capacity reused)
  // Answers to pipelined requests not yet written (up to kBatchMax bytes); flush_soon_
  // writes them on the next iteration if nothing else did.
  static constexpr std::size_t kBatchMax = 16 * 1024;
  // The unread body skipped after an answer to keep the connection; past it, close.
  static constexpr std::uint64_t kSkipMax = 1024 * 1024;
  std::string batch_;
  Handle flush_soon_;
  bool flush_armed_ = false;
  Task<> task_;
  TimerHandle timer_;
  bool timer_armed_ = false;
  double deadline_ = 0;
  bool waiting_head_ = false;
  bool timed_out_ = false;
  bool in_handler_ = false;
  std::size_t served_ = 0;
  std::uint64_t sent_body_ = 0;  // body bytes of the current response, for the log
};

}  // namespace aio::http::detail
