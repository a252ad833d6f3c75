#!/usr/bin/env bash
# The WebSocket benchmark (docs/benchmarks.md, "WebSocket echo"): builds the compiled
# peers, then for each message size and each server starts the server pinned to one
# core, runs bench/aio_ws_client pinned to the other for a few seconds against it
# (CONNS WebSockets to ws://127.0.0.1:PORT/ws, a binary ping-pong on each), measures
# the server's CPU time during the run (utime+stime of /proc/PID/stat, all its
# threads), stops the server by its PID, and prints a Markdown table of the medians
# over REPS rounds: messages per second, messages per server CPU-second with each
# server's ratio to Boost.Beast's, and the round trip's p50/p99. Rounds go over every
# server in turn. Every server sends each message back in one frame, with no
# per-message compression; with COMPRESS=1 the client offers permessage-deflate
# (AIO_WS_COMPRESS=15) and every server takes it, each with its own defaults.
#
# Usage: bench/run_ws.sh [build-dir]        (default: build/peers)
# Env:   AIO_BENCH_DIR=build/release/bench (aio_ws_echo_server, aio_ws_client)
#        REPS=3  RUN_SECONDS=3  CONNS=50  SIZES="64 4096"  RATE= (paced, as run_echo.sh)
#        SERVERS="beast aio go node aiohttp aiohttp-uvloop websockets websockets-uvloop"
#        SERVER_CORE=0  CLIENT_CORE=1  PORT_BASE=25100  COMPRESS=0
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-build/peers}
port=${PORT_BASE:-25100}
bench_dir=${AIO_BENCH_DIR:-build/release/bench}
client=$bench_dir/aio_ws_client
# shellcheck source=bench/echo_servers.sh
source bench/echo_servers.sh  # start_echo_server, run_rounds, ..., with this script's servers below
load_knobs
need_built aio_ws_echo_server aio_ws_client

# The compiled peers. Go builds gorilla/websocket from Debian's source tree, with no
# network and no module download.
g++ -std=c++20 -O2 -DNDEBUG bench/peers/beast/ws_echo.cpp -o "$out/beast_ws_echo" -pthread
GOCACHE="$PWD/$out/go-cache" GOPATH="/usr/share/gocode" GO111MODULE=off GOPROXY=off \
  go build -o "$out/go_ws_echo" bench/peers/go/ws/main.go

# aio's and aiohttp's servers accept permessage-deflate by default; the others are told.
what=WebSockets
z=""
if [[ ${COMPRESS:-0} == 1 ]]; then
  export AIO_WS_COMPRESS=15
  what="WebSockets, permessage-deflate"
  z="--compress"
fi
echo_cmd=(
  [beast]="$out/beast_ws_echo @PORT@ $z"
  [aio]="$bench_dir/aio_ws_echo_server"
  [go]="env GOMAXPROCS=1 $out/go_ws_echo @PORT@ $z"
  [node]="env NODE_PATH=/usr/share/nodejs node bench/peers/node/ws_echo.js @PORT@ $z"
  [aiohttp]="/usr/bin/python3 bench/peers/python/ws_echo.py @PORT@ aiohttp"
  [aiohttp-uvloop]="/usr/bin/python3 bench/peers/python/ws_echo.py @PORT@ aiohttp --uvloop"
  [websockets]="/usr/bin/python3 bench/peers/python/ws_echo.py @PORT@ websockets $z"
  [websockets-uvloop]="/usr/bin/python3 bench/peers/python/ws_echo.py @PORT@ websockets --uvloop $z"
)
echo_name=(
  [beast]="Boost.Beast (coroutines)" [aio]="aio" [go]="Go gorilla (GOMAXPROCS=1)"
  [node]="Node (ws)" [aiohttp]="aiohttp (asyncio)" [aiohttp-uvloop]="aiohttp (uvloop)"
  [websockets]="websockets (asyncio)" [websockets-uvloop]="websockets (uvloop)"
)
read -r -a servers <<<"${SERVERS:-beast aio go node aiohttp aiohttp-uvloop websockets websockets-uvloop}"
run_rounds "$out/ws_results.txt" beast Beast "$what"
