"""Under gevent a WebSocket opens without h11 (live/runtime.py `_open_directly`): the answer and
the connection must be those of simple-websocket's own handshake, byte for byte, and anything
but a plain WebSocket GET must still go through that handshake (its answer unchanged)."""

from __future__ import annotations

import base64
import socket

import pytest
import simple_websocket
from wsproto import ConnectionType, WSConnection
from wsproto.events import TextMessage

from live import runtime, wsdeflate

KEY = base64.b64encode(b"0123456789abcdef").decode()
BROWSER_OFFER = "permessage-deflate; client_max_window_bits"


def environ(**changes) -> dict:
    base = {"REQUEST_METHOD": "GET", "HTTP_HOST": "127.0.0.1:5000", "HTTP_UPGRADE": "websocket",
            "HTTP_CONNECTION": "Upgrade", "HTTP_SEC_WEBSOCKET_KEY": KEY, "HTTP_SEC_WEBSOCKET_VERSION": "13",
            "HTTP_COOKIE": "session=abc"}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


class Opening:
    """What `_open_directly` uses of simple-websocket's Server, over a socket pair."""

    def __init__(self, env: dict):
        self.environ, self.subprotocols = env, []
        self.sock, self.peer = socket.socketpair()
        self.ws = WSConnection(ConnectionType.SERVER)
        self.connected = False


def read_head(sock) -> bytes:
    sock.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def library_answer(env: dict) -> tuple[bytes, bytes]:
    """simple-websocket's own handshake: its answer, and the frame it sends for a long text."""
    sock, peer = socket.socketpair()
    try:
        server = simple_websocket.Server({**env, "werkzeug.socket": sock})
        head = read_head(peer)
        return head, server.ws.send(TextMessage(data="x" * 1000))
    finally:
        sock.close()
        peer.close()


@pytest.mark.parametrize("offer", [None, BROWSER_OFFER, wsdeflate._agreed(BROWSER_OFFER),
                                   "x-webkit-deflate-frame", "permessage-deflate, permessage-deflate"])
def test_the_direct_opening_answers_and_frames_as_simple_websocket_does(offer):
    wsdeflate.install("gevent")  # as the server does: simple-websocket's deflate, stateless
    env = environ(HTTP_SEC_WEBSOCKET_EXTENSIONS=offer)
    expected_head, expected_frame = library_answer(env)
    opening = Opening(env)
    try:
        assert runtime._open_directly(opening) is True
        assert opening.connected and opening.ws.connection is not None
        assert read_head(opening.peer) == expected_head
        assert opening.ws.send(TextMessage(data="x" * 1000)) == expected_frame
    finally:
        opening.sock.close()
        opening.peer.close()
    assert expected_head.startswith(b"HTTP/1.1 101 ")
    if offer and "permessage-deflate" in offer:
        assert b"Sec-WebSocket-Extensions: permessage-deflate" in expected_head


@pytest.mark.parametrize("change", [{"HTTP_SEC_WEBSOCKET_PROTOCOL": "chat"},
                                    {"HTTP_SEC_WEBSOCKET_VERSION": "8"}, {"HTTP_UPGRADE": None},
                                    {"HTTP_CONNECTION": "keep-alive"}, {"HTTP_SEC_WEBSOCKET_KEY": None},
                                    {"REQUEST_METHOD": "POST"}, {"HTTP_SEC_WEBSOCKET_KEY": "clé"}])
def test_anything_else_goes_through_simple_websockets_handshake(change):
    opening = Opening(environ(**change))
    try:
        assert runtime._open_directly(opening) is False
        assert not opening.connected and opening.ws.connection is None
        opening.sock.setblocking(False)
        with pytest.raises(BlockingIOError):
            opening.peer.recv(1, socket.MSG_DONTWAIT)  # nothing written
    finally:
        opening.sock.close()
        opening.peer.close()
