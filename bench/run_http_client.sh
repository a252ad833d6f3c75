#!/usr/bin/env bash
# The HTTP client benchmark (docs/benchmarks.md, "HTTP client"): a local nginx (one
# worker, pinned to one core) serves two static files, one of 13 bytes and one of
# 4 KiB; each client, pinned to the other core, makes REQUESTS GETs of one file over
# CONNS keep-alive connections. A fresh nginx for every run, stopped by its PID; its
# stub_status counters, read before and after, check that the client's requests all
# arrived and say over how many connections. Measured: requests per second (the
# client's whole run, start to exit) and requests per client CPU-second (the client
# process's utime+stime, children included, from wait4's rusage), with each client's
# ratio to aiohttp's client; the medians over REPS rounds go into a Markdown table.
# Rounds go over every client in turn.
#
# Clients: aiohttp (bench/peers/python/http_client.py: one ClientSession,
# TCPConnector(limit=CONNS), CONNS worker tasks, every body read), aiohttp on uvloop,
# curl --parallel --parallel-max CONNS (a generated config of REQUESTS urls, each
# written to /dev/null), and aio's client, build/release/bench/aio_http_client URL
# REQUESTS CONNS, when it is built (its row says "skipped: not built" otherwise).
#
# Usage: bench/run_http_client.sh [build-dir]        (default: build/peers)
# Env:   AIO_BENCH_DIR=build/release/bench  REPS=3  REQUESTS=10000  CONNS=100
#        CLIENTS="aio aiohttp aiohttp-uvloop curl"  FILES="hello.txt 4k.txt"
#        SERVER_CORE=0  CLIENT_CORE=1  PORT_BASE=24600
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-build/peers}
reps=${REPS:-3}
requests=${REQUESTS:-10000}
conns=${CONNS:-100}
files=${FILES:-hello.txt 4k.txt}
server_core=${SERVER_CORE:-0}
client_core=${CLIENT_CORE:-1}
port=${PORT_BASE:-24600}
bench_dir=${AIO_BENCH_DIR:-build/release/bench}
read -r -a clients <<<"${CLIENTS:-aio aiohttp aiohttp-uvloop curl}"
for tool in nginx curl taskset; do
  command -v "$tool" >/dev/null || { echo "run_http_client.sh: $tool is missing (scripts/setup installs it)" >&2; exit 1; }
done
mkdir -p "$out"
out=$(cd "$out" && pwd)

# The files nginx serves.
www="$out/http_client_www"
mkdir -p "$www"
printf 'Hello, World!' >"$www/hello.txt"
head -c 4096 /dev/zero | tr '\0' 'a' >"$www/4k.txt"
chmod -R a+rX "$www"  # nginx's worker runs as nobody when started by root

# nginx's stub_status: "requests accepts" (the requests served and the connections
# accepted so far, this status request and its connection included).
nginx_counts() {
  curl -s --max-time 2 "http://127.0.0.1:$1/nginx_status" | awk 'NR == 3 {print $3, $1}'
}

# Runs a command pinned to the client core; prints "wall_s=... cpu_s=..." of it (its
# rusage, all its threads and children) and its own output on one line, or fails.
measure() {
  /usr/bin/python3 - "$client_core" "$@" <<'PY'
import os, resource, subprocess, sys, time
core, argv = sys.argv[1], sys.argv[2:]
r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
t0 = time.monotonic()
p = subprocess.run(["taskset", "-c", core] + argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
t1 = time.monotonic()
r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
said = " ".join(p.stdout.decode(errors="replace").split())[:300]
print(f"rc={p.returncode} wall_s={t1 - t0:.3f} cpu_s={cpu:.3f} user_s={r1.ru_utime - r0.ru_utime:.3f} said: {said}")
PY
}

# One run: prints "client=... file=... requests=... wall_s=... cpu_s=... conns_used=..." or a failure.
run_one() {
  local name=$1 file=$2 p=$3 prefix pid i url before after res
  prefix="$out/nginx_static_$p"
  mkdir -p "$prefix"
  bench/peers/nginx/conf.sh static "$p" "$prefix" "$www" >"$prefix/nginx.conf"
  taskset -c "$server_core" nginx -p "$prefix" -c "$prefix/nginx.conf" -e "$prefix/error.log" >"$prefix/stdout.log" 2>&1 &
  pid=$!
  for ((i = 0; i < 200; i++)); do  # up to 10 s for nginx to answer
    curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$p/nginx_status" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  url="http://127.0.0.1:$p/$file"
  before=$(nginx_counts "$p" || true)
  if [ -z "$before" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    echo "client=$name file=$file failed=nginx_start: $(cat "$prefix/error.log" "$prefix/stdout.log" 2>/dev/null | tr '\n' ' ' | cut -c1-200)"
    return
  fi
  case $name in
    aio) res=$(measure "$bench_dir/aio_http_client" "$url" "$requests" "$conns") ;;
    aiohttp) res=$(measure /usr/bin/python3 bench/peers/python/http_client.py "$url" "$requests" "$conns") ;;
    aiohttp-uvloop) res=$(measure /usr/bin/python3 bench/peers/python/http_client.py "$url" "$requests" "$conns" --uvloop) ;;
    curl)
      local cfg="$out/curl_$requests.cfg"
      if [ ! -s "$cfg" ] || ! grep -q "^url = \"$url\"" "$cfg"; then
        for ((i = 0; i < requests; i++)); do printf 'url = "%s"\noutput = "/dev/null"\n' "$url"; done >"$cfg"
      fi
      res=$(measure curl --parallel --parallel-max "$conns" --silent --no-progress-meter --show-error --fail --config "$cfg")
      ;;
  esac
  after=$(nginx_counts "$p" || true)
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$prefix"
  local rc=${res#rc=}
  rc=${rc%% *}
  if [ "$rc" != 0 ] || [ -z "$after" ]; then
    echo "client=$name file=$file failed=client_rc_$rc: $res"
    return
  fi
  # Served by nginx for this client: the counters' difference less the second status
  # request (and its connection).
  awk -v a="$before" -v b="$after" -v n="$requests" -v head="client=$name file=$file requests=$requests" -v res="${res#rc=0 }" 'BEGIN {
    split(a, x, " "); split(b, y, " ")
    printf "%s served=%d conns_used=%d %s\n", head, y[1] - x[1] - 1, y[2] - x[2] - 1, res
  }'
}

