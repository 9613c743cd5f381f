"""Packets queued together on a socket leave in one write (live/outbox.py `send_all`), one frame
each, in order, on both WebSocket servers Palabre runs on: eventlet's, and simple-websocket's
(gevent). Each is the real library's WebSocket over a socket pair; the test counts the writes
that reach the socket and reads the frames at the other end."""

from __future__ import annotations

import base64
import socket
import zlib

from live import outbox, wsdeflate


class CountingSocket:
    """A socket whose writes are counted."""

    def __init__(self, sock):
        self.sock, self.writes = sock, 0

    def sendall(self, data):
        self.writes += 1
        return self.sock.sendall(data)

    def send(self, data):
        self.writes += 1
        return self.sock.send(data)

    def __getattr__(self, name):
        return getattr(self.sock, name)


def split_frames(data: bytes) -> tuple[list[str], bytes]:
    """The text of each whole unmasked frame at the start of `data` (inflated when RSV1 says
    so), and what is left."""
    texts = []
    while len(data) >= 2:
        first, length, start = data[0], data[1] & 0x7F, 2
        if length == 126:
            length, start = int.from_bytes(data[2:4], "big"), 4
        if len(data) < start + length:
            break
        payload = data[start:start + length]
        if first & 0x40:
            payload = zlib.decompressobj(-15).decompress(payload + b"\x00\x00\xff\xff")
        texts.append(payload.decode())
        data = data[start + length:]
    return texts, data


def read_frames(sock, count: int, data: bytes = b"") -> list[str]:
    """`count` frames read from `sock` (after `data`, already read)."""
    sock.settimeout(5)
    while True:
        texts, _rest = split_frames(data)
        if len(texts) >= count:
            return texts
        data += sock.recv(65536)


PACKETS = ['42["snapshot",{"big":"' + "x" * 2000 + '"}]', '40{"sid":"abc"}', "2"]


def test_eventlet_websocket_sends_packets_queued_together_in_one_write():
    from eventlet import websocket

    server_end, phone_end = socket.socketpair()
    counting = CountingSocket(server_end)
    # Compression agreed as Palabre agrees it: the snapshot (over MIN_BYTES) goes compressed.
    wsdeflate.install("eventlet", websocket)
    ws = websocket.RFC6455WebSocket(counting, {}, 13,
                                    extensions={wsdeflate.EXTENSION: {"server_no_context_takeover": True}})
    outbox.send_all(ws, PACKETS)
    assert counting.writes == 1
    assert read_frames(phone_end, 3) == PACKETS
    outbox.send_all(ws, ["3"])  # one packet: as before
    assert counting.writes == 2 and read_frames(phone_end, 1) == ["3"]
    server_end.close()
    phone_end.close()


def test_simple_websocket_sends_packets_queued_together_in_one_write():
    import simple_websocket

    server_end, phone_end = socket.socketpair()
    counting = CountingSocket(server_end)
    key = base64.b64encode(b"0123456789abcdef").decode()
    environ = {"werkzeug.socket": counting, "HTTP_HOST": "127.0.0.1", "HTTP_UPGRADE": "websocket",
               "HTTP_CONNECTION": "Upgrade", "HTTP_SEC_WEBSOCKET_KEY": key,
               "HTTP_SEC_WEBSOCKET_VERSION": "13"}
    server = simple_websocket.Server(environ)
    try:
        head = b""
        phone_end.settimeout(5)
        while b"\r\n\r\n" not in head:
            head += phone_end.recv(4096)
        assert head.startswith(b"HTTP/1.1 101")
        rest = head.split(b"\r\n\r\n", 1)[1]
        before = counting.writes

        class Wrapper:  # python-engineio's SimpleWebSocketWSGI, as the outbox gets it
            ws = server

            def send(self, text):
                server.send(text)

        outbox.send_all(Wrapper(), PACKETS)
        assert counting.writes == before + 1
        assert read_frames(phone_end, 3, rest) == PACKETS
    finally:
        server.close()
        server_end.close()
        phone_end.close()


def test_the_outbox_sends_what_was_queued_together_in_one_write_then_one_by_one():
    """Engine.IO's OPEN and the phone's snapshot and connect were queued before the writer ran:
    one write; a packet queued later: its own write; the end: the WebSocket closed."""
    import queue

    from engineio import packet
    from eventlet import websocket

    server_end, phone_end = socket.socketpair()
    counting = CountingSocket(server_end)
    ws = websocket.RFC6455WebSocket(counting, {}, 13)
    waiting = queue.Queue()
    for text in PACKETS:
        waiting.put(packet.Packet(encoded_packet=text))
    box = outbox.Outbox(waiting, ws, lambda work: work(), queue.Empty)
    box.send_queued()
    assert counting.writes == 1 and read_frames(phone_end, 3) == PACKETS
    box.put(packet.Packet(packet.PING))
    assert counting.writes == 2 and read_frames(phone_end, 1) == ["2"]
    box.put(None)
    assert box.done and not box.sending
    server_end.close()
    phone_end.close()
