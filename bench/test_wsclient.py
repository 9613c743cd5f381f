"""The load benchmark's WebSocket client (bench/wsclient.py) against a server speaking RFC 6455 by
hand over loopback: what it does with what a server may send (compressed, fragmented, pings,
a close) and with a refused upgrade. The suite never imports the benchmarks (tests/test_layers.py):
`tests/test_load_bench.py` runs this file with pytest in a child process
(`python -m pytest bench/test_wsclient.py`), and every scenario through the client."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import zlib

import pytest

from bench import wsclient

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def server_frame(opcode: int, payload: bytes, fin: bool = True, rsv1: bool = False) -> bytes:
    """A server's frame (unmasked)."""
    first = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    n = len(payload)
    if n < 126:
        return bytes([first, n]) + payload
    return bytes([first, 126]) + n.to_bytes(2, "big") + payload


async def next_client_frame(reader) -> tuple[int, bool, bytes]:
    """(opcode, rsv1, payload unmasked) of the client's next frame."""
    first, second = await reader.readexactly(2)
    assert second & 0x80, "a client's frames are masked"
    n = second & 0x7F
    if n == 126:
        n = int.from_bytes(await reader.readexactly(2), "big")
    key = await reader.readexactly(4)
    body = await reader.readexactly(n)
    return first & 0x0F, bool(first & 0x40), bytes(b ^ key[i % 4] for i, b in enumerate(body))


def deflate(text: str) -> bytes:
    compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    return (compressor.compress(text.encode()) + compressor.flush(zlib.Z_SYNC_FLUSH))[:-4]


async def serve(script, status: str = "101 Switching Protocols", extensions: str | None = None):
    """A loopback server: answers the upgrade with `status`, then runs `script(reader, writer)`;
    returns (server, port, the request heads it read)."""
    heads: list[str] = []

    async def handle(reader, writer):
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        heads.append(head)
        key = next(line.split(":", 1)[1].strip() for line in head.split("\r\n")
                   if line.lower().startswith("sec-websocket-key:"))
        accept = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()  # noqa: S324
        lines = [f"HTTP/1.1 {status}", "Upgrade: websocket", "Connection: Upgrade",
                 f"Sec-WebSocket-Accept: {accept}"]
        if extensions:
            lines.append(f"Sec-WebSocket-Extensions: {extensions}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await writer.drain()
        if status.startswith("101"):
            await script(reader, writer)
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], heads


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 10))


def test_compressed_and_fragmented_messages_arrive_whole_and_pings_are_answered():
    got: dict = {}

    async def script(reader, writer):
        compressed = deflate("x" * 3000)
        writer.write(server_frame(0x1, compressed[:100], fin=False, rsv1=True)
                     + server_frame(0x9, b"hi")  # a ping between two fragments
                     + server_frame(0x0, compressed[100:])
                     + server_frame(0x1, "plain é".encode()))
        got["pong"] = await next_client_frame(reader)
        got["sent"] = await next_client_frame(reader)

    async def main():
        agreed = "permessage-deflate; client_no_context_takeover; client_max_window_bits=9"
        server, port, heads = await serve(script, extensions=agreed)
        async with server:
            ws = await wsclient.open_websocket(f"ws://127.0.0.1:{port}/socket.io/?EIO=4",
                                               headers={"Cookie": "session=abc"})
            first, second = await ws.receive(), await ws.receive()
            await ws.send_str("40" + "y" * 600)
            await asyncio.sleep(0.2)
            await ws.close()
            return first, second, ws.window, heads[0]

    first, second, window, head = run(main())
    assert first == "x" * 3000 and second == "plain é"
    assert window == 9
    assert "Cookie: session=abc" in head and "permessage-deflate; client_max_window_bits" in head
    assert got["pong"] == (0xA, False, b"hi")
    opcode, compressed, payload = got["sent"]
    assert opcode == 0x1 and compressed
    assert zlib.decompressobj(-9).decompress(payload + wsclient.TAIL) == b"40" + b"y" * 600


def test_a_close_from_the_server_is_answered_and_ends_the_messages():
    answered: list = []

    async def script(reader, writer):
        writer.write(server_frame(0x1, b"last") + server_frame(0x8, b"\x03\xe8bye"))
        answered.append(await next_client_frame(reader))

    async def main():
        server, port, _heads = await serve(script)
        async with server:
            ws = await wsclient.open_websocket(f"ws://127.0.0.1:{port}/")
            messages = [await ws.receive(), await ws.receive()]
            with pytest.raises(ConnectionError):
                await ws.send_str("too late")
            return messages, ws.window

    messages, window = run(main())
    assert messages == ["last", None]
    assert window is None  # no compression agreed: none used
    assert answered == [(0x8, False, b"\x03\xe8")]


def test_a_refused_upgrade_raises_with_the_status():
    async def main():
        server, port, _heads = await serve(None, status="403 Forbidden")
        async with server:
            with pytest.raises(wsclient.WebSocketError, match="403"):
                await wsclient.open_websocket(f"ws://127.0.0.1:{port}/")

    run(main())


def test_agreed_window():
    assert wsclient.agreed_window("") is None
    assert wsclient.agreed_window("permessage-deflate") == 15
    assert wsclient.agreed_window("x-other, permessage-deflate; client_max_window_bits=10") == 10
    assert wsclient.agreed_window("permessage-deflate; client_max_window_bits=8") == 9
