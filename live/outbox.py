"""A WebSocket's writer runs only while the socket has packets to send.

python-engineio gives every WebSocket a writer green thread for the socket's whole life,
asleep in its queue between two packets: its green thread, its saved C stack and its piece
of Python's frame stack, some 8 KB per phone (40 MB for 5,000 phones on two processes).
Here the packets go into the same queue, and a green thread is started when one is queued
while none is sending: it sends what the queue holds, in order, and ends once it is empty
(the next packet starts another). One writer at most per socket; the packets leave in the
order they were queued, as before; the phone sees the same frames.

What the always-there writer also did: it closed the WebSocket after `ping_interval +
ping_timeout` without any packet to send. A phone that stops answering pings stops getting
them (one ping, then nothing): python-engineio's service task closes it `ping_timeout` after
that ping, as before, long before that idle time is over (and under eventlet the reader's
socket times out after the same silence from the phone).
"""

from __future__ import annotations

from engineio import exceptions, packet


class Outbox:
    """What python-engineio uses of a socket's queue, whose `put` starts the writer if none
    runs. Everything else goes to the queue itself (the long-polling path never sees this:
    it is put in place once the socket is a WebSocket)."""

    __slots__ = ("queue", "ws", "spawn", "empty", "sending", "ended", "done")

    def __init__(self, queue, ws, spawn, empty):
        self.queue, self.ws, self.spawn, self.empty = queue, ws, spawn, empty
        self.sending = False
        self.ended = None  # an event `finish` waits on while the last packets are sent
        self.done = False  # the WebSocket is closed: queued packets stay queued, as before

    def __getattr__(self, name):
        return getattr(self.queue, name)

    def put(self, item, *args, **kwargs) -> None:
        self.queue.put(item)
        self.send_queued()

    def send_queued(self) -> None:
        """A writer for what the queue holds, unless one runs (or the WebSocket is closed)."""
        if not self.sending and not self.done and self.queue.qsize():
            self.sending = True
            self.spawn(self._send_queued)

    def put_nowait(self, item) -> None:
        self.put(item)

    def _send_queued(self) -> None:
        try:
            while not self.done:
                try:
                    pkt = self.queue.get(block=False)
                except self.empty:
                    return  # no switch since the get: a packet queued now starts a writer
                self.queue.task_done()
                if pkt is None:
                    # The end stays in the queue, as python-engineio's poll leaves it, but as a
                    # task done: Socket.close(wait=True) waits in queue.join() for every task.
                    self.queue.put(None)
                    self.queue.task_done()
                    self._close()
                    return
                try:
                    self.ws.send(pkt.encode())
                except Exception:  # noqa: BLE001 - gone: closed, as python-engineio's writer does
                    self._close()
                    return
        finally:
            self.sending = False
            if self.ended is not None:
                self.ended.set()

    def _close(self) -> None:
        self.done = True
        self.ws.close()

    def finish(self, event_class) -> None:
        """The socket's end: the packets queued before it sent, then the WebSocket closed."""
        self.put(None)
        if self.sending:
            self.ended = event_class()
            self.ended.wait()


class Writers:
    """Green threads that send for the sockets, kept for the next socket once done: starting a
    green thread for each packet (a greenlet made, its piece of the frame stack mapped, then
    both undone) cost ~8-11 us more per packet than waking a socket's own writer; handing the
    work to a writer that waits costs what that wake did (in process, 5,000 sockets sent a
    packet each in slices of 200: 4.4-4.5 us a packet with a writer per socket, 12.2-12.5 us
    starting one each time, 4.9-5.4 us with these). At most `keep` wait (~8 KB each, 2 MB: a
    push goes to LIVE_PUSH_SLICE = 200 sockets between two turns of the loop); more run while
    more sockets send at once (a slow phone holds only its own)."""

    def __init__(self, spawn, later, wait, keep: int = 256):
        self.spawn, self.later, self.wait, self.keep = spawn, later, wait, keep
        self.idle: list = []  # greenlets waiting for work

    def start(self, work) -> None:
        """`work()` in a green thread of the loop, soon (not in the caller's)."""
        if self.idle:
            self.later(self.idle.pop().switch, work)
        else:
            self.spawn(self._run, work)

    def _run(self, work) -> None:
        from greenlet import getcurrent

        while True:
            try:
                work()
            except Exception:  # noqa: BLE001 - as a green thread of its own would: logged, ends
                import logging

                logging.getLogger(__name__).exception("a WebSocket writer failed")
                return
            if len(self.idle) >= self.keep:
                return
            self.idle.append(getcurrent())
            work = self.wait()  # switched to by `start` with the next work


