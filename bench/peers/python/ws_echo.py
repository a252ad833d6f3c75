"""The WebSocket benchmark's servers in Python (docs/benchmarks.md, "WebSocket echo").

    python3 ws_echo.py PORT aiohttp|websockets [--uvloop] [--compress]

aiohttp: a web.Application whose /ws handler is a WebSocketResponse sending every
message back (`async for msg in ws`), as aiohttp's documentation writes it.
websockets: the websockets library's serve(), `async for message in websocket:
await websocket.send(message)`. Both listen on 127.0.0.1:PORT, print
"listening port=PORT" and run until killed; --uvloop runs them on uvloop.
--compress lets websockets accept permessage-deflate (with its own defaults); aiohttp
accepts it always, as its WebSocketResponse(compress=True) default does.
"""
import asyncio
import sys


async def aiohttp_main(port):
    from aiohttp import web, WSMsgType

    async def echo(request):
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            if msg.type == WSMsgType.BINARY:
                await ws.send_bytes(msg.data)
            elif msg.type == WSMsgType.TEXT:
                await ws.send_str(msg.data)
        return ws

    app = web.Application()
    app.router.add_get("/ws", echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print(f"listening port={port}", flush=True)
    await asyncio.Event().wait()


async def websockets_main(port, compress):
    import websockets

    async def echo(websocket, path=None):
        async for message in websocket:
            await websocket.send(message)

    async with websockets.serve(echo, "127.0.0.1", port, compression="deflate" if compress else None,
                                max_size=None):
        print(f"listening port={port}", flush=True)
        await asyncio.Event().wait()


def main():
    port, kind = int(sys.argv[1]), sys.argv[2]
    if "--uvloop" in sys.argv[3:]:
        import uvloop
        uvloop.install()
    compress = "--compress" in sys.argv[3:]
    asyncio.run(aiohttp_main(port) if kind == "aiohttp" else websockets_main(port, compress))


if __name__ == "__main__":
    main()
