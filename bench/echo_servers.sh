# Sourced by bench/run_echo.sh, bench/run_echo_pair.sh and bench/run_ws.sh: the echo
# servers of the benchmark (docs/benchmarks.md, "Echo (networking)"), built and
# started the same way for each, and the rounds of runs that run_echo.sh and
# run_ws.sh make (run_ws.sh puts its WebSocket servers in echo_cmd and echo_name).
# Expects `out` (the peers' build folder) and `bench_dir` (aio's bench binaries) to be
# set.

# The knobs bench/run_echo.sh and bench/run_ws.sh share (their usage lines list them);
# the port each run counts up from is each script's own.
load_knobs() {
  reps=${REPS:-3}
  run_seconds=${RUN_SECONDS:-3}
  conns=${CONNS:-50}
  rate=${RATE:-}
  sizes=${SIZES:-64 4096}
  server_core=${SERVER_CORE:-0}
  client_core=${CLIENT_CORE:-1}
}

# need_built PROGRAM...: exits, saying how to build them, unless aio's bench programs
# PROGRAM... are in bench_dir.
need_built() {
  local f
  for f in "$@"; do
    if [ ! -x "$bench_dir/$f" ]; then
      echo "$0: build $bench_dir/$f first (cmake --preset release; cmake --build build/release --target $*)" >&2
      exit 1
    fi
  done
  mkdir -p "$out"
}

# Builds the compiled peers (Go's caches stay in the build folder; no network) and
# checks that aio's server and client are there.
build_echo_servers() {
  need_built aio_echo_server aio_echo_client
  export GOCACHE="$PWD/$out/go-cache" GOPATH="$PWD/$out/go-path" GOPROXY=off GOFLAGS=-mod=mod
  (cd bench/peers/go && go build -o "$OLDPWD/$out/go_echo" ./echo)
  gcc -O2 -Wall -Wextra bench/peers/c/echo_epoll.c -o "$out/echo_epoll"
  gcc -O2 -Wall -Wextra bench/peers/c/echo_uring.c -o "$out/echo_uring" -luring
  gcc -O2 -Wall -Wextra bench/peers/libuv/echo_uv.c -o "$out/echo_uv" -luv
  g++ -std=c++20 -O2 -DNDEBUG bench/peers/asio/echo.cpp -o "$out/asio_echo" -pthread
}

# Each server's command line; the port goes at @PORT@, or last.
declare -A echo_cmd=(
  [epoll]="$out/echo_epoll"
  [uring]="$out/echo_uring"
  [uring-plain]="env ECHO_URING_PLAIN=1 $out/echo_uring"
  [aio]="$bench_dir/aio_echo_server"
  [aio-buffered]="$bench_dir/aio_echo_server @PORT@ --buffered"
  [aio-buffered-alloc]="$bench_dir/aio_echo_server @PORT@ --buffered-alloc"
  [aio-buffered-copy]="$bench_dir/aio_echo_server @PORT@ --buffered-copy"
  [aio-protocol]="$bench_dir/aio_echo_server @PORT@ --protocol"
  [libuv]="$out/echo_uv"
  [asio]="$out/asio_echo"
  [asyncio-streams]="/usr/bin/python3 bench/peers/python/echo.py @PORT@ streams"
  [asyncio-protocols]="/usr/bin/python3 bench/peers/python/echo.py @PORT@ protocols"
  [uvloop-streams]="/usr/bin/python3 bench/peers/python/echo.py @PORT@ streams --uvloop"
  [uvloop-protocols]="/usr/bin/python3 bench/peers/python/echo.py @PORT@ protocols --uvloop"
  [go]="env GOMAXPROCS=1 $out/go_echo"
  [node]="node bench/peers/node/echo.js"
)
declare -A echo_name=(
  [epoll]="raw epoll (C)" [uring]="raw io_uring (C, DEFER_TASKRUN)" [uring-plain]="raw io_uring (C, no setup flags)"
  [aio]="aio streams" [aio-buffered]="aio streams, in place"
  [aio-buffered-alloc]="aio in place, plus an allocation per message" [aio-buffered-copy]="aio in place, plus a string copy per message"
  [aio-protocol]="aio protocols"
  [libuv]="libuv" [asio]="Boost.Asio (coroutines)"
  [asyncio-streams]="asyncio streams" [asyncio-protocols]="asyncio protocols"
  [uvloop-streams]="uvloop streams" [uvloop-protocols]="uvloop protocols"
  [go]="Go (GOMAXPROCS=1)" [node]="Node (net)"
)

# The display names as "key=name" lines, for the reports' Python (ECHO_NAMES).
echo_names() {
  local k
  for k in "${!echo_name[@]}"; do printf '%s=%s\n' "$k" "${echo_name[$k]}"; done
}

# start_echo_server NAME PORT CORE: starts the server pinned to CORE and waits (up to
# 10 s) until it listens; sets server_pid. On failure says why on stderr and returns 1.
start_echo_server() {
  local name=$1 p=$2 core=$3 line log i
  line=${echo_cmd[$name]}
  if [[ $line == *@PORT@* ]]; then line=${line//@PORT@/$p}; else line="$line $p"; fi
  log="$out/echo_server_$p.log"  # one per run: a stale line of the last server cannot match
  rm -f "$log"
  # shellcheck disable=SC2086
  taskset -c "$core" $line >"$log" 2>&1 &
  server_pid=$!
  for ((i = 0; i < 200; i++)); do
    grep -qs listening "$log" && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.05
  done
  if ! grep -qs listening "$log"; then
    echo "server=$name failed=start: $(tr '\n' ' ' <"$log")" >&2
    stop_echo_server "$server_pid" "$p"
    return 1
  fi
}

# stop_echo_server PID PORT: ends the server we started, by its PID.
stop_echo_server() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  rm -f "$out/echo_server_$2.log"
}

# utime and stime of a process (all its threads), in clock ticks. (The command name,
# field 2, has no spaces for any server here.)
cpu_ticks() { awk '{print $14, $15}' "/proc/$1/stat"; }

# run_one NAME SIZE PORT: one run of `client` against the server NAME; prints
# "server=... size=... msgs_per_s=... ... server_cpu_s=..." or a failure. Uses
# client, conns, run_seconds, rate, server_core, client_core.
run_one() {
  local name=$1 size=$2 p=$3 pid c0 c1 tck
  tck=$(getconf CLK_TCK)
  if ! start_echo_server "$name" "$p" "$server_core"; then
    echo "server=$name size=$size failed=start"
    return
  fi
  pid=$server_pid
  c0=$(cpu_ticks "$pid")
  local res rc=0
  # shellcheck disable=SC2086
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

# run_rounds RESULTS BASE BASE_LABEL WHAT: REPS rounds over every size and server in
# turn (a noisy moment of the machine spreads over all of them), each run's line in
# RESULTS, then the table of medians (bench/echo_report.py). Uses reps, sizes,
# servers, port and what run_one uses.
run_rounds() {
  local results=$1 r size name
  : >"$results"
  for ((r = 0; r < reps; r++)); do
    for size in $sizes; do
      for name in "${servers[@]}"; do
        port=$((port + 1))
        run_one "$name" "$size" "$port" | tee -a "$results" >&2
      done
    done
  done
  ECHO_NAMES=$(echo_names) /usr/bin/python3 bench/echo_report.py "$results" "$reps" "$conns" "$run_seconds" \
    "${rate:-0}" "$2" "$3" "$4" "${servers[@]}"
}
