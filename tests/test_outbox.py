"""A WebSocket's writer that runs only while it has packets to send (live/outbox.py) keeps
what python-engineio expects of the socket's queue: the packets leave in order, and a close
that waits for them (`Socket.close(wait=True)`, what `Server.disconnect(sid)` does) returns
once they are sent instead of waiting forever."""

from __future__ import annotations

import queue
import threading

from engineio import packet

from live.outbox import Outbox


class _WebSocket:
    def __init__(self):
        self.sent: list = []
        self.closed = False

    def send(self, data) -> None:
        if self.closed:
            raise OSError("closed")
        self.sent.append(data)

    def close(self) -> None:
        self.closed = True


class _Loop:
    """Green threads as the event loop runs them: later, one at a time."""

    def __init__(self):
        self.ready: list = []

    def spawn(self, fn) -> None:
        self.ready.append(fn)

    def run(self) -> None:
        while self.ready:
            self.ready.pop(0)()


def _outbox() -> tuple[Outbox, _WebSocket, _Loop]:
    ws, loop = _WebSocket(), _Loop()
    return Outbox(queue.Queue(), ws, loop.spawn, queue.Empty), ws, loop


def _joined(outbox: Outbox) -> bool:
    joined = threading.Event()
    threading.Thread(target=lambda: (outbox.join(), joined.set()), daemon=True).start()
    return joined.wait(5)


def test_a_close_that_waits_for_the_queue_returns_once_its_packets_are_sent():
    outbox, ws, loop = _outbox()
    outbox.put(packet.Packet(packet.MESSAGE, data="last words"))
    outbox.put(packet.Packet(packet.CLOSE))
    outbox.put(None)  # what Socket.close puts before waiting in queue.join()
    loop.run()
    assert len(loop.ready) == 0
    assert _joined(outbox), "queue.join() never returned: a close with wait=True would hang"
    assert ws.sent == [packet.Packet(packet.MESSAGE, data="last words").encode(),
                       packet.Packet(packet.CLOSE).encode()]
    assert ws.closed


def test_packets_queued_after_the_end_are_not_sent():
    outbox, ws, loop = _outbox()
    outbox.put(None)
    loop.run()
    assert _joined(outbox)
    outbox.put(packet.Packet(packet.MESSAGE, data="too late"))
    loop.run()
    assert ws.sent == [] and ws.closed


def test_a_writer_runs_only_while_there_is_something_to_send():
    outbox, ws, loop = _outbox()
    outbox.put(packet.Packet(packet.MESSAGE, data="one"))
    outbox.put(packet.Packet(packet.MESSAGE, data="two"))
    assert len(loop.ready) == 1  # one writer for both
    loop.run()
    outbox.put(packet.Packet(packet.MESSAGE, data="three"))
    assert len(loop.ready) == 1  # the first ended with the queue empty: a new one starts
    loop.run()
    assert ws.sent == [packet.Packet(packet.MESSAGE, data=d).encode() for d in ("one", "two", "three")]
    assert _joined(outbox) and not ws.closed


class _RecordingSocket:
    """A connection's socket: each write to it kept, as the phone's TCP stack would get it."""

    def __init__(self):
        self.writes: list[bytes] = []

    def sendall(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def send(self, data: bytes) -> int:
        self.sendall(data)
        return len(data)


def _text_frames(data: bytes) -> list[str]:
    """The unmasked text frames of a server's write (short ones, as these are)."""
    texts = []
    while data:
        assert data[0] == 0x81, "a final text frame"
        length = data[1]
        assert length < 126
        texts.append(data[2:2 + length].decode())
        data = data[2 + length:]
    return texts


def _reconnection_packets() -> list:
    """What a reconnection queues together: the snapshot, then the answer to `CONNECT`."""
    return [packet.Packet(packet.MESSAGE, data='2["snapshot",{"v":7}]'),
            packet.Packet(packet.MESSAGE, data='0{"sid":"abc"}')]


def test_packets_queued_together_leave_in_one_write_under_eventlet():
    from eventlet import websocket

    sock, loop = _RecordingSocket(), _Loop()
    ws = websocket.RFC6455WebSocket(sock, {}, version=13)
    outbox = Outbox(queue.Queue(), ws, loop.spawn, queue.Empty)
    for pkt in _reconnection_packets():
        outbox.put(pkt)
    loop.run()
    assert len(sock.writes) == 1, "one system call for both packets"
    assert _text_frames(sock.writes[0]) == [p.encode() for p in _reconnection_packets()]
    outbox.put(packet.Packet(packet.MESSAGE, data="alone"))
    loop.run()
    assert [_text_frames(w) for w in sock.writes[1:]] == [["4alone"]]


def test_packets_queued_together_leave_in_one_write_under_gevent():
    """simple-websocket's server (python-engineio's wrapper holds it as `ws`), its frames made by
    wsproto: the same frames, in one write."""
    from wsproto.connection import Connection, ConnectionType

    class _SimpleWebSocket:
        connected = True

        def __init__(self, sock):
            self.sock, self.ws = sock, Connection(ConnectionType.SERVER)

    class _EngineIOWrapper:
        def __init__(self, inner):
            self.ws = inner

        def send(self, message):
            raise AssertionError("sent one by one")

        def close(self):
            self.ws.connected = False

    sock, loop = _RecordingSocket(), _Loop()
    inner = _SimpleWebSocket(sock)
    outbox = Outbox(queue.Queue(), _EngineIOWrapper(inner), loop.spawn, queue.Empty)
    for pkt in _reconnection_packets():
        outbox.put(pkt)
    loop.run()
    assert len(sock.writes) == 1
    assert _text_frames(sock.writes[0]) == [p.encode() for p in _reconnection_packets()]
    inner.connected = False  # closed: the writer stops, as a failed send does
    outbox.put(packet.Packet(packet.MESSAGE, data="late"))
    outbox.put(packet.Packet(packet.MESSAGE, data="later"))
    loop.run()
    assert len(sock.writes) == 1 and outbox.done
