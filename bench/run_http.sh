#!/usr/bin/env bash
# The HTTP server benchmark (docs/benchmarks.md, "HTTP server"): builds the compiled
# peers, then for each connection count and each server starts the server pinned to
# one core, checks that GET / answers "Hello, World!", runs wrk (-t1 --latency)
# pinned to the other core for a few seconds against it, measures the server's CPU
# time during the run (utime+stime of /proc/PID/stat, all its threads, and all its
# processes for nginx's master and worker), stops the server by its PID, and prints a
# Markdown table of the medians over REPS rounds: requests per second, wrk's p99
# latency, and requests per server CPU-second with each server's ratio to the raw
# epoll responder. Rounds go over every server in turn, so that a noisy moment of the
# machine spreads over all of them.
#
# Usage: bench/run_http.sh [build-dir]        (default: build/peers)
# Env:   AIO_BENCH_DIR=build/release/bench (aio_http_hello; its row says "skipped: not
#        built" when it is missing)
#        REPS=3  DURATION=5 (seconds per wrk run)  CONNS="50 500"
#        SERVERS="epoll aio beast nginx go node aiohttp aiohttp-uvloop"
#        SERVER_CORE=0  CLIENT_CORE=1  PORT_BASE=24100
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-build/peers}
reps=${REPS:-3}
duration=${DURATION:-5}
conns_list=${CONNS:-50 500}
server_core=${SERVER_CORE:-0}
client_core=${CLIENT_CORE:-1}
port=${PORT_BASE:-24100}
bench_dir=${AIO_BENCH_DIR:-build/release/bench}
mkdir -p "$out"
for tool in wrk nginx curl taskset go g++ gcc node; do
  command -v "$tool" >/dev/null || { echo "run_http.sh: $tool is missing (scripts/setup installs it)" >&2; exit 1; }
done

# Build the compiled peers (Go's caches stay in the build folder; no network).
export GOCACHE="$PWD/$out/go-cache" GOPATH="$PWD/$out/go-path" GOPROXY=off GOFLAGS=-mod=mod
(cd bench/peers/go && go build -o "$OLDPWD/$out/go_http" ./http)
gcc -O2 -Wall -Wextra bench/peers/c/http_epoll.c -o "$out/http_epoll"
g++ -std=c++20 -O2 -DNDEBUG bench/peers/beast/hello.cpp -o "$out/beast_hello" -pthread

declare -A cmd=(
  [epoll]="$out/http_epoll"
  [aio]="$bench_dir/aio_http_hello"
  [beast]="$out/beast_hello"
  [nginx]="nginx"  # started by start_nginx
  [go]="env GOMAXPROCS=1 $out/go_http"
  [node]="node bench/peers/node/http.js"
  [aiohttp]="/usr/bin/python3 bench/peers/python/http_hello.py"
  [aiohttp-uvloop]="/usr/bin/python3 bench/peers/python/http_hello.py @PORT@ --uvloop"
)
read -r -a servers <<<"${SERVERS:-epoll aio beast nginx go node aiohttp aiohttp-uvloop}"
tck=$(getconf CLK_TCK)

# The server process and its descendants (nginx's worker), one PID a line.
tree_pids() {
  local p
  echo "$1"
  for p in $(ps -o pid= --ppid "$1" 2>/dev/null); do tree_pids "$p"; done
}
# utime and stime summed over a process tree (all threads), in clock ticks. (The
# command name, field 2 of /proc/PID/stat, has no spaces for any server here.)
cpu_ticks() {
  local p u=0 s=0 f
  for p in $(tree_pids "$1"); do
    read -r -a f 2>/dev/null <"/proc/$p/stat" || continue
    u=$((u + f[13])) s=$((s + f[14]))
  done
  echo "$u $s"
}

# wrk's "Latency Distribution" line for a percentile ("99%  1.23ms"), in µs.
wrk_pct_us() {
  awk -v want="$1" '$1 == want {
    v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
    m = (u == "us") ? 1 : (u == "ms") ? 1000 : (u == "s") ? 1000000 : (u == "m") ? 60000000 : -1
    printf "%.0f", v * m; exit
  }'
}

