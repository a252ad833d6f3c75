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
port=${PORT_BASE:-23100}
bench_dir=${AIO_BENCH_DIR:-build/release/bench}
client=$bench_dir/aio_echo_client
# shellcheck source=bench/echo_servers.sh
source bench/echo_servers.sh
load_knobs
build_echo_servers
read -r -a servers <<<"${SERVERS:-epoll uring uring-plain aio aio-buffered aio-protocol libuv asio asyncio-streams asyncio-protocols uvloop-streams uvloop-protocols go node}"
run_rounds "$out/echo_results.txt" epoll epoll connections
