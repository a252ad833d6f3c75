"""The HTTP benchmark's server in aiohttp, on asyncio or on uvloop.

    python3 http_hello.py PORT [--uvloop]

A web.Application whose router answers GET / with 200 "Hello, World!" (text/plain;
other paths get aiohttp's 404), keep-alive as aiohttp does by default, the access
log off. Listens on 127.0.0.1:PORT, prints "listening port=PORT" when ready and runs
until killed.
"""
import asyncio
import sys

from aiohttp import web

HELLO = b"Hello, World!"


async def hello(request):
    return web.Response(body=HELLO, content_type="text/plain")


async def main(port):
    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=1024)
    await site.start()
    print(f"listening port={port}", flush=True)
    try:
        await asyncio.Event().wait()  # until killed
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: http_hello.py PORT [--uvloop]")
    port = int(sys.argv[1])
    if "--uvloop" in sys.argv[2:]:
        import uvloop

        uvloop.install()
    asyncio.run(main(port))
