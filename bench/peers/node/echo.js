// The echo benchmark's server in Node (the net module): every chunk read is written
// straight back; after the client's EOF, once everything is written, the socket is
// closed (allowHalfOpen, then end()). Backpressure: reading pauses while a write is
// buffered, until 'drain'.
//
// Usage: node echo.js PORT (listens on 127.0.0.1:PORT and runs until killed).
"use strict";
const net = require("net");

const port = Number(process.argv[2]);
if (!Number.isInteger(port)) {
  console.error("usage: node echo.js PORT");
  process.exit(2);
}
const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (sock) => {
  sock.setNoDelay(true);
  sock.on("data", (data) => {
    if (!sock.write(data)) {
      sock.pause();
      sock.once("drain", () => sock.resume());
    }
  });
  sock.on("end", () => sock.end());
  sock.on("error", () => sock.destroy());
});
server.listen(port, "127.0.0.1", () => console.log(`listening port=${port}`));
