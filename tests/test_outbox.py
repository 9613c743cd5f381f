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