results="$out/http_client_results.txt"
: >"$results"
for ((r = 0; r < reps; r++)); do
  for file in $files; do
    for name in "${clients[@]}"; do
      port=$((port + 1))
      if [ "$name" = aio ] && [ ! -x "$bench_dir/aio_http_client" ]; then
        echo "client=aio file=$file skipped=not_built" | tee -a "$results" >&2
        continue
      fi
      run_one "$name" "$file" "$port" | tee -a "$results" >&2
    done
  done
done

/usr/bin/python3 - "$results" "$reps" "$requests" "$conns" "$files" "${clients[@]}" <<'PY'
import collections, re, statistics, sys
path, reps, requests, conns, files, clients = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5].split(), sys.argv[6:]
names = {"aio": "aio (aio::http::ClientSession)", "aiohttp": "aiohttp (asyncio)",
         "aiohttp-uvloop": "aiohttp (uvloop)", "curl": f"curl --parallel --parallel-max {conns}"}
runs, skipped, failed, short = collections.defaultdict(list), set(), collections.Counter(), collections.Counter()
for line in open(path):
    head, _, said = line.partition(" said: ")
    f = dict(kv.split("=", 1) for kv in head.split() if "=" in kv)
    key = (f.get("client"), f.get("file"))
    if "skipped" in f:
        skipped.add(f["client"])
    elif "cpu_s" in f and float(f["cpu_s"]) > 0:
        if int(f["served"]) < requests:
            short[key] += 1
        # aiohttp's own figures for the requests alone (no interpreter start, no import)
        own = dict(re.findall(r"(\w+)=([0-9.]+)", said))
        if "cpu_s" in own and float(own["cpu_s"]) > 0:
            f["own_rps"] = requests / float(own["seconds"])
            f["own_per_cpu"] = requests / float(own["cpu_s"])
        f["rps"] = requests / float(f["wall_s"])
        f["per_cpu"] = requests / float(f["cpu_s"])
        runs[key].append(f)
    else:
        failed[key] += 1
def med(c, fl, k):
    v = [float(r[k]) for r in runs.get((c, fl), []) if k in r]
    return statistics.median(v) if v else None
print(f"Median of {reps} runs; {requests:,} GETs over {conns} connections from nginx (1 worker, core 0); client on core 1.\n")
head, rule = "| client |", "|---|"
for fl in files:
    head += f" {fl} req/s | {fl} req per client CPU-s (vs aiohttp) |"
    rule += "---|---|"
head += " connections used |"
rule += "---|"
print(head)
print(rule)
rows = [(c, "") for c in clients]
if "aiohttp" in clients:
    rows.insert(rows.index(("aiohttp", "")) + 1, ("aiohttp", "own_"))
for c, pre in rows:
    label = names.get(c, c) + (", requests only (its own timing)" if pre else "")
    row = f"| {label} |"
    if c in skipped:
        print(row + " skipped: not built |" + " |" * (2 * len(files)))
        continue
    used = set()
    for fl in files:
        m = med(c, fl, pre + "rps")
        if m is None:
            row += " failed | failed |"
            continue
        pc, base = med(c, fl, pre + "per_cpu"), med("aiohttp", fl, "per_cpu")
        ratio = f" ({pc / base:.2f}x)" if base else ""
        row += f" {m / 1000:,.1f}k | {pc / 1000:,.1f}k{ratio} |"
        used |= {int(r["conns_used"]) for r in runs[(c, fl)]}
    row += f" {min(used)}-{max(used)} |" if len(used) > 1 else f" {used.pop() if used else '?'} |"
    print(row)
for (c, fl), n in sorted(failed.items()):
    print(f"\n{names.get(c, c)}, {fl}: {n} failed run(s) (see {path})")
for (c, fl), n in sorted(short.items()):
    print(f"\n{names.get(c, c)}, {fl}: nginx served fewer than {requests} requests in {n} run(s) (see {path})")
PY
