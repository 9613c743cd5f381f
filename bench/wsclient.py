"""A WebSocket client (RFC 6455, with permessage-deflate, RFC 7692) over one asyncio protocol,
for the load benchmark's phones (`bench/rawclient.py`).

Why not aiohttp's `ws_connect`, which the phones used until 2 December: the client processes
share the machine's 2 cores with the server, and a reconnection cost them 0.62 ms of CPU with
aiohttp (its request and response objects, header multidicts, timers and a task per read),
about as much as it cost the server. Every millisecond the clients take is one the server
waits for a core, and a hall's phones cost the server nothing of the sort. Here a phone's
socket is one `asyncio.Protocol`: the upgrade request written at once, frames parsed as bytes
arrive, text messages handed to a waiting reader.

The server sees what a browser sends: `GET` with `Upgrade: websocket`, the phone's cookie, and
the offer every browser makes (`permessage-deflate; client_max_window_bits`); frames masked, as
a client's must be; every message compressed when compression is agreed, as Chromium and
aiohttp do (each on its own when the server asks for `client_no_context_takeover`).
"""

from __future__ import annotations

import asyncio
import base64
import collections
import hashlib
import os
import random
import struct
import zlib
from urllib.parse import urlsplit

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OFFER = "permessage-deflate; client_max_window_bits"
MAX_HEAD = 16384  # bytes: an answer's head longer than this is refused
MAX_MESSAGE = 16 * 1024 * 1024  # bytes: a message longer than this closes the socket
TAIL = b"\x00\x00\xff\xff"  # what a deflate block flushed with Z_SYNC_FLUSH ends with (RFC 7692 7.2.1)
_mask_rng = random.Random(os.urandom(8))


class WebSocketError(ConnectionError):
    """The upgrade was refused, or the connection broke the protocol."""


def mask(payload: bytes, key: bytes) -> bytes:
    """`payload` XORed with the 4-byte `key` repeated (RFC 6455 5.3)."""
    n = len(payload)
    if not n:
        return payload
    repeated = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(n, "big")


