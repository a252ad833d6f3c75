// The HTTP benchmark's server in Node (the http module): GET / answers 200
// "Hello, World!" (text/plain), anything else 404; keep-alive as Node's http server
// does by default.
//
// Usage: node http.js PORT (listens on 127.0.0.1:PORT, prints "listening port=PORT"
// when ready and runs until killed).
"use strict";
const http = require("http");

const port = Number(process.argv[2]);
if (!Number.isInteger(port)) {
  console.error("usage: node http.js PORT");
  process.exit(2);
}
const hello = Buffer.from("Hello, World!");
const server = http.createServer({ noDelay: true }, (req, res) => {
  if (req.method === "GET" && req.url === "/") {
    res.writeHead(200, { "Content-Type": "text/plain", "Content-Length": hello.length });
    res.end(hello);
  } else {
    res.writeHead(404, { "Content-Type": "text/plain", "Content-Length": 9 });
    res.end("Not Found");
  }
});
server.listen(port, "127.0.0.1", 1024, () => console.log(`listening port=${port}`));
