// The subprocess pipe benchmark in Node (docs/benchmarks.md, "Subprocess pipes"):
// child_process.spawn with stdout 'pipe'.
//
//   node pipe_read.js bulk|lines N CMD [ARG...]
//
// bulk: counts the bytes of every 'data' chunk until 'end', then waits for the
// child's 'close'; N is the number of bytes expected (exit status 1 when another
// number came). lines: N 'line' events of the readline module over child.stdout (a
// string per line, as people read lines in Node), then rl.close(), child.kill() and
// the child's 'close'.
//
// Prints one line: mode=... [lines=...] bytes=... wall_s=... cpu_s=... user_s=...
// sys_s=..., the wall time from before the spawn to after the child's 'close' and
// this process's own CPU time (process.cpuUsage(): getrusage RUSAGE_SELF, all its
// threads, not the child's) over the same span; Node's start-up is not in it.
"use strict";
const { spawn } = require("child_process");
const readline = require("readline");

const [mode, n, ...cmd] = process.argv.slice(2);
const want = Number(n);
if ((mode !== "bulk" && mode !== "lines") || !Number.isInteger(want) || cmd.length === 0) {
  console.error("usage: node pipe_read.js bulk|lines N CMD [ARG...]");
  process.exit(2);
}

const c0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
const child = spawn(cmd[0], cmd.slice(1), { stdio: ["ignore", "pipe", "inherit"] });
let bytes = 0;
let lines = 0;

if (mode === "bulk") {
  child.stdout.on("data", (chunk) => {
    bytes += chunk.length;
  });
} else {
  const rl = readline.createInterface({ input: child.stdout, crlfDelay: Infinity });
  rl.on("line", (line) => {
    if (lines === want) return; // lines already split from the last chunk
    bytes += line.length + 1; // with its "\n" (the lines are ASCII)
    if (++lines === want) {
      rl.close();
      child.kill("SIGKILL");
    }
  });
}

child.on("close", () => {
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  const user = c.user / 1e6;
  const sys = c.system / 1e6;
  const times = `wall_s=${wall.toFixed(4)} cpu_s=${(user + sys).toFixed(4)} user_s=${user.toFixed(4)} sys_s=${sys.toFixed(4)}`;
  if (mode === "bulk") {
    console.log(`mode=bulk bytes=${bytes} ${times}`);
    process.exitCode = bytes === want ? 0 : 1;
  } else {
    console.log(`mode=lines lines=${lines} bytes=${bytes} ${times}`);
    process.exitCode = lines === want ? 0 : 1;
  }
});
