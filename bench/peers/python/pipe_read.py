"""The subprocess pipe benchmark in Python: asyncio, or uvloop with --uvloop.

    python3 pipe_read.py [--uvloop] bulk|lines N CMD [ARG...]

Spawns CMD with asyncio.create_subprocess_exec, stdout=PIPE, and reads proc.stdout:
bulk: `await proc.stdout.read(65536)` to EOF, counting the bytes, then `await
proc.wait()`; N is the number of bytes expected (exit status 1 when another number
came). lines: N `await proc.stdout.readline()`, then proc.kill() and `await
proc.communicate()`: CPython 3.11's wait() returns only once every pipe is closed
(base_subprocess: the waiters are woken in _call_connection_lost), and a reader
paused on a full buffer never sees the pipe's EOF, so a bare wait() after the kill
hangs about one run in three; communicate() reads what is left (at most the pipe's
64 KiB and the reader's 128 KiB) to EOF, then waits.

Prints one line: mode=... [lines=...] bytes=... wall_s=... cpu_s=... user_s=...
sys_s=..., the wall time from before the spawn to after the wait and this process's
own CPU time (getrusage RUSAGE_SELF, all its threads: not the child's) over the same
span; the interpreter's start-up is not in it.
"""
import asyncio
import resource
import sys
import time


async def main(mode, want, cmd):
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(*cmd, stdout=asyncio.subprocess.PIPE)
    nbytes = lines = 0
    if mode == "bulk":
        while True:
            chunk = await proc.stdout.read(65536)
            if not chunk:
                break
            nbytes += len(chunk)
    else:
        while lines < want:
            line = await proc.stdout.readline()
            if not line:  # the child ended early
                break
            nbytes += len(line)
            lines += 1
        proc.kill()
        await proc.communicate()
    await proc.wait()
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    user, sys_ = r1.ru_utime - r0.ru_utime, r1.ru_stime - r0.ru_stime
    times = f"wall_s={wall:.4f} cpu_s={user + sys_:.4f} user_s={user:.4f} sys_s={sys_:.4f}"
    if mode == "bulk":
        print(f"mode=bulk bytes={nbytes} {times}", flush=True)
        return 0 if nbytes == want else 1
    print(f"mode=lines lines={lines} bytes={nbytes} {times}", flush=True)
    return 0 if lines == want else 1


if __name__ == "__main__":
    args = sys.argv[1:]
    use_uvloop = bool(args) and args[0] == "--uvloop"
    if use_uvloop:
        args = args[1:]
    if len(args) < 3 or args[0] not in ("bulk", "lines"):
        sys.exit("usage: pipe_read.py [--uvloop] bulk|lines N CMD [ARG...]")
    if use_uvloop:
        import uvloop

        uvloop.install()
    sys.exit(asyncio.run(main(args[0], int(args[1]), args[2:])))
