#!/usr/bin/env bash
# The subprocess pipe benchmark (docs/benchmarks.md, "Subprocess pipes"): a parent
# reading a child's stdout. Builds the compiled peers into build/peers, then runs
# every program in both modes, REPS rounds over all of them in turn, each run a fresh
# parent process pinned to PARENT_CORE whose child is pinned to CHILD_CORE (the
# child's command starts with `taskset -c CHILD_CORE`, which execs the writer, so
# the writer is the parent's own child):
#
#   bulk:  the child is `dd if=/dev/zero bs=BLOCK count=BYTES/BLOCK status=none`; the
#          parent reads to EOF in chunks of up to 64 KiB, counts the bytes, waits.
#   lines: the child is `yes LINE` (61 bytes with its newline); the parent reads
#          LINES lines one by one, then kills the child and waits for it.
#
# Each program prints one line (mode=... bytes=... wall_s=... cpu_s=... user_s=...
# sys_s=...): the wall time from before the spawn to after the wait, and the parent's
# own CPU time over it (getrusage RUSAGE_SELF, all its threads; the child's is not
# in it). The script prints a Markdown table of the medians: MiB (lines) per second,
# MiB (lines) per parent CPU-second with its ratio to the raw C floor's, then the
# parent's user and system time per run.
#
# Besides each runtime's own way, some rows change one thing, in bulk mode only (the
# lines cell says "-"): the transport (a Unix socketpair, which libuv, so uvloop and
# Node, gives a child for a pipe; a pipe of PIPE_SIZE bytes, F_SETPIPE_SZ, instead of
# 64 KiB), and aio in place plus a string per chunk or line (--copy), which leaves
# read()'s and readline()'s coroutines as the difference to the aio row.
#
# Usage: bench/run_pipe.sh [build-dir]        (default: build/peers)
# Env:   AIO_BENCH_DIR=build/release/bench (aio_pipe_read)
#        REPS=5  BYTES=2147483648 (2 GiB)  BLOCK=65536  LINES=5000000  MODES="bulk lines"
#        PROGRAMS="c c-socketpair c-bigpipe aio aio-in-place aio-in-place-copy aio-socketpair
#                  aio-bigpipe asyncio uvloop go node"  PIPE_SIZE=1048576 (the -bigpipe rows)
#        PARENT_CORE=0  CHILD_CORE=1  TIMEOUT=120 (seconds, per run)
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-build/peers}
bench_dir=${AIO_BENCH_DIR:-build/release/bench}
reps=${REPS:-5}
bytes=${BYTES:-2147483648}
block=${BLOCK:-65536}
lines=${LINES:-5000000}
modes=${MODES:-bulk lines}
parent_core=${PARENT_CORE:-0}
child_core=${CHILD_CORE:-1}
limit=${TIMEOUT:-120}
pipe_size=${PIPE_SIZE:-1048576}
if ((pipe_size % 1048576 == 0)); then big="$((pipe_size / 1048576)) MiB"; else big="$((pipe_size / 1024)) KiB"; fi
read -r -a programs <<<"${PROGRAMS:-c c-socketpair c-bigpipe aio aio-in-place aio-in-place-copy aio-socketpair aio-bigpipe asyncio uvloop go node}"
if ((bytes % block != 0)); then
  echo "run_pipe.sh: BYTES must be a multiple of BLOCK" >&2
  exit 1
fi
mkdir -p "$out"

# The peers: C always; Go and Node when installed (their rows say "n/a" otherwise).
gcc -O2 -Wall -Wextra bench/peers/c/pipe_read.c -o "$out/pipe_read_c"
have_go=0 have_node=0
if command -v go >/dev/null; then
  GOCACHE="$PWD/$out/go-cache" GO111MODULE=off GOPROXY=off \
    go build -o "$out/go_pipe_read" bench/peers/go/pipe/main.go
  have_go=1
fi
command -v node >/dev/null && have_node=1

aio=$bench_dir/aio_pipe_read
declare -A cmd=(
  [c]="$out/pipe_read_c"
  [c-socketpair]="$out/pipe_read_c --socketpair"
  [c-bigpipe]="$out/pipe_read_c --pipe-size=$pipe_size"
  [aio]="$aio"
  [aio-in-place]="$aio --in-place"
  [aio-in-place-copy]="$aio --in-place --copy"
  [aio-socketpair]="$aio --socketpair"
  [aio-bigpipe]="$aio --pipe-size=$pipe_size"
  [asyncio]="/usr/bin/python3 bench/peers/python/pipe_read.py"
  [uvloop]="/usr/bin/python3 bench/peers/python/pipe_read.py --uvloop"
  [go]="env GOMAXPROCS=1 $out/go_pipe_read"
  [node]="node bench/peers/node/pipe_read.js"
)
declare -A name=(
  [c]="raw C, blocking read(2)" [c-socketpair]="raw C, on a socketpair"
  [c-bigpipe]="raw C, $big pipe"
  [aio]="aio, read(65536) / readline()" [aio-in-place]="aio, in place (fill/buffered/consume)"
  [aio-in-place-copy]="aio, in place plus a string per chunk / line"
  [aio-socketpair]="aio, read() on a socketpair" [aio-bigpipe]="aio, read() on a $big pipe"
  [asyncio]="asyncio" [uvloop]="uvloop (a socketpair)"
  [go]="Go (os/exec, GOMAXPROCS=1)" [node]="Node (child_process; a socketpair)"
)
for p in "${programs[@]}"; do
  [[ -v cmd[$p] ]] || { echo "run_pipe.sh: unknown program $p (PROGRAMS: ${!cmd[*]})" >&2; exit 1; }
