// The task workloads of docs/benchmarks.md on Node's promises and async functions.
//
// Usage: node tasks.js [W1|W2|W3|W4]
// W1: calling an async function starts it at once and gives a promise, the closest
// thing to a task; W3: a minimal promise-based queue; W4: setTimeout promises.
'use strict';
const fs = require('fs');

function peakRss() {
  const m = /VmHWM:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

function report(name, n, seconds, bytesPerTask) {
  let line = `name=${name} n=${n} seconds=${seconds.toFixed(6)} per_op_ns=${(seconds * 1e9 / n).toFixed(1)}`;
  if (bytesPerTask !== undefined) line += ` bytes_per_task=${bytesPerTask}`;
  console.log(line);
}

const now = () => Number(process.hrtime.bigint()) / 1e9;

async function trivial(i) { return i; }

async function w1(n) {
  const t0 = now();
  let tasks = new Array(n);
  for (let i = 0; i < n; i++) tasks[i] = trivial(i);
  let total = 0;
  for (const t of tasks) total += await t;
  tasks = null;
  report('W1', n, now() - t0);
}

async function w2(n) {
  const t0 = now();
  let total = 0;
  for (let i = 0; i < n; i++) total += await trivial(i);
  report('W2', n, now() - t0);
}

class Queue {
  constructor() { this.items = []; this.getters = []; }
  put(v) {
    const g = this.getters.shift();
    if (g) g(v); else this.items.push(v);
  }
  get() {
    if (this.items.length) return Promise.resolve(this.items.shift());
    return new Promise((resolve) => this.getters.push(resolve));
  }
}

async function w3(n) {
  const q1 = new Queue(), q2 = new Queue();
  const t0 = now();
  await Promise.all([
    (async () => { for (let i = 0; i < n / 2; i++) { q1.put(1); await q2.get(); } })(),
    (async () => { for (let i = 0; i < n / 2; i++) { await q1.get(); q2.put(1); } })(),
  ]);
  report('W3', n, now() - t0);
}

async function w4(n) {
  const before = peakRss();
  const t0 = now();
  const tasks = new Array(n);
  for (let i = 0; i < n; i++) tasks[i] = new Promise((resolve) => setTimeout(resolve, 1000));
  for (const t of tasks) await t;
  const seconds = now() - t0;
  report('W4', n, seconds, Math.floor((peakRss() - before) / n));
}

const workloads = { W1: [w1, 1000000], W2: [w2, 1000000], W3: [w3, 1000000], W4: [w4, 100000] };

(async () => {
  const names = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(workloads);
  for (const name of names) {
    const [fn, n] = workloads[name];
    await fn(n);
  }
})();
