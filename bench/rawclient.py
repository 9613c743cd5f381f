"""A lighter client process for the load benchmark: the same phones, the protocol spoken by hand.

    python -m bench.rawclient URL CODE [SOURCE]   (started by `python -m bench load --client raw`)

`bench/loadclient.py`'s phones are python-socketio AsyncClients: per phone a read task, a
write task fed through a queue, a timer around every read and a new task for every packet
received. Here each phone speaks the same protocol itself (one read task, packets handled as
they arrive) over a WebSocket of its own (`bench/wsclient.py`: one asyncio protocol per phone,
not aiohttp's client), so that the client processes, which share the machine's cores with the
server, take less of them. Only the socket differs: the join page and
its cookie, the commands, what each phone sends and records are `bench/loadclient.py`'s (its
`Phone` and `Fleet`, of which `RawFleet` changes only how a phone connects).

The protocol (docs/protocol.md; Engine.IO v4 and Socket.IO v5, text packets only, as the
server sends): `GET /socket.io/?EIO=4&transport=websocket` with the phone's cookie, upgraded to a
WebSocket; the server's open packet (`0{"sid",...,"pingInterval","pingTimeout"}`); the client's
namespace connect with its auth (`40{"code":...,"lang":"en"}`), answered `40{"sid":...}` or refused
(`44{"message":...}`); the server pings (`2`), the client answers (`3`); events `42["name",data]`,
with an ack id when an answer is wanted (`42<id>[...]`, answered `43<id>[...]`); the server cuts a
socket with `41`. JSON is encoded as python-socketio encodes it (no spaces).

Reconnection is the participant page's (static/js/core.js, socket.io-client's `Backoff`):
after a lost connection (closed, or no ping for pingInterval + pingTimeout), try again after
0.5 s doubling up to 2 s, each delay ± 50 % at random (capped at 2 s), for ever,
each attempt given 20 s (its `timeout`);
cut by the server, connect once more at once (the page asks why); refused by the server
(`44`), stop. Events received before the namespace connect is answered (the snapshot the
server sends from its connect handler) are handled once connected, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import math
import time

from bench.loadclient import Fleet, Phone, main
from bench.wsclient import WebSocket, open_websocket

RECONNECTION_DELAY = 500  # ms: the page's reconnectionDelay (socket.io-client's default: 1000)
RECONNECTION_DELAY_MAX = 2000  # reconnectionDelayMax (default: 5000)
RANDOMIZATION_FACTOR = 0.5  # randomizationFactor
RECONNECTION_TIMEOUT = 20.0  # s: socket.io-client's `timeout`, for each reconnection attempt
_running: set[asyncio.Task] = set()  # background tasks, kept from the garbage collector


def encode(payload: list) -> str:
    return json.dumps(payload, separators=(",", ":"))


def backoff(attempt: int, rng) -> float:
    """socket.io-client's delay before reconnection attempt `attempt` (0: the first), seconds."""
    ms = RECONNECTION_DELAY * 2 ** min(attempt, 30)
    rand = rng.random()
    deviation = math.floor(rand * RANDOMIZATION_FACTOR * ms)
    ms = ms - deviation if math.floor(rand * 10) & 1 == 0 else ms + deviation
    return min(ms, RECONNECTION_DELAY_MAX) / 1000


def background(coroutine) -> asyncio.Task:
    task = asyncio.create_task(coroutine)
    _running.add(task)
    task.add_done_callback(_running.discard)
    return task


class Refused(ConnectionError):
    """The server refused the namespace connect (`44`): the page does not try again."""