done
# available NAME: whether the program can run here.
available() {
  case $1 in
    aio*) [ -x "$aio" ] ;;
    go) ((have_go)) ;;
    node) ((have_node)) ;;
    uvloop) /usr/bin/python3 -c 'import uvloop' 2>/dev/null ;;
    *) true ;;
  esac
}

line=$(printf 'x%.0s' $(seq 60))  # yes's line: 60 bytes and its newline
count=$((bytes / block))
child=(taskset -c "$child_core")
results="$out/pipe_results.txt"
: >"$results"
echo "run_pipe.sh: $(date -u '+%Y-%m-%d %H:%M UTC'), $(git rev-parse --short HEAD 2>/dev/null || echo '?'), REPS=$reps BYTES=$bytes BLOCK=$block LINES=$lines, parent on core $parent_core, child on core $child_core" >&2
for ((r = 0; r < reps; r++)); do
  for mode in $modes; do
    for p in "${programs[@]}"; do
      if [ "$mode" = lines ] && [[ $p == *-socketpair || $p == *-bigpipe ]]; then
        continue  # bulk only
      fi
      if ! available "$p"; then
        echo "prog=$p mode=$mode skipped=1" | tee -a "$results" >&2
        continue
      fi
      if [ "$mode" = bulk ]; then
        args=(bulk "$bytes" "${child[@]}" dd if=/dev/zero bs="$block" count="$count" status=none)
      else
        args=(lines "$lines" "${child[@]}" yes "$line")
      fi
      rc=0
      # shellcheck disable=SC2086
      res=$(timeout "$limit" taskset -c "$parent_core" ${cmd[$p]} "${args[@]}") || rc=$?
      if [ "$rc" -ne 0 ] || [[ $res != mode=* ]]; then
        res="mode=$mode failed=rc_$rc"
      fi
      echo "prog=$p $res" | tee -a "$results" >&2
    done
  done
done

NAMES=$(for k in "${!name[@]}"; do printf '%s=%s\n' "$k" "${name[$k]}"; done) \
  /usr/bin/python3 - "$results" "$reps" "$bytes" "$block" "$lines" "$parent_core" "$child_core" "${programs[@]}" <<'PY'
import collections, os, statistics, sys

path, reps, nbytes, block, nlines, pcore, ccore, *progs = sys.argv[1:]
names = dict(l.split("=", 1) for l in os.environ["NAMES"].splitlines() if l)
runs = collections.defaultdict(list)
for line in open(path):
    f = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
    runs[(f["prog"], f["mode"])].append(f)
MiB = 1024 * 1024

def ok(p, m):
    return [r for r in runs.get((p, m), []) if "wall_s" in r]

def med(p, m, fn):
    vals = [fn(r) for r in ok(p, m)]
    return statistics.median(vals) if vals else None

def amount(r):  # MiB for bulk, lines for lines
    return int(r["bytes"]) / MiB if r["mode"] == "bulk" else int(r["lines"])

def missing(p, m):
    rs = runs.get((p, m), [])
    return "-" if not rs else "n/a" if all("skipped" in r for r in rs) else "failed"

def k(v):
    return f"{v / 1e6:,.2f}M" if v >= 1e6 else f"{v / 1e3:,.0f}k" if v >= 1e4 else f"{v:,.0f}"

modes = [m for m in ("bulk", "lines") if any((p, m) in runs for p in progs)]
print(f"Median of {reps} runs; parent on core {pcore}, child on core {ccore}. bulk: "
      f"{int(nbytes) // MiB:,} MiB from `dd bs={block}`; lines: {int(nlines):,} lines of 61 bytes from `yes`.\n")
head, rule = ["program"], ["---"]
for m in modes:
    unit = "MiB" if m == "bulk" else "lines"
    prefix = f"{m} " if m == "bulk" else ""  # "lines lines/s" says it twice
    head += [f"{prefix}{unit}/s", f"{prefix}{unit} per parent CPU-s (vs C)"]
    rule += ["---", "---"]
print("| " + " | ".join(head) + " |")
print("|" + "|".join(rule) + "|")
for p in progs:
    cells = [names.get(p, p)]
    for m in modes:
        tput = med(p, m, lambda r: amount(r) / float(r["wall_s"]))
        per_cpu = med(p, m, lambda r: amount(r) / max(float(r["cpu_s"]), 1e-6))
        base = med("c", m, lambda r: amount(r) / max(float(r["cpu_s"]), 1e-6))
        if tput is None:
            cells += [missing(p, m)] * 2
            continue
        ratio = f" ({per_cpu / base:.2f}x)" if base else ""
        cells += [k(tput), k(per_cpu) + ratio]
    print("| " + " | ".join(cells) + " |")

print("\nThe parent's CPU time per run, median (user / system, seconds):\n")
print("| program | " + " | ".join(f"{m} user / sys s" for m in modes) + " |")
print("|---|" + "---|" * len(modes))
for p in progs:
    cells = [names.get(p, p)]
    for m in modes:
        u, s = med(p, m, lambda r: float(r["user_s"])), med(p, m, lambda r: float(r["sys_s"]))
        cells.append(missing(p, m) if u is None else f"{u:.3f} / {s:.3f}")
    print("| " + " | ".join(cells) + " |")
PY
