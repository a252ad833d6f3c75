#!/usr/bin/env bash
# The echo benchmark (docs/benchmarks.md, "Echo (networking)"): builds the peers'
# echo servers, then for each message size and each server starts the server pinned to
# one core, runs bench/aio_echo_client pinned to the other for a few seconds against
# it (CONNS ping-pong connections on 127.0.0.1), measures the server's CPU time during
# the run (utime+stime of /proc/PID/stat, all its threads), stops the server by its
# PID, and prints a Markdown table of the medians over REPS rounds: messages per
# second, messages per server CPU-second with each server's ratio to raw epoll, and
# the round trip's p50/p99. Rounds go over every server in turn, so that a noisy
# moment of the machine spreads over all of them.
#
# Usage: bench/run_echo.sh [build-dir]        (default: build/peers)
# Env:   AIO_BENCH_DIR=build/release/bench (aio_echo_server, aio_echo_client)
#        REPS=3  RUN_SECONDS=3  CONNS=50  SIZES="64 4096"  SERVERS="epoll aio ..."
#        RATE=100000 paces the client at that many messages per second in all (unset:
#        as fast as the server answers), so that no server is saturated
#        SERVER_CORE=0  CLIENT_CORE=1  PORT_BASE=23100
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-build/peers}
reps=${REPS:-3}
run_seconds=${RUN_SECONDS:-3}
conns=${CONNS:-50}
rate=${RATE:-}
sizes=${SIZES:-64 4096}
server_core=${SERVER_CORE:-0}
client_core=${CLIENT_CORE:-1}
port=${PORT_BASE:-23100}
bench_dir=${AIO_BENCH_DIR:-build/release/bench}
client=$bench_dir/aio_echo_client
# shellcheck source=bench/echo_servers.sh
source bench/echo_servers.sh
build_echo_servers
read -r -a servers <<<"${SERVERS:-epoll uring uring-plain aio aio-buffered libuv asio asyncio-streams asyncio-protocols uvloop-streams uvloop-protocols go node}"
tck=$(getconf CLK_TCK)

# utime and stime of a process (all its threads), in clock ticks. (The command name,
# field 2, has no spaces for any server here.)
cpu_ticks() { awk '{print $14, $15}' "/proc/$1/stat"; }

# One run: prints "server=... size=... msgs_per_s=... ... server_cpu_s=..." or a failure.
run_one() {
  local name=$1 size=$2 p=$3 pid c0 c1
  if ! start_echo_server "$name" "$p" "$server_core"; then
    echo "server=$name size=$size failed=start"
    return
  fi
  pid=$server_pid
  c0=$(cpu_ticks "$pid")
  local res rc=0
  res=$(timeout $((run_seconds + 20)) taskset -c "$client_core" "$client" 127.0.0.1 "$p" "$conns" "$size" "$run_seconds" $rate) || rc=$?
  c1=$(cpu_ticks "$pid")
  stop_echo_server "$pid" "$p"
  if [ "$rc" -ne 0 ] || [ -z "$res" ]; then
    echo "server=$name size=$size failed=client_rc_$rc"
    return
  fi
  awk -v a="$c0" -v b="$c1" -v t="$tck" -v head="server=$name size=$size $res" 'BEGIN {
    split(a, x, " "); split(b, y, " ")
    printf "%s server_cpu_s=%.2f server_user_s=%.2f\n", head, (y[1] + y[2] - x[1] - x[2]) / t, (y[1] - x[1]) / t
  }'
}

results="$out/echo_results.txt"
: >"$results"
for ((r = 0; r < reps; r++)); do
  for size in $sizes; do
    for name in "${servers[@]}"; do
      port=$((port + 1))
      run_one "$name" "$size" "$port" | tee -a "$results" >&2
    done
  done
done

ECHO_NAMES=$(echo_names) /usr/bin/python3 - "$results" "$reps" "$conns" "$run_seconds" "${rate:-0}" "${servers[@]}" <<'PY'
import collections, os, statistics, sys
path, reps, conns, secs, rate, servers = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6:]
names = dict(l.split("=", 1) for l in os.environ["ECHO_NAMES"].splitlines())
runs = collections.defaultdict(list)
for line in open(path):
    f = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
    if "msgs" in f and float(f.get("server_cpu_s", 0)) > 0:
        f["per_cpu"] = float(f["msgs"]) / float(f["server_cpu_s"])
        runs[(f["server"], f["size"])].append(f)
sizes = sorted({k[1] for k in runs}, key=int)
def med(s, size, key):
    v = [float(r[key]) for r in runs.get((s, size), [])]
    return statistics.median(v) if v else None
paced = f", paced at {int(rate):,} msgs/s in all" if float(rate) > 0 else ""
print(f"Median of {reps} runs; {conns} connections{paced}, {secs} s per run; server on core 0, client on core 1.\n")
head = "| server |"
rule = "|---|"
for size in sizes:
    head += f" {size} B msgs/s | {size} B msgs per server CPU-s (vs epoll) | {size} B p50/p99 µs |"
    rule += "---|---|---|"
print(head)
print(rule)
for s in servers:
    row = f"| {names.get(s, s)} |"
    for size in sizes:
        m = med(s, size, "msgs_per_s")
        if m is None:
            row += " failed | failed | failed |"
            continue
        pc, base = med(s, size, "per_cpu"), med("epoll", size, "per_cpu")
        ratio = f" ({pc / base:.2f}x)" if base else ""
        row += f" {m / 1000:,.0f}k | {pc / 1000:,.0f}k{ratio} | {med(s, size, 'p50_us'):,.0f} / {med(s, size, 'p99_us'):,.0f} |"
    print(row)
PY
