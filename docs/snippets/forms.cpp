// Guide, "Forms and file uploads": a form with a file, sent by a ClientSession as
// FormData and read by the handler with post(); then an upload read part by part with
// multipart(), as a handler that writes files to disk would.
// test: stdout title=Report, report.csv (text/csv): 15 bytes
// test: stdout 2 parts, 100015 bytes
#include <cstdio>
#include <string>

#include <aio/aio.hpp>
#include <aio/http.hpp>

// [snippet]
namespace web = aio::http::web;

aio::Coro<web::StreamResponse> form(web::Request& request) {
  web::PostData data = co_await request.post();
  const web::FileField* file = data.file("report");  // its bytes are data["report"]
  co_return web::Response({.text = "title=" + data["title"] + ", " + file->filename + " (" + file->content_type +
                                   "): " + std::to_string(data["report"].size()) + " bytes"});
}

aio::Coro<web::StreamResponse> upload(web::Request& request) {
  web::MultipartReader reader = co_await request.multipart();
  std::size_t parts = 0, size = 0;
  while (web::BodyPartReader* part = co_await reader.next()) {
    ++parts;
    for (std::string chunk; !(chunk = co_await part->read_chunk()).empty();) size += chunk.size();
  }
  co_return web::Response({.text = std::to_string(parts) + " parts, " + std::to_string(size) + " bytes"});
}

aio::Coro<> main_() {
  web::Application app;
  app.add_routes({web::post("/form", form), web::post("/upload", upload)});
  web::AppRunner runner(app, {.access_log = nullptr});
  co_await runner.setup();
  web::TCPSite site(runner, "127.0.0.1", 0);
  co_await site.start();
  const std::string base = "http://127.0.0.1:" + std::to_string(site.port());

  aio::http::ClientSession session;
  aio::http::FormData data;
  data.add_field("title", "Report");
  data.add_field("report", "name,qty\npen,2\n", {.content_type = "text/csv", .filename = "report.csv"});
  {
    aio::http::ClientResponse resp = co_await session.post(base + "/form", {.form_data = data});
    std::puts((co_await resp.text()).c_str());
  }
  aio::http::FormData files;
  files.add_field("report", "name,qty\npen,2\n", {.filename = "report.csv"});
  files.add_field("big", std::string(100000, 'x'), {.filename = "big.bin"});
  {
    aio::http::ClientResponse resp = co_await session.post(base + "/upload", {.form_data = files});
    std::puts((co_await resp.text()).c_str());
  }
  co_await session.close();
  co_await runner.cleanup();
}
// [/snippet]

int main() { aio::run(main_()); }
