// Seed f.streams (000_77fea42500069c72.txt, lines 8706-8964): the section's snippets
// as one program: start_server with a handler, open_connection, and every reader and
// writer method it names (write, writelines, drain, read, read(n), readline,
// readexactly, readuntil, is_closing, close, wait_closed), against an echo server.
#include <cstdio>
#include <string>
#include <vector>

#include "aio/aio.hpp"

// Python's repr of a bytes object: b'hello\n'.
std::string bytes_repr(const std::string& b) {
  std::string out = "b'";
  for (const unsigned char c : b) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\\' || c == '\'') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "'";
}

// handle connections: echo every byte back, close after the client's end of file
aio::Coro<> handler(aio::StreamReader reader, aio::StreamWriter writer) {
  for (;;) {
    const std::string data = co_await reader.read(4096);
    if (data.empty()) break;
    writer.write(data);
    co_await writer.drain();
  }
  writer.close();
  co_await writer.wait_closed();
}

aio::Coro<> main_() {
  // start a tcp server (port 0: the system picks a free one)
  aio::Server server = co_await aio::start_server(handler, "127.0.0.1", 0);
  std::printf("serving: %s\n", server.is_serving() ? "True" : "False");
  // open a connection
  auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());
  // write byte data, and wait for it to be transmitted
  writer.write("hello\n");
  co_await writer.drain();
  // read a line of data
  std::printf("readline: %s\n", bytes_repr(co_await reader.readline()).c_str());
  // write lines of byte data
  const std::vector<std::string> byte_lines = {"one\n", "two\n", "three\n"};
  writer.writelines(byte_lines);
  co_await writer.drain();
  std::printf("readexactly(4): %s\n", bytes_repr(co_await reader.readexactly(4)).c_str());
  std::printf("readuntil(b'three'): %s\n", bytes_repr(co_await reader.readuntil("three")).c_str());
  std::printf("readline: %s\n", bytes_repr(co_await reader.readline()).c_str());
  // read up to n bytes
  writer.write(std::string(150, 'x'));
  co_await writer.drain();
  std::string first;
  while (first.size() < 100) first += co_await reader.read(100 - static_cast<long>(first.size()));
  std::printf("read(n=100): %zu bytes\n", first.size());
  // read until end of file: the server closes after ours
  writer.write_eof();
  const std::string rest = co_await reader.read();
  std::printf("read(): %zu bytes, at_eof: %s\n", rest.size(), reader.at_eof() ? "True" : "False");
  // readexactly at end of file raises IncompleteReadError with what came
  try {
    (void)co_await reader.readexactly(10);
  } catch (const aio::IncompleteReadError& e) {
    std::printf("IncompleteReadError: %s\n", e.what());
  }
  // check if the socket is closed or closing, close it, wait for it to close
  std::printf("is_closing: %s\n", writer.is_closing() ? "True" : "False");
  writer.close();
  std::printf("is_closing: %s\n", writer.is_closing() ? "True" : "False");
  co_await writer.wait_closed();
  server.close();
  co_await server.wait_closed();
  std::printf("serving: %s\n", server.is_serving() ? "True" : "False");
}

int main() { aio::run(main_()); }
