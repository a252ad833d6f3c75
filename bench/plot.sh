#!/usr/bin/env bash
# Draws the plots of docs/benchmarks.md from its own tables, with gnuplot.
#
#   bench/plot.sh [PAGE]          (default docs/benchmarks.md; writes PNGs beside it)
#   bench/plot.sh --check [PAGE]  draws them into a scratch folder instead, and checks
#                                 that the page links each one under its table and
#                                 that the page's folder holds it (a test runs this)
#
# The tables are the results: each run script prints one, and the page keeps it. A
# table to be plotted has a marker on the line before it:
#
#   <!-- plot: img/echo.png | bars | 3,6 | Echo: messages per server CPU-second -->
#
# the PNG's path (relative to the page), the kind of plot, the columns (counted from 1,
# the row's name being column 1) and the title. Kinds:
#   bars     one group of bars per row (a runtime), one bar per column, the first
#            number of each cell ("173k (1.04x)" is 173); the columns' headers name
#            the bars.
#   ratios   one group per row (a workload), one bar per column (a runtime), the
#            ratio in brackets ("11,997.8 (117.7x)" is 117.7; a cell without one is
#            1, the reference), on a log scale.
# The page links each PNG under its table; this script only draws them.
set -euo pipefail
cd "$(dirname "$0")/.."

check=0
if [ "${1:-}" = --check ]; then check=1; shift; fi
page=${1:-docs/benchmarks.md}
command -v gnuplot >/dev/null || { echo "bench/plot.sh: gnuplot is missing (scripts/setup installs gnuplot-nox)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Each marked table becomes a data file and a gnuplot script in $work.
/usr/bin/python3 - "$page" "$work" "$check" <<'PY'
import os, re, sys

page, work, check = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
base = os.path.dirname(os.path.abspath(page))
problems = []
lines = open(page, encoding="utf-8").read().splitlines()
MARK = re.compile(r"^<!-- plot: (.+?) \| (bars|ratios) \| ([\d,]+) \| (.+) -->$")
NUMBER = re.compile(r"-?[\d,]*\.?\d+")
RATIO = re.compile(r"\(([\d,.]+)x\)")

def cells(row):
    return [c.strip() for c in row.strip().strip("|").split("|")]

def first_number(cell):
    m = NUMBER.search(cell.replace("*", ""))
    if not m:
        raise SystemExit(f"bench/plot.sh: no number in cell {cell!r}")
    return float(m.group().replace(",", ""))

def ratio(cell):
    m = RATIO.search(cell)
    return float(m.group(1).replace(",", "")) if m else 1.0

def label(name, width):
    # Long names go on two or more lines under their bars.
    words, out = name.replace("*", "").split(), [""]
    for w in words:
        if out[-1] and len(out[-1]) + 1 + len(w) > width:
            out.append(w)
        else:
            out[-1] = (out[-1] + " " + w).strip()
    return "\\n".join(out)  # gnuplot's escape, in a double-quoted string

def quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'

count = 0
for i, line in enumerate(lines):
    m = MARK.match(line)
    if not m:
        continue
    png, kind, cols, title = m.group(1), m.group(2), [int(c) - 1 for c in m.group(3).split(",")], m.group(4)
    table = []
    for row in lines[i + 1:]:
        if not row.startswith("|"):
            break
        table.append(cells(row))
    if len(table) < 3:
        raise SystemExit(f"bench/plot.sh: line {i + 1}: no table after the marker")
    header, body = table[0], table[2:]
    after = lines[i + 1 + len(table):i + 4 + len(table)]
    if not any(f"]({png})" in a for a in after):
        problems.append(f"{page}:{i + 1}: the table's plot {png} is not linked under it")
    if check and not os.path.exists(os.path.join(base, png)):
        problems.append(f"{page}:{i + 1}: {png} does not exist (run bench/plot.sh)")
    value = first_number if kind == "bars" else ratio
    data = os.path.join(work, f"{count}.dat")
    top = 0.0
    with open(data, "w") as f:
        f.write("name " + " ".join(quote(re.sub(r"\s*\(vs [^)]*\)", "", header[c])) for c in cols) + "\n")
        for row in body:
            values = [value(row[c]) for c in cols]
            top = max([top] + values)
            f.write(quote(row[0].replace("*", "")) + " " + " ".join(str(v) for v in values) + "\n")
    out = os.path.join(work, "check", png) if check else os.path.join(base, png)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"]
    plot = ", ".join(f"'{data}' using {k + 2} title columnheader({k + 2}) lc rgb '{colours[k % len(colours)]}'"
                     for k in range(len(cols)))
    with open(os.path.join(work, f"{count}.gp"), "w") as g:
        pixels = max(1200, 110 * len(body))  # at least about 110 pixels a group
        g.write(f"""set terminal pngcairo noenhanced size {pixels},560 font 'DejaVu Sans,10'
set output {quote(out)}
set title {quote(title)}
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key inside top right
set xtics nomirror
""")
        width = max(10, pixels // 8 // len(body))  # characters per line under a group of bars
        labels = [label(row[0], width).replace('"', "'") for row in body]
        tics = ", ".join(f'"{text}" {n}' for n, text in enumerate(labels))
        g.write(f"set xtics ({tics})\nset bmargin {2 + max(t.count(chr(92)) + 1 for t in labels)}\n")
        if kind == "ratios":
            g.write(f"set logscale y\nset yrange [0.1:{top * 10}]\n"
                    "set ylabel \"peer's figure / aio's (log scale; above 1: aio is faster or smaller)\"\n")
        else:
            g.write(f"set yrange [0:{top * 1.3}]\n")
        g.write(f"plot {plot}\n")
    if not check:
        print(out)
    count += 1
if count == 0:
    problems.append(f"{page} marks no table with <!-- plot: ... -->")
if problems:
    raise SystemExit("bench/plot.sh: " + "\nbench/plot.sh: ".join(problems))
PY

n=0
for gp in "$work"/*.gp; do
  gnuplot "$gp"
  n=$((n + 1))
done
if ((check)); then echo "bench/plot.sh: $n plots, each linked under its table, present and drawn"; fi
