#!/usr/bin/env python3
"""The docs' C++ snippets: checks that the pages show them exactly, and runs them.

Every ```cpp block of a page (docs/guide.md, docs/pitfalls.md) is the part of a
program in docs/snippets/ between a `// [snippet]` and a `// [/snippet]` line (those
two lines left out), and says which one with an HTML comment on the line before it:

    <!-- snippet: coroutines -->          the region of snippets/coroutines.cpp
    <!-- snippet: coroutines:tasks -->    its region opened by `// [snippet tasks]`

The build compiles every snippet file, so a block that is shown is code that
compiles; this script makes sure the page cannot drift from it.

    snippets.py check PAGE... [--snippets DIR]   exit 1 listing every mismatch
    snippets.py run BINARY SOURCE                 run one program as its test says

A snippet file says how it is tested with `// test:` comment lines:

    // test: env NAME=VALUE          set for the run (AIO_CLOCK=virtual for sleeps)
    // test: stdout LINE             the program prints exactly these lines, in order
                                     (`// test: stdout` alone is an empty line)
    // test: stdout-contains TEXT    some line of stdout contains TEXT
    // test: stderr-contains TEXT    stderr contains TEXT (in the order given)
    // test: stderr-empty            nothing on stderr
    // test: exit N                  the exit status (default 0; -6 for SIGABRT;
                                     `nonzero` for any failure)
    // test: asan-only               skip the run unless built with AddressSanitizer
                                     (the test passes only when the build says so:
                                     `run` is not registered otherwise)
    // test: compile-only            not run (CMake does not register a test)
"""
import os
import re
import subprocess
import sys

BEGIN = re.compile(r"^\s*// \[snippet(?: ([\w-]+))?\]\s*$")
END = re.compile(r"^\s*// \[/snippet\]\s*$")
REF = re.compile(r"^<!-- snippet: ([\w-]+)(?::([\w-]+))? -->$")


def regions(path):
    """{region name or None: text} of a snippet file."""
    out = {}
    current = None
    lines = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            m = BEGIN.match(line)
            if m:
                if current is not None:
                    raise SystemExit(f"{path}:{number}: [snippet] inside a snippet")
                current = m.group(1) or ""
                lines = []
                continue
            if END.match(line):
                if current is None:
                    raise SystemExit(f"{path}:{number}: [/snippet] without [snippet]")
                if current in out:
                    raise SystemExit(f"{path}:{number}: region '{current}' twice")
                out[current] = "\n".join(lines)
                current = None
                continue
            if current is not None:
                lines.append(line)
    if current is not None:
        raise SystemExit(f"{path}: [snippet] never closed")
    return out


def blocks(page):
    """(line number, reference line or None, text) of every ```cpp block."""
    out = []
    with open(page, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```cpp":
            start = i
            before = None
            j = i - 1
            while j >= 0 and lines[j].strip() == "":
                j -= 1
            if j >= 0:
                before = lines[j].strip()
            i += 1
            body = []
            while i < len(lines) and lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            out.append((start + 1, before, "\n".join(body)))
        i += 1
    return out


def check(pages, snippet_dir):
    errors = []
    shown = 0
    for page in pages:
        for line, ref, text in blocks(page):
            m = REF.match(ref or "")
            if not m:
                errors.append(f"{page}:{line}: a ```cpp block without a <!-- snippet: NAME --> line before it")
                continue
            name, region = m.group(1), m.group(2) or ""
            path = os.path.join(snippet_dir, name + ".cpp")
            if not os.path.exists(path):
                errors.append(f"{page}:{line}: {path} does not exist")
                continue
            found = regions(path)
            if region not in found:
                label = f"[snippet {region}]" if region else "[snippet]"
                errors.append(f"{page}:{line}: {path} has no {label} region")
                continue
            if found[region] != text:
                errors.append(f"{page}:{line}: the block differs from {path}"
                              f"{' region ' + region if region else ''}:\n"
                              + diff(found[region], text))
                continue
            shown += 1
    for e in errors:
        print(e, file=sys.stderr)
    if errors:
        return 1
    print(f"{shown} blocks match their snippets")
    return 0


def diff(want, got, labels=("snippet", "page")):
    import difflib
    return "\n".join(difflib.unified_diff(want.split("\n"), got.split("\n"), *labels, lineterm=""))


def directives(source):
    out = []
    with open(source, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^\s*// test: ([\w-]+) ?(.*)$", line.rstrip("\n"))
            if m:
                out.append((m.group(1), m.group(2)))
    return out


def run(binary, source):
    env = dict(os.environ)
    stdout_lines = None
    stdout_contains = []
    stderr_contains = []
    stderr_empty = False
    exit_code = 0
    for key, value in directives(source):
        if key == "env":
            k, _, v = value.partition("=")
            env[k] = v
        elif key == "stdout":
            stdout_lines = (stdout_lines or []) + [value]
        elif key == "stdout-contains":
            stdout_contains.append(value)
        elif key == "stderr-contains":
            stderr_contains.append(value)
        elif key == "stderr-empty":
            stderr_empty = True
        elif key == "exit":
            exit_code = value if value == "nonzero" else int(value)
        elif key in ("asan-only", "compile-only"):
            pass
        else:
            print(f"{source}: unknown directive '// test: {key}'", file=sys.stderr)
            return 2
    p = subprocess.run([binary], env=env, capture_output=True, text=True, timeout=60)
    sys.stdout.write(p.stdout)
    sys.stderr.write(p.stderr)
    failures = []
    if (p.returncode == 0) if exit_code == "nonzero" else (p.returncode != exit_code):
        failures.append(f"exit status {p.returncode}, expected {exit_code}")
    out = p.stdout.split("\n")
    if out and out[-1] == "":
        out.pop()
    if stdout_lines is not None and out != stdout_lines:
        failures.append("stdout differs:\n" + diff("\n".join(stdout_lines), "\n".join(out), ("expected", "stdout")))
    for text in stdout_contains:
        if not any(text in line for line in out):
            failures.append(f"no stdout line contains {text!r}")
    pos = 0
    for text in stderr_contains:
        k = p.stderr.find(text, pos)
        if k < 0:
            failures.append(f"stderr lacks {text!r} (after position {pos})")
        else:
            pos = k + len(text)
    if stderr_empty and p.stderr:
        failures.append("stderr is not empty")
    for f in failures:
        print(f"FAIL {os.path.basename(source)}: {f}", file=sys.stderr)
    return 1 if failures else 0


def main(argv):
    if len(argv) >= 2 and argv[1] == "check":
        args = argv[2:]
        snippet_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "snippets")
        if "--snippets" in args:
            k = args.index("--snippets")
            snippet_dir = args[k + 1]
            del args[k:k + 2]
        return check(args, snippet_dir)
    if len(argv) == 4 and argv[1] == "run":
        return run(argv[2], argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
