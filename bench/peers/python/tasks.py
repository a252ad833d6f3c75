"""The task workloads of docs/benchmarks.md on asyncio (or uvloop with --uvloop).

Usage: tasks.py [--uvloop] [W1|W2|W3|W4]   (no workload: all, in this process)
Prints one line per workload: name=W1 n=1000000 seconds=... per_op_ns=...
"""
import asyncio
import sys
import time


def peak_rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def report(name, n, seconds, bytes_per_task=None):
    line = f"name={name} n={n} seconds={seconds:.6f} per_op_ns={seconds * 1e9 / n:.1f}"
    if bytes_per_task is not None:
        line += f" bytes_per_task={bytes_per_task}"
    print(line, flush=True)


async def trivial(i):
    return i


async def w1(n):
    # create n tasks of a trivial coroutine, then await them all
    t0 = time.perf_counter()
    tasks = [asyncio.create_task(trivial(i)) for i in range(n)]
    total = 0
    for t in tasks:
        total += await t
    del tasks
    report("W1", n, time.perf_counter() - t0)


async def w2(n):
    # n sequential awaits of a trivial coroutine in one task
    t0 = time.perf_counter()
    total = 0
    for i in range(n):
        total += await trivial(i)
    report("W2", n, time.perf_counter() - t0)


async def w3(n):
    # two tasks pass a token back and forth through two queues: n hand-overs
    q1, q2 = asyncio.Queue(), asyncio.Queue()

    async def ping():
        for _ in range(n // 2):
            await q1.put(1)
            await q2.get()

    async def pong():
        for _ in range(n // 2):
            await q1.get()
            await q2.put(1)

    t0 = time.perf_counter()
    await asyncio.gather(ping(), pong())
    report("W3", n, time.perf_counter() - t0)


async def sleeper():
    await asyncio.sleep(1)


async def w4(n):
    # n tasks each sleeping 1 s concurrently; bytes per task from the peak RSS
    before = peak_rss()
    t0 = time.perf_counter()
    tasks = [asyncio.create_task(sleeper()) for _ in range(n)]
    for t in tasks:
        await t
    seconds = time.perf_counter() - t0
    report("W4", n, seconds, (peak_rss() - before) // n)


WORKLOADS = {"W1": (w1, 1_000_000), "W2": (w2, 1_000_000), "W3": (w3, 1_000_000), "W4": (w4, 100_000)}


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if "--uvloop" in sys.argv:
        import uvloop
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    names = args or list(WORKLOADS)
    for name in names:
        fn, n = WORKLOADS[name]
        asyncio.run(fn(n))


if __name__ == "__main__":
    main()