class RawSocket:
    """One phone's socket; quacks like python-socketio's AsyncClient where `Phone` and `Fleet`
    use it (`event`, `on`, `connect`, `connected`, `emit`, `call`, `disconnect`)."""

    def __init__(self, rng, reconnection: bool = True, local_addr: tuple | None = None):
        self.rng, self.reconnection, self.local_addr = rng, reconnection, local_addr
        self.handlers: dict = {}
        self.ws: WebSocket | None = None
        self.connected = False
        self.callbacks: dict[int, object] = {}
        self.ids = 0
        self.target: tuple = ()
        self.ping_wait = 45.0
        self.watchdog: asyncio.TimerHandle | None = None
        self.retrying: asyncio.Task | None = None
        self.stopped = False
        self.asked_why = False

    # --- python-socketio's interface

    def event(self, handler):
        self.handlers[handler.__name__] = handler
        return handler

    def on(self, name: str):
        def register(handler):
            self.handlers[name] = handler
            return handler
        return register

    async def connect(self, url: str, headers: dict | None = None, auth: dict | None = None,
                      transports=None, wait_timeout: float = 30) -> None:
        """Open the socket (WebSocket only, as the benchmark's python-socketio phones)."""
        base = "ws" + url[len("http"):] if url.startswith("http") else url
        self.target = (f"{base}/socket.io/?EIO=4&transport=websocket", dict(headers or {}), auth)
        self.stopped = False
        await self._open(wait_timeout)

    async def emit(self, event: str, data=None, callback=None) -> None:
        if not self.connected:
            raise ConnectionError("not connected")
        head = "42"
        if callback is not None:
            self.ids += 1
            self.callbacks[self.ids] = callback
            head += str(self.ids)
        await self._send(head + encode([event] if data is None else [event, data]))

    async def call(self, event: str, data=None, timeout: float = 60):
        """Emit and wait for the ack (its one argument, as python-socketio returns it)."""
        answered = asyncio.get_running_loop().create_future()

        def answer(*args):
            if not answered.done():
                answered.set_result(args)

        await self.emit(event, data, callback=answer)
        args = await asyncio.wait_for(answered, timeout)
        return args[0] if len(args) == 1 else (args or None)

    async def disconnect(self) -> None:
        """Leave for good (`41`, the WebSocket closed), as `socket.disconnect()` on the page."""
        self.stopped = True
        if self.retrying is not None:
            self.retrying.cancel()
        ws, was = self.ws, self.connected
        self._drop()
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.send_str("41")
            await ws.close()
        if was:
            await self._trigger("disconnect", "io client disconnect")

    # --- the connection

    async def _open(self, timeout: float) -> None:
        url, headers, auth = self.target
        try:
            async with asyncio.timeout(timeout):
                # Offers WebSocket compression, as every browser does.
                ws = await open_websocket(f"{url}&t={time.time()}", headers, self.local_addr)
        except (OSError, TimeoutError) as exc:
            raise ConnectionError(f"connection error: {exc}") from exc
        try:
            async with asyncio.timeout(timeout):
                early = await self._handshake(ws, auth)
        except BaseException:
            await ws.close()
            raise
        self.ws, self.connected = ws, True
        self._feed_watchdog()
        background(self._read(ws))
        await self._trigger("connect")
        for packet in early:
            await self._packet(packet)

    async def _handshake(self, ws: WebSocket, auth) -> list[str]:
        """Engine.IO's open packet, then the namespace connect; the packets that came before
        its answer."""
        opened = await ws.receive()
        if opened is None or not opened.startswith("0"):
            raise ConnectionError("no OPEN packet")
        info = json.loads(opened[1:])
        self.ping_wait = (info["pingInterval"] + info["pingTimeout"]) / 1000
        await ws.send_str("40" + (encode(auth) if auth else ""))
        early = []
        while True:
            packet = await ws.receive()
            if packet is None:
                raise ConnectionError("closed while connecting")
            if packet.startswith("40"):
                return early
            if packet.startswith("44"):
                raise Refused(packet[2:])
            if packet.startswith("2"):
                await ws.send_str("3" + packet[1:])
            else:
                early.append(packet)

    async def _read(self, ws: WebSocket) -> None:
        with contextlib.suppress(Exception):
            while (packet := await ws.receive()) is not None:  # None: the WebSocket closed
                await self._packet(packet)
        await self._lost(ws)

    async def _send(self, text: str) -> None:
        if self.ws is None:
            raise ConnectionError("not connected")
        await self.ws.send_str(text)

    async def _packet(self, packet: str) -> None:
        kind = packet[:2]
        if kind == "42":
            await self._event(packet[2:])
        elif kind == "43":
            await self._ack(packet[2:])
        elif packet[:1] == "2":  # Engine.IO ping
            self._feed_watchdog()
            await self._send("3" + packet[1:])
        elif kind == "41":
            await self._cut()
        elif packet[:1] == "1" and self.ws is not None:  # Engine.IO close
            await self.ws.close()

    @staticmethod
    def _split(body: str) -> tuple[int | None, list]:
        digits = 0
        while digits < len(body) and body[digits].isdigit():
            digits += 1
        return (int(body[:digits]) if digits else None), json.loads(body[digits:])

    async def _event(self, body: str) -> None:
        ack, (name, *args) = self._split(body)
        result = await self._trigger(name, *args)
        if ack is not None:
            await self._send(f"43{ack}" + encode([] if result is None else [result]))

    async def _ack(self, body: str) -> None:
        ack, args = self._split(body)
        callback = self.callbacks.pop(ack, None)
        if callback is not None:
            result = callback(*args)
            if inspect.isawaitable(result):
                await result

    async def _trigger(self, name: str, *args):
        handler = self.handlers.get(name)
        if handler is None and name not in ("connect", "disconnect") and "*" in self.handlers:
            handler, args = self.handlers["*"], (name, *args)  # python-socketio's catch-all
        if handler is None:
            return None
        result = handler(*args)
        return await result if inspect.isawaitable(result) else result

    def _drop(self) -> None:
        """Forget the connection: no socket, no ack to wait for, no ping expected."""
        self.ws, self.connected, self.callbacks = None, False, {}
        if self.watchdog is not None:
            self.watchdog.cancel()
            self.watchdog = None

    def _feed_watchdog(self) -> None:
        """A ping is due within pingInterval + pingTimeout, or the connection is lost."""
        if self.watchdog is not None:
            self.watchdog.cancel()
        ws = self.ws
        self.watchdog = asyncio.get_running_loop().call_later(
            self.ping_wait, lambda: ws is not None and background(ws.close()))

    async def _lost(self, ws) -> None:
        """The WebSocket closed under the phone: say so, and try again as the page does."""
        if ws is not self.ws:  # left or cut already
            return
        self._drop()
        await self._trigger("disconnect", "transport close")
        if self.reconnection and not self.stopped:
            self._retry(at_once=False)

    async def _cut(self) -> None:
        """The server cut this socket (`41`): the page connects once more, at once, to be told why."""
        ws = self.ws
        self._drop()
        if ws is not None:
            background(ws.close())
        await self._trigger("disconnect", "io server disconnect")
        if self.reconnection and not self.stopped and not self.asked_why:
            self.asked_why = True
            self._retry(at_once=True)

    def _retry(self, at_once: bool) -> None:
        if self.retrying is None or self.retrying.done():
            self.retrying = background(self._reconnect(at_once))

    async def _reconnect(self, at_once: bool) -> None:
        attempt = 0
        while not self.stopped:
            if not at_once:
                await asyncio.sleep(backoff(attempt, self.rng))
                attempt += 1
            at_once = False
            if self.stopped:
                return
            try:
                await self._open(RECONNECTION_TIMEOUT)
                return
            except Refused:
                return
            except Exception:  # noqa: BLE001, S112 - refused connection, timeout, reset...: again
                continue


class RawFleet(Fleet):
    """`bench.loadclient.Fleet` whose phones connect with a `RawSocket`."""

    async def connect(self, phone: Phone, reconnection: bool = True) -> None:
        if isinstance(phone.client, RawSocket):
            await phone.client.disconnect()  # and no more reconnection attempts
        await phone.forget()
        address = self.source_address(phone)
        client = RawSocket(self.rng, reconnection, None if address is None else (address, 0))
        phone.attach(client)
        await client.connect(self.url, headers={"Cookie": phone.cookie},
                             auth={"code": self.code, "lang": "en"}, wait_timeout=30)

    async def close(self) -> dict:
        for phone in self.phones:
            if isinstance(phone.client, RawSocket) and not phone.client.connected:
                await phone.client.disconnect()
        return await super().close()


if __name__ == "__main__":
    main(RawFleet)
