// The WebSocket benchmark's server on Node (docs/benchmarks.md, "WebSocket echo"):
// the `ws` package (Debian's node-ws, found through NODE_PATH=/usr/share/nodejs),
// sending every message back, with per-message compression off as in the others.
//   node ws_echo.js PORT
const { WebSocketServer } = require("ws");

const port = Number(process.argv[2]);
const wss = new WebSocketServer({ host: "127.0.0.1", port, path: "/ws", perMessageDeflate: false });
wss.on("connection", (ws) => {
  ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
});
wss.on("listening", () => console.log(`listening port=${port}`));
