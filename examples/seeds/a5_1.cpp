// Seed a5.1 (000_77fea42500069c72.txt, lines 420-476): an asynchronous context manager
// `Connection` whose aenter() connects (2 s) and aexit() closes (2 s); inside, sending
// and receiving run concurrently as tasks (2 s): 6 s in all.
#include <cstdio>
#include <exception>
#include <string>

#include "aio/aio.hpp"

// Simulates an asynchronous connection to some peripheral.
class Conn {
 public:
  aio::Coro<> put_data() {
    std::printf("Отправка данных...\n");
    co_await aio::sleep(2);
    std::printf("Данные отправлены.\n");
  }
  aio::Coro<> get_data() {
    std::printf("Получение данных...\n");
    co_await aio::sleep(2);
    std::printf("Данные получены.\n");
  }
  aio::Coro<> close() {
    std::printf("Завершение соединения...\n");
    co_await aio::sleep(2);
    std::printf("Соединение завершено.\n");
  }
};

aio::Coro<Conn> get_conn(std::string host, int port) {
  (void)host;
  (void)port;
  std::printf("Устанавливаем соединение...\n");
  co_await aio::sleep(2);
  std::printf("Соединение установлено.\n");
  co_return Conn();
}

class Connection {
 public:
  // this constructor runs in the head of the with statement
  Connection(std::string host, int port) : host_(std::move(host)), port_(port) {}
  // run on entering the with statement
  aio::Coro<Conn> aenter() { co_return conn_ = co_await get_conn(host_, port_); }
  // run on leaving it
  aio::Coro<> aexit(std::exception_ptr) { co_await conn_.close(); }

 private:
  std::string host_;
  int port_;
  Conn conn_;
};

aio::Coro<> main_coro() {
  co_await aio::async_with(Connection("localhost", 9001), [](Conn& conn) -> aio::Coro<> {
    auto send_task = aio::create_task(conn.put_data());
    auto receive_task = aio::create_task(conn.get_data());
    // sending and receiving run concurrently
    co_await send_task;
    co_await receive_task;
  });
}

int main() { aio::run(main_coro()); }
