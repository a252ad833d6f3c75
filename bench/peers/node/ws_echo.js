// The WebSocket benchmark's server on Node (docs/benchmarks.md, "WebSocket echo"):
// the `ws` package (Debian's node-ws, found through NODE_PATH=/usr/share/nodejs),
// sending every message back, with per-message compression off as in the others
// unless --compress turns it on (ws's own defaults then: messages under 1 KiB go plain).
//   node ws_echo.js PORT [--compress]
const { WebSocketServer } = require("ws");

const port = Number(process.argv[2]);
const wss = new WebSocketServer({ host: "127.0.0.1", port, path: "/ws", perMessageDeflate: process.argv[3] === "--compress" });
wss.on("connection", (ws) => {
  ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
});
wss.on("listening", () => console.log(`listening port=${port}`));
