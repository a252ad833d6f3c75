#!/usr/bin/env bash
# Runs the task workloads (W1 W2 W3 W4) on aio and on the peers (asyncio, uvloop,
# Boost.Asio, Go, Node) in one run on this machine, each pinned to one core, each
# workload in a fresh process, REPS times (default 5), and prints a Markdown table of
# the medians with each peer's ratio to aio.
#
# Usage: bench/run_peers.sh [build-dir]        (default: build/peers)
# Env:   AIO_BENCH=path/to/aio_bench_tasks     (default: build/release/bench/aio_bench_tasks)
#        REPS=5  WORKLOADS="W1 W2 W3 W4"  CORE=1
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-build/peers}
reps=${REPS:-5}
workloads=${WORKLOADS:-W1 W2 W3 W4}
core=${CORE:-1}
aio_bench=${AIO_BENCH:-build/release/bench/aio_bench_tasks}
mkdir -p "$out"

# Build the compiled peers (Go's caches stay in the build folder; no network).
export GOCACHE="$PWD/$out/go-cache" GOPATH="$PWD/$out/go-path" GOPROXY=off GOFLAGS=-mod=mod
(cd bench/peers/go && go build -o "$OLDPWD/$out/go_tasks" .)
g++ -std=c++20 -O2 -DNDEBUG bench/peers/asio/tasks.cpp -o "$out/asio_tasks" -pthread

declare -A cmd=(
  [aio]="$aio_bench"
  [asyncio]="/usr/bin/python3 bench/peers/python/tasks.py"
  [uvloop]="/usr/bin/python3 bench/peers/python/tasks.py --uvloop"
  [asio]="$out/asio_tasks"
  [go]="env GOMAXPROCS=1 $out/go_tasks"
  [node]="node bench/peers/node/tasks.js"
)
runtimes=(aio asyncio uvloop asio go node)

results="$out/results.txt"
: >"$results"
for w in $workloads; do
  for rt in "${runtimes[@]}"; do
    if [ "$rt" = aio ] && [ ! -x "$aio_bench" ]; then
      echo "runtime=$rt $w failed (build $aio_bench first)" >>"$results"
      continue
    fi
    for ((i = 0; i < reps; i++)); do
      # shellcheck disable=SC2086
      line=$(taskset -c "$core" ${cmd[$rt]} "$w" 2>/dev/null | grep "name=$w" || true)
      echo "runtime=$rt ${line:-name=$w failed}" >>"$results"
    done
  done
done

/usr/bin/python3 - "$results" "$reps" <<'PY'
import statistics, sys, collections
path, reps = sys.argv[1], sys.argv[2]
runs = collections.defaultdict(list)
for line in open(path):
    f = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
    runs[(f.get("name"), f["runtime"])].append(f)
runtimes = ["aio", "asyncio", "uvloop", "asio", "go", "node"]
names = {"aio": "aio", "asyncio": "asyncio", "uvloop": "uvloop", "asio": "Boost.Asio", "go": "Go", "node": "Node"}
def median(w, rt, key):
    vals = [float(r[key]) for r in runs.get((w, rt), []) if key in r]
    return statistics.median(vals) if vals else None
print(f"Median of {reps} runs, one core (taskset), one fresh process per run.\n")
print("| workload | " + " | ".join(names[r] for r in runtimes) + " |")
print("|---|" + "---|" * len(runtimes))
for w in sorted({k[0] for k in runs if k[0]}):
    for key, unit in (("per_op_ns", "ns/op"), ("bytes_per_task", "bytes/task")):
        cells, base = [], median(w, "aio", key)
        if all(median(w, r, key) is None for r in runtimes):
            continue
        for r in runtimes:
            v = median(w, r, key)
            if v is None:
                skipped = [x for x in runs.get((w, r), []) if "skipped" in x]
                cells.append("n/a" if skipped else "failed")
            elif r == "aio" or not base:
                cells.append(f"{v:,.1f}" if key == "per_op_ns" else f"{v:,.0f}")
            else:
                cells.append((f"{v:,.1f}" if key == "per_op_ns" else f"{v:,.0f}") + f" ({v / base:.1f}x)")
        print(f"| {w} {unit} | " + " | ".join(cells) + " |")
PY
