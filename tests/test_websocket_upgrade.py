"""A phone whose WebSocket was refused at first (a proxy, a flaky network) connects by
long-polling, then upgrades to a WebSocket (the page's client does: `tryAllTransports`): the
probe is answered and the socket then speaks over the WebSocket, under both modes (the
WebSocket's reader and writer are Palabre's own, live/outbox.py)."""

from __future__ import annotations

import json
import urllib.request

import pytest
import websocket
from support import prepare, server


@pytest.mark.parametrize("mode", ["eventlet", "gevent"])
def test_a_long_polling_socket_upgrades_to_a_websocket(tmp_path, mode):
    database = tmp_path / "palabre.db"
    prepare(database)
    with server(database, mode) as srv:
        polling = srv.url + "/socket.io/?EIO=4&transport=polling"
        with urllib.request.urlopen(polling, timeout=10) as answer:  # noqa: S310 - our loopback server
            opened = json.loads(answer.read().decode()[1:])
        ws_url = srv.url.replace("http://", "ws://")
        address = f"{ws_url}/socket.io/?EIO=4&transport=websocket&sid={opened['sid']}"
        raw = websocket.create_connection(address, timeout=10)  # the handshake's answer came
        try:
            raw.send("2probe")
            assert raw.recv() == "3probe"
            raw.send("5")  # upgraded: the WebSocket carries the socket from now on
            raw.send("2")  # an Engine.IO ping from the phone is not answered, a ping from the
            raw.send("40")  # server is: ask the Socket.IO connection instead, refused (no auth)
            frame = raw.recv()
            while frame in ("6", "2"):  # the poll's NOOP, a ping
                frame = raw.recv()
            assert frame.startswith("44"), frame  # CONNECT_ERROR: the refusal, over the WebSocket
        finally:
            raw.close()
        assert srv.alive()
