"""The echo benchmark's server in Python: asyncio or uvloop, streams or protocols.

    python3 echo.py PORT streams|protocols [--uvloop]

streams: start_server, and per connection `data = await reader.read(65536)`,
`writer.write(data)`, `await writer.drain()`, closing after the client's EOF.
protocols: a Protocol whose data_received writes the bytes straight back to the
transport (which buffers what the kernel does not take) and closes on eof_received.
Listens on 127.0.0.1:PORT and runs until killed.
"""
import asyncio
import sys


async def echo_stream(reader, writer):
    while True:
        data = await reader.read(65536)
        if not data:
            break
        writer.write(data)
        await writer.drain()
    writer.close()
    await writer.wait_closed()


class EchoProtocol(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)

    def eof_received(self):
        self.transport.close()  # closes once the buffered data is sent
        return True


async def main(port, mode):
    if mode == "streams":
        server = await asyncio.start_server(echo_stream, "127.0.0.1", port)
    elif mode == "protocols":
        server = await asyncio.get_running_loop().create_server(EchoProtocol, "127.0.0.1", port)
    else:
        sys.exit(f"unknown mode {mode!r}: streams or protocols")
    print(f"listening port={port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: echo.py PORT streams|protocols [--uvloop]")
    port, mode = int(sys.argv[1]), sys.argv[2]
    if "--uvloop" in sys.argv[3:]:
        import uvloop

        uvloop.install()
    asyncio.run(main(port, mode))
