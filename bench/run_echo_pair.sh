#!/usr/bin/env bash
# The echo benchmark side by side (docs/benchmarks.md, "Echo, side by side"): raw
# epoll and another server run at the same time, both pinned to the server core, each
# with its own bench/aio_echo_client on the client core, paced at RATE messages per
# second each. Both meet the same moment of the machine, so the ratio of their CPU
# time per message does not move with the machine's noise (the kernel's share of
# every server's time drifts by ±10% from one moment to the next; run one after the
# other, the servers' differences drown in it). CPU time is each server's
# sum_exec_runtime in nanoseconds over all its threads (/proc/PID/task/*/schedstat),
# from before the clients start to after they end.
#
# For each server of PAIRS and each size, REPS rounds with fresh processes; prints
# every round's ratio (the server's messages per CPU-second over raw epoll's) and a
# Markdown table of the median ratio with its quartiles and range. "epoll" in PAIRS is
# the control: raw epoll against itself shows what the method itself adds (±1%).
#
# Usage: bench/run_echo_pair.sh [build-dir]        (default: build/peers)
# Env:   AIO_BENCH_DIR=build/release/bench (aio_echo_server, aio_echo_client)
#        PAIRS="epoll aio aio-buffered libuv"  REPS=8  RUN_SECONDS=3  SIZES="64 4096"
#          (any name of bench/echo_servers.sh; aio-buffered-alloc and aio-buffered-copy
#          take read()'s cost apart, see bench/aio_echo_server.cpp)
#        CONNS=25 and RATE=50000 per server (so 50 connections and 100k msgs/s in all)
#        SERVER_CORE=0  CLIENT_CORE=1  PORT_BASE=24100
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-build/peers}
reps=${REPS:-8}
run_seconds=${RUN_SECONDS:-3}
conns=${CONNS:-25}
rate=${RATE:-50000}
sizes=${SIZES:-64 4096}
server_core=${SERVER_CORE:-0}
client_core=${CLIENT_CORE:-1}
port=${PORT_BASE:-24100}
bench_dir=${AIO_BENCH_DIR:-build/release/bench}
client=$bench_dir/aio_echo_client
# shellcheck source=bench/echo_servers.sh
source bench/echo_servers.sh
build_echo_servers
read -r -a pairs <<<"${PAIRS:-epoll aio aio-buffered libuv}"

# Nanoseconds a process has run, all its threads.
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%d\n", s}'; }

# One round: raw epoll and NAME side by side; prints "pair=NAME size=... ratio=..." or a failure.
run_pair() {
  local name=$1 size=$2 pa=$3 pb=$4 ia ib a0 b0 a1 b1 ca cb ra=0 rb=0
  start_echo_server epoll "$pa" "$server_core" || { echo "pair=$name size=$size failed=start_epoll"; return; }
  ia=$server_pid
  if ! start_echo_server "$name" "$pb" "$server_core"; then
    stop_echo_server "$ia" "$pa"
    echo "pair=$name size=$size failed=start"
    return
  fi
  ib=$server_pid
  a0=$(cpu_ns "$ia")
  b0=$(cpu_ns "$ib")
  timeout $((run_seconds + 20)) taskset -c "$client_core" "$client" 127.0.0.1 "$pa" "$conns" "$size" "$run_seconds" "$rate" >"$out/pair_a.txt" &
  ca=$!
  timeout $((run_seconds + 20)) taskset -c "$client_core" "$client" 127.0.0.1 "$pb" "$conns" "$size" "$run_seconds" "$rate" >"$out/pair_b.txt" &
  cb=$!
  wait "$ca" || ra=$?
  wait "$cb" || rb=$?
  a1=$(cpu_ns "$ia")
  b1=$(cpu_ns "$ib")
  stop_echo_server "$ia" "$pa"
  stop_echo_server "$ib" "$pb"
  if [ "$ra" -ne 0 ] || [ "$rb" -ne 0 ]; then
    echo "pair=$name size=$size failed=client_rc_${ra}_$rb"
    return
  fi
  awk -v name="$name" -v size="$size" -v a0="$a0" -v a1="$a1" -v b0="$b0" -v b1="$b1" '
    FNR == 1 { for (i = 1; i <= NF; i++) if ($i ~ /^msgs=/) { split($i, kv, "="); m[FILENAME] = kv[2] } }
    END {
      ma = m[ARGV[1]]; mb = m[ARGV[2]]
      pa = ma / ((a1 - a0) / 1e9); pb = mb / ((b1 - b0) / 1e9)
      printf "pair=%s size=%s epoll_per_cpu_s=%.0f server_per_cpu_s=%.0f ratio=%.4f epoll_msgs=%d server_msgs=%d\n", name, size, pa, pb, pb / pa, ma, mb
    }' "$out/pair_a.txt" "$out/pair_b.txt"
}

results="$out/echo_pair_results.txt"
: >"$results"
for ((r = 0; r < reps; r++)); do
  for size in $sizes; do
    for name in "${pairs[@]}"; do
      port=$((port + 2))
      run_pair "$name" "$size" "$port" $((port + 1)) | tee -a "$results" >&2
    done
  done
done

ECHO_NAMES=$(echo_names) /usr/bin/python3 - "$results" "$reps" "$conns" "$rate" "$run_seconds" "${pairs[@]}" <<'PY'
import collections, os, statistics, sys
path, reps, conns, rate, secs, pairs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6:]
names = dict(l.split("=", 1) for l in os.environ["ECHO_NAMES"].splitlines())
names["epoll"] += ", the control"
ratios = collections.defaultdict(list)
for line in open(path):
    f = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
    if "ratio" in f:
        ratios[(f["pair"], f["size"])].append(float(f["ratio"]))
sizes = sorted({k[1] for k in ratios}, key=int)
print(f"Side by side with raw epoll: {reps} rounds of {secs} s; each server {conns} connections paced at "
      f"{rate:,} msgs/s; both servers on core 0, both clients on core 1. Messages per server CPU-second "
      f"over raw epoll's in the same round: median (quartiles; lowest-highest).\n")
print("| server |" + "".join(f" {s} B vs raw epoll |" for s in sizes))
print("|---|" + "---|" * len(sizes))
for p in pairs:
    row = f"| {names.get(p, p)} |"
    for s in sizes:
        v = sorted(ratios.get((p, s), []))
        if not v:
            row += " failed |"
            continue
        q = statistics.quantiles(v, n=4) if len(v) >= 2 else [v[0], v[0], v[0]]
        row += f" {statistics.median(v):.3f}x ({q[0]:.3f}-{q[2]:.3f}; {v[0]:.3f}-{v[-1]:.3f}) |"
    print(row)
PY