def install(spawn, event_class) -> None:
    """Engine.IO's WebSocket handler with an `Outbox` in place of its writer green thread."""
    from engineio import socket as engineio_socket

    socket_class = engineio_socket.Socket
    if getattr(socket_class._websocket_handler, "outbox", False):
        return

    def websocket_handler(self, ws):
        wait = _waiter(self, ws)
        _socket_timeout(self, ws)
        if self.connected:  # the socket was already connected: an upgrade from long-polling
            if not _upgraded(self, ws, wait):
                return []
        else:
            self.connected = True
            self.upgraded = True
        outbox = self.queue = Outbox(self.queue, ws, spawn, self.server.get_queue_empty_exception())
        outbox.send_queued()  # what was queued before (Engine.IO's OPEN packet)
        self.server.logger.info("%s: Upgrade to websocket successful", self.sid)
        _read(self, wait)
        outbox.finish(event_class)
        self.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_CLOSE)
        return []

    websocket_handler.outbox = True
    socket_class._websocket_handler = websocket_handler


def _waiter(sock, ws):
    def wait():
        data = ws.wait()
        if data and len(data) > sock.server.max_http_buffer_size:
            raise ValueError("packet is too large")
        return data

    return wait


def _socket_timeout(sock, ws) -> None:
    """The socket's timeout: the ping interval and timeout (what python-engineio sets)."""
    for attr in ("_sock", "socket"):
        if hasattr(ws, attr) and hasattr(getattr(ws, attr), "settimeout"):
            getattr(ws, attr).settimeout(sock.server.ping_interval + sock.server.ping_timeout)


def _upgraded(sock, ws, wait) -> bool:
    """python-engineio's upgrade from long-polling: the probe answered, then UPGRADE."""
    sock.upgrading = True  # hold packet sends during the upgrade
    decoded = packet.Packet(encoded_packet=wait())
    if decoded.packet_type != packet.PING or decoded.data != "probe":
        sock.server.logger.info("%s: Failed websocket upgrade, no PING packet", sock.sid)
        sock.upgrading = False
        return False
    ws.send(packet.Packet(packet.PONG, data="probe").encode())
    sock.queue.put(packet.Packet(packet.NOOP))  # end poll
    pkt = wait()
    if packet.Packet(encoded_packet=pkt).packet_type != packet.UPGRADE:
        sock.upgraded = False
        sock.server.logger.info("%s: Failed websocket upgrade, expected UPGRADE packet, "
                                "received %s instead.", sock.sid, pkt)
        sock.upgrading = False
        return False
    sock.upgraded = True
    sock.upgrading = False
    return True


def _read(sock, wait) -> None:
    """The reader: each packet the phone sends, received, until it closes or fails. The
    common event (`42<id>[...]`, a vote) is read and answered directly (`live.fastpath`)."""
    from live import fastpath

    fast = fastpath.reader(sock)
    while True:
        try:
            data = wait()
        except Exception as exc:  # noqa: BLE001 - as python-engineio's reader
            if not sock.closed:
                sock.server.logger.info('%s: Unexpected error "%s", closing connection', sock.sid, exc)
            return
        if not data:  # closed by the phone, or an empty message: no Engine.IO packet, the end
            return
        if fast is not None and data.__class__ is str and data.startswith("42") and fast(data):
            continue
        try:
            sock.receive(packet.Packet(encoded_packet=data))
        except exceptions.UnknownPacketError:
            pass
        except exceptions.SocketIsClosedError:
            sock.server.logger.info("Receive error -- socket is closed")
            return
        except Exception:  # noqa: BLE001 - logged, the connection closed properly
            sock.server.logger.exception("Unknown receive error")
            return
        if sock.closed:  # closed by the server meanwhile (a flooder cut off): nothing more is read
            return
