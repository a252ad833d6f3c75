"""The table of bench/run_echo.sh and bench/run_ws.sh: medians over the rounds.

    echo_report.py RESULTS REPS CONNS SECONDS RATE BASE BASE_LABEL WHAT SERVER...

RESULTS holds one "key=value ..." line per run (server=, size=, msgs=, msgs_per_s=,
p50_us=, p99_us=, server_cpu_s=); BASE is the server the ratios are taken to and
BASE_LABEL its name in the header; WHAT names the connections ("connections",
"WebSockets"). The display names come from
the environment as "key=name" lines (ECHO_NAMES).
"""
import collections
import os
import statistics
import sys

path, reps, conns, secs, rate, base, base_label, what = sys.argv[1:9]
servers = sys.argv[9:]
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


paced = f", paced at {int(float(rate)):,} msgs/s in all" if float(rate) > 0 else ""
print(f"Median of {reps} runs; {conns} {what}{paced}, {secs} s per run; server on core 0, client on core 1.\n")
head, rule = "| server |", "|---|"
for size in sizes:
    head += f" {size} B msgs/s | {size} B msgs per server CPU-s (vs {base_label}) | {size} B p50/p99 µs |"
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
        pc, b = med(s, size, "per_cpu"), med(base, size, "per_cpu")
        ratio = f" ({pc / b:.2f}x)" if b else ""
        row += f" {m / 1000:,.0f}k | {pc / 1000:,.0f}k{ratio} | {med(s, size, 'p50_us'):,.0f} / {med(s, size, 'p99_us'):,.0f} |"
    print(row)