def frame(opcode: int, payload: bytes, rsv1: bool = False) -> bytes:
    """One final, masked client frame."""
    n = len(payload)
    head = bytes([0x80 | (0x40 if rsv1 else 0) | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += struct.pack("!BH", 0x80 | 126, n)
    else:
        head += struct.pack("!BQ", 0x80 | 127, n)
    key = _mask_rng.getrandbits(32).to_bytes(4, "big")
    return head + key + mask(payload, key)


def agreed_window(extensions: str) -> int | None:
    """The client's window bits under the permessage-deflate the server agreed to in
    `extensions` (15 unless it set `client_max_window_bits`), None if it agreed to none."""
    for offer in extensions.split(","):
        params = [p.strip() for p in offer.split(";")]
        if params[0].lower() != "permessage-deflate":
            continue
        bits = 15
        for param in params[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "client_max_window_bits" and value.strip():
                bits = int(value.strip().strip('"'))
        return max(9, min(15, bits))
    return None


class WebSocket(asyncio.Protocol):
    """One client WebSocket. `await open_websocket(...)` makes one; then `receive()` (a text
    message, None once closed), `send_str(text)`, `close()`."""

    def __init__(self, request: bytes, key: bytes):
        self.request = request
        self.accept = base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()  # noqa: S324 - RFC 6455
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded = asyncio.get_running_loop().create_future()
        self.window: int | None = None  # the client's deflate window bits, None: not compressed
        self.messages: collections.deque[str] = collections.deque()
        self.waiter: asyncio.Future | None = None
        self.fragments: list[bytes] = []
        self.fragmented_compressed = False
        self.closed = False
        self.close_sent = False

    # --- asyncio.Protocol

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        try:
            if not self.upgraded.done() and not self._read_head():
                return
            self._read_frames()
        except WebSocketError as exc:
            self._fail(exc)

    def connection_lost(self, exc) -> None:
        self.closed = True
        if not self.upgraded.done():
            self.upgraded.set_exception(WebSocketError(f"connection closed during the upgrade: {exc}"))
        self._wake()

    # --- the upgrade's answer and the frames

    def _read_head(self) -> bool:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > MAX_HEAD:
                raise WebSocketError("answer's head too long")
            return False
        lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        del self.buffer[:end + 4]
        status = lines[0].split(" ", 2)
        if len(status) < 2 or status[1] != "101":
            raise WebSocketError(f"upgrade refused: {lines[0]}")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("sec-websocket-accept") != self.accept:
            raise WebSocketError("wrong Sec-WebSocket-Accept")
        self.window = agreed_window(headers.get("sec-websocket-extensions", ""))
        self.upgraded.set_result(self)
        return True

    def _read_frames(self) -> None:
        buffer = self.buffer
        while len(buffer) >= 2:
            first, second = buffer[0], buffer[1]
            if second & 0x80:
                raise WebSocketError("masked frame from the server")
            length, start = second & 0x7F, 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length, start = int.from_bytes(buffer[2:4], "big"), 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length, start = int.from_bytes(buffer[2:10], "big"), 10
            if length > MAX_MESSAGE:
                raise WebSocketError("message too long")
            if len(buffer) < start + length:
                return
            payload = bytes(buffer[start:start + length])
            del buffer[:start + length]
            self._frame(first & 0x80, first & 0x40, first & 0x0F, payload)

    def _frame(self, fin: int, rsv1: int, opcode: int, payload: bytes) -> None:
        if opcode == 0x8:  # close: answered, then the connection is let go
            self._send_close(payload[:2])
            self.transport.close()
            return
        if opcode == 0x9:  # ping
            self.transport.write(frame(0xA, payload))
            return
        if opcode == 0xA:  # pong
            return
        if opcode in (0x1, 0x2):
            self.fragments, self.fragmented_compressed = [payload], bool(rsv1)
        elif opcode == 0x0 and self.fragments:
            self.fragments.append(payload)
        else:
            raise WebSocketError(f"unexpected frame (opcode {opcode})")
        if not fin:
            return
        data = b"".join(self.fragments)
        self.fragments = []
        if self.fragmented_compressed:
            if self.window is None:
                raise WebSocketError("compressed frame without compression agreed")
            data = zlib.decompressobj(-15).decompress(data + TAIL)
        self.messages.append(data.decode())
        self._wake()

    def _wake(self) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _fail(self, exc: Exception) -> None:
        if not self.upgraded.done():
            self.upgraded.set_exception(exc)
        if self.transport is not None:
            self.transport.close()

    def _send_close(self, code: bytes = b"\x03\xe8") -> None:
        if not self.close_sent and self.transport is not None and not self.transport.is_closing():
            self.close_sent = True
            self.transport.write(frame(0x8, code))

    # --- the caller's side

    async def receive(self) -> str | None:
        """The next text message; None once the socket is closed."""
        while not self.messages:
            if self.closed:
                return None
            self.waiter = asyncio.get_running_loop().create_future()
            await self.waiter
        return self.messages.popleft()

    async def send_str(self, text: str) -> None:
        if self.closed or self.transport is None or self.transport.is_closing():
            raise ConnectionError("socket closed")
        data = text.encode()
        if self.window is None:
            self.transport.write(frame(0x1, data))
            return
        compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -self.window)
        body = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
        self.transport.write(frame(0x1, body[:-4] if body.endswith(TAIL) else body, rsv1=True))

    async def close(self) -> None:
        """Close frame sent (code 1000), connection let go."""
        if self.transport is not None and not self.closed:
            self._send_close()
            self.transport.close()


async def open_websocket(url: str, headers: dict | None = None, local_addr: tuple | None = None,
                         compress: bool = True) -> WebSocket:
    """A WebSocket to `url` (`ws://host:port/path?query`), upgraded; `headers` added to the
    request (the phone's cookie); from `local_addr` when given."""
    parts = urlsplit(url)
    if parts.scheme != "ws":
        raise ValueError(f"not a ws:// URL: {url}")
    host, port = parts.hostname, parts.port or 80
    key = base64.b64encode(os.urandom(16))
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {path} HTTP/1.1", f"Host: {parts.netloc}", "Upgrade: websocket", "Connection: Upgrade",
             f"Sec-WebSocket-Key: {key.decode()}", "Sec-WebSocket-Version: 13",
             "User-Agent: Palabre-bench", "Accept: */*"]
    if compress:
        lines.append(f"Sec-WebSocket-Extensions: {OFFER}")
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    loop = asyncio.get_running_loop()
    _transport, socket = await loop.create_connection(lambda: WebSocket(request, key), host, port,
                                                      local_addr=local_addr)
    try:
        return await socket.upgraded
    except BaseException:
        socket.transport.close()
        raise
