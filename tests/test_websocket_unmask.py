"""The server unmasks the WebSocket frames phones send with `runtime.unmask` instead of
eventlet's byte-by-byte `_apply_mask` (one bytes object per byte: ~5 % of a burst's CPU): the
same bytes for every length, offset and kind of mask, and a real server reads real frames."""

from __future__ import annotations

import os

from eventlet.websocket import RFC6455WebSocket
from support import connect, join_cookie, new_cid, server_room

from live.runtime import unmask

eventlets = RFC6455WebSocket.__dict__["_apply_mask"].__func__


def test_unmask_gives_eventlets_bytes():
    for length in (0, 1, 2, 3, 4, 5, 7, 64, 125, 126, 1000, 70000):
        data = os.urandom(length)
        mask = os.urandom(4)
        for offset in range(5):
            assert unmask(data, mask, offset=offset) == eventlets(data, mask, offset=offset)
            expected = eventlets(data, list(mask), length, offset)
            assert unmask(bytearray(data), list(mask), length, offset) == expected
        assert unmask(data + b"tail", mask, length) == eventlets(data + b"tail", mask, length)


def test_a_phone_is_read_through_the_server(tmp_path):
    """Frames of every size (a vote; 10 KB, in a frame with a 16-bit length) arrive
    intact: the server reads what was sent, and refuses the long one for its size."""
    with server_room(tmp_path) as room:
        room.command("show")
        room.command("open")
        phone = connect(room.url, {"code": room.setup.code, "lang": "en"},
                        cookie=join_cookie(room.url, room.setup.code))
        room.phones.append(phone)
        ack = phone.call("vote", {"cid": new_cid(), "activity": room.setup.activity,
                                  "choice": room.setup.options[2]}, timeout=15)
        assert ack["ok"] and ack["choice"] == [room.setup.options[2]]
        garbled = phone.call("vote", {"cid": "é" * 20, "activity": room.setup.activity,
                                      "choice": room.setup.options[1], "pad": "palabre " * 1200}, timeout=15)
        assert garbled["ok"] is False and garbled["error"]["code"] == "payload_too_large"