# One run: prints "server=... conns=... rps=... p99_us=... server_cpu_s=..." or a failure.
run_one() {
  local name=$1 conns=$2 p=$3 line log pid c0 c1 i body
  log="$out/http_server_$p.log"  # one per run: a stale line of the last server cannot match
  rm -f "$log"
  if [ "$name" = nginx ]; then
    local prefix="$PWD/$out/nginx_hello_$p"
    mkdir -p "$prefix"
    bench/peers/nginx/conf.sh hello "$p" "$prefix" >"$prefix/nginx.conf"
    taskset -c "$server_core" nginx -p "$prefix" -c "$prefix/nginx.conf" -e "$prefix/error.log" >"$log" 2>&1 &
  else
    line=${cmd[$name]}
    if [[ $line == *@PORT@* ]]; then line=${line//@PORT@/$p}; else line="$line $p"; fi
    # shellcheck disable=SC2086
    taskset -c "$server_core" $line >"$log" 2>&1 &
  fi
  pid=$!
  # Up to 10 s for the server to listen: its "listening" line, or a first answer
  # (nginx prints nothing; nor need aio's server).
  for ((i = 0; i < 200; i++)); do
    grep -qs listening "$log" && break
    curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$p/" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  body=$(curl -s --max-time 2 "http://127.0.0.1:$p/" || true)
  if [ "$body" != "Hello, World!" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    echo "server=$name conns=$conns failed=start: answered '${body:0:40}'; $(tr '\n' ' ' <"$log" | cut -c1-200)"
    return
  fi
  c0=$(cpu_ticks "$pid")
  local res rc=0
  res=$(timeout $((duration + 30)) taskset -c "$client_core" wrk -t1 -c"$conns" -d"${duration}s" --latency "http://127.0.0.1:$p/" 2>&1) || rc=$?
  c1=$(cpu_ticks "$pid")
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -f "$log"
  local rps reqs p50 p99 errs non2xx
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$res")
  reqs=$(awk '/requests in/ {print $1}' <<<"$res")
  p50=$(wrk_pct_us 50% <<<"$res")
  p99=$(wrk_pct_us 99% <<<"$res")
  errs=$(awk '/Socket errors:/ {gsub(",", ""); print $4 + $6 + $8 + $10}' <<<"$res")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$res")
  if [ "$rc" -ne 0 ] || [ -z "$rps" ] || [ -z "$p99" ]; then
    echo "server=$name conns=$conns failed=wrk_rc_$rc: $(tr '\n' ' ' <<<"$res" | cut -c1-200)"
    return
  fi
  awk -v a="$c0" -v b="$c1" -v t="$tck" -v head="server=$name conns=$conns requests=$reqs rps=$rps p50_us=$p50 p99_us=$p99 errors=${errs:-0} non2xx=${non2xx:-0}" 'BEGIN {
    split(a, x, " "); split(b, y, " ")
    printf "%s server_cpu_s=%.2f server_user_s=%.2f\n", head, (y[1] + y[2] - x[1] - x[2]) / t, (y[1] - x[1]) / t
  }'
}

results="$out/http_results.txt"
: >"$results"
for ((r = 0; r < reps; r++)); do
  for conns in $conns_list; do
    for name in "${servers[@]}"; do
      port=$((port + 1))
      if [ "$name" = aio ] && [ ! -x "${cmd[aio]}" ]; then
        echo "server=aio conns=$conns skipped=not_built" | tee -a "$results" >&2
        continue
      fi
      run_one "$name" "$conns" "$port" | tee -a "$results" >&2
    done
  done
done

/usr/bin/python3 - "$results" "$reps" "$duration" "$conns_list" "${servers[@]}" <<'PY'
import collections, statistics, sys
path, reps, secs, conns_list, servers = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(), sys.argv[5:]
names = {"epoll": "raw epoll responder (C)", "aio": "aio (aio::http)", "beast": "Boost.Beast",
         "nginx": "nginx (1 worker)", "go": "Go net/http (GOMAXPROCS=1)", "node": "Node http",
         "aiohttp": "aiohttp (asyncio)", "aiohttp-uvloop": "aiohttp (uvloop)"}
runs, skipped, failed, errors = collections.defaultdict(list), set(), collections.Counter(), collections.Counter()
for line in open(path):
    f = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
    key = (f.get("server"), f.get("conns"))
    if "skipped" in f:
        skipped.add(f["server"])
    elif "rps" in f and float(f.get("server_cpu_s", 0)) > 0:
        f["per_cpu"] = float(f["requests"]) / float(f["server_cpu_s"])
        runs[key].append(f)
        if int(f["errors"]) or int(f["non2xx"]):
            errors[key] += int(f["errors"]) + int(f["non2xx"])
    else:
        failed[key] += 1
def med(s, c, k):
    v = [float(r[k]) for r in runs.get((s, c), [])]
    return statistics.median(v) if v else None
print(f"Median of {reps} runs; wrk -t1 -d{secs}s --latency; server on core 0, wrk on core 1.\n")
head, rule = "| server |", "|---|"
for c in conns_list:
    head += f" {c} conns req/s | {c} conns p99 | {c} conns req per server CPU-s (vs epoll) |"
    rule += "---|---|---|"
print(head)
print(rule)
def us(v):
    return f"{v / 1000:,.2f} ms" if v >= 1000 else f"{v:,.0f} µs"
for s in servers:
    row = f"| {names.get(s, s)} |"
    if s in skipped:
        print(row + " skipped: not built |" + " |" * (3 * len(conns_list) - 1))
        continue
    for c in conns_list:
        m = med(s, c, "rps")
        if m is None:
            row += " failed | failed | failed |"
            continue
        pc, base = med(s, c, "per_cpu"), med("epoll", c, "per_cpu")
        ratio = f" ({pc / base:.2f}x)" if base else ""
        row += f" {m / 1000:,.1f}k | {us(med(s, c, 'p99_us'))} | {pc / 1000:,.1f}k{ratio} |"
    print(row)
for (s, c), n in sorted(failed.items()):
    print(f"\n{names.get(s, s)} at {c} connections: {n} failed run(s) (see {path})")
for (s, c), n in sorted(errors.items()):
    print(f"\n{names.get(s, s)} at {c} connections: {n} socket errors or non-2xx responses over its runs (see {path})")
PY
