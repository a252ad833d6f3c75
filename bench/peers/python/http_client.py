"""The HTTP client benchmark's aiohttp client.

    python3 http_client.py URL REQUESTS CONNECTIONS [--uvloop]

One ClientSession with TCPConnector(limit=CONNECTIONS), CONNECTIONS worker tasks
sharing REQUESTS GETs of URL; every response must be 200, and every body is read in
full. Prints "requests=N bytes=B seconds=S cpu_s=C": the wall and the process CPU
time (time.process_time, all threads) of the requests alone, from the session's
creation to its close, without the interpreter's start and aiohttp's import (the
benchmark script measures the whole process as well).
"""
import asyncio
import sys
import time

import aiohttp


async def main(url, total, conns):
    left = total
    nbytes = 0

    async def worker(session):
        nonlocal left, nbytes
        while left > 0:
            left -= 1
            async with session.get(url) as resp:
                body = await resp.read()
                if resp.status != 200:
                    raise SystemExit(f"GET {url}: status {resp.status}")
                nbytes += len(body)

    t0, c0 = time.monotonic(), time.process_time()
    connector = aiohttp.TCPConnector(limit=conns)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(worker(session) for _ in range(conns)))
    t1, c1 = time.monotonic(), time.process_time()
    print(f"requests={total} bytes={nbytes} seconds={t1 - t0:.3f} cpu_s={c1 - c0:.3f}")


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit("usage: http_client.py URL REQUESTS CONNECTIONS [--uvloop]")
    if "--uvloop" in sys.argv[4:]:
        import uvloop

        uvloop.install()
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
