"""The common event read and answered by the WebSocket's reader (live/fastpath.py), over the
real server and a raw WebSocket, in the async mode of the run (PALABRE_TEST_ASYNC_MODE).

The same event can be sent two ways: `42<id>[...]` (the direct path) and `42/,<id>[...]` (the
default namespace named: python-socketio reads it as the same event, but only the library's
path takes it). A phone must not be able to tell them apart: the same ack text, error acks,
replays, rate limiting and cut-off, and its acks in the order of its events.
"""

from __future__ import annotations

import json

import pytest
from support import http_get, join_cookie, new_cid, open_poll, prepare, server, stored_votes

pytestmark = pytest.mark.server


class Phone:
    """A phone speaking Engine.IO and Socket.IO by hand over a WebSocket."""

    def __init__(self, url: str, code: str):
        import websocket

        cookie = join_cookie(url, code)
        address = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        self.ws = websocket.create_connection(address, timeout=15, header=[f"Cookie: {cookie}"])
        assert self.ws.recv().startswith("0")  # the Engine.IO handshake
        self.ws.send("40" + json.dumps({"code": code, "lang": "en"}))
        self.pushes: list[str] = []
        while not self.next_frame().startswith("40{"):  # connected (its snapshot may come first)
            pass

    def next_frame(self) -> str:
        """The next Socket.IO frame (pings answered; pushes kept in `pushes` as well)."""
        while True:
            frame = self.ws.recv()
            if frame == "2":
                self.ws.send("3")
                continue
            if frame.startswith("42"):
                self.pushes.append(frame)
            return frame

    def ack(self) -> str:
        """The next ack frame, as sent (pushes before it are kept)."""
        while True:
            frame = self.next_frame()
            if not frame.startswith("42"):
                return frame

    def send(self, ack_id: int | None, payload: list, library: bool = False) -> None:
        text = json.dumps(payload, separators=(",", ":"))
        ack = "" if ack_id is None else str(ack_id)
        self.ws.send(f"42/,{ack}{text}" if library else f"42{ack}{text}")

    def close(self) -> None:
        self.ws.close()


def _code(ack: str) -> str | None:
    """The error code of an ack frame (None for an ok)."""
    body = json.loads(ack[ack.index("["):])[0]
    return None if body.get("ok") else body["error"]["code"]


def test_votes_and_their_errors_are_acked_alike_on_both_paths(tmp_path):
    database = tmp_path / "palabre.db"
    setup = prepare(database)
    open_poll(setup)
    with server(database) as srv:
        phone = Phone(srv.url, setup.code)
        try:
            choice = setup.options[1]
            vote = {"cid": new_cid(), "activity": setup.activity, "choice": choice}
            phone.send(7, ["vote", vote])
            first = phone.ack()
            assert first == f'437[{{"ok":true,"activity":{setup.activity},"choice":[{choice}]}}]'
            # The same cid again, both ways: the same answer, nothing stored twice.
            phone.send(8, ["vote", vote], library=True)
            assert phone.ack() == first.replace("437", "438", 1)
            phone.send(9, ["vote", vote])
            assert phone.ack() == first.replace("437", "439", 1)
            # Error acks, each both ways, in the phone's language.
            cases = [
                (["vote", {"activity": setup.activity, "choice": choice}], "missing_cid"),
                (["vote", "not a dict"], "bad_payload"),
                (["vote"], "bad_payload"),
                (["vote", {"cid": new_cid(), "activity": 10**9, "choice": choice}], "activity_not_found"),
                (["paper", {"cid": new_cid(), "activity": setup.activity, "option": choice, "count": 3}],
                 "forbidden"),
                (["no_such_event", {"cid": new_cid()}], "unknown_event"),
            ]
            for payload, expected in cases:
                phone.send(10, payload)
                direct = phone.ack()
                phone.send(11, payload, library=True)
                library = phone.ack()
                assert direct.startswith("4310[") and library.startswith("4311[")
                assert direct[4:] == library[4:], payload
                assert _code(direct) == expected, direct
            # A leading zero in the id, and a long id: the library's reading of them.
            phone.send(None, ["vote", vote])  # no ack id: handled, nothing answered
            phone.ws.send('4200012["vote",' + json.dumps(vote) + "]")
            assert phone.ack() == first.replace("437", "4312", 1)
        finally:
            phone.close()
    total, counts = stored_votes(database, setup.activity)
    assert total == 1 and counts == {choice: 1}


def test_acks_come_in_the_order_of_the_events_and_after_their_pushes(tmp_path):
    database = tmp_path / "palabre.db"
    setup = prepare(database)
    open_poll(setup, reveal=True)
    with server(database) as srv:
        phone = Phone(srv.url, setup.code)
        try:
            for ack_id in range(1, 21):  # changes of mind, alternately on both paths
                vote = {"cid": new_cid(), "activity": setup.activity,
                        "choice": setup.options[ack_id % len(setup.options)]}
                phone.send(ack_id, ["vote", vote], library=ack_id % 2 == 0)
            acks = [phone.ack() for _ in range(20)]
            assert [int(a[2:a.index("[")]) for a in acks] == list(range(1, 21))
            assert all('"ok":true' in a for a in acks)
        finally:
            phone.close()
    total, counts = stored_votes(database, setup.activity)
    assert total == 1 and counts == {setup.options[20 % len(setup.options)]: 1}


def test_a_flooding_phone_is_refused_then_cut_off_on_the_direct_path(tmp_path):
    database = tmp_path / "palabre.db"
    setup = prepare(database)
    open_poll(setup)
    with server(database, RATE_LIMIT_PER_10S=5) as srv:
        phone = Phone(srv.url, setup.code)
        answers: list[str] = []
        try:
            import websocket

            for ack_id in range(1, 41):
                vote = {"cid": new_cid(), "activity": setup.activity, "choice": setup.options[0]}
                try:
                    phone.send(ack_id, ["vote", vote])
                except (websocket.WebSocketException, OSError):
                    break
            try:
                while True:
                    frame = phone.next_frame()
                    if not frame.startswith("42"):
                        answers.append(frame)
            except (websocket.WebSocketException, OSError):
                pass  # cut off
        finally:
            phone.close()
        refused = [a for a in answers if a.startswith("43") and _code(a) == "rate_limited"]
        assert refused, answers[:8]
        assert len(answers) < 40, "the flood was read to its end"
        assert "keeps flooding while refused" in srv.log_path.read_text(errors="replace")
        # The server keeps serving everyone else.
        status, _headers, _body = http_get(srv.url, "/healthz")
        assert status == 200


# --- in process: the path is taken, and only for what it can answer -----------------------

class _Queue:
    """An Engine.IO socket's queue keeping the text of what is sent."""

    def __init__(self):
        self.sent: list[str] = []

    def put(self, pkt, *args, **kwargs) -> None:
        self.sent.append(pkt.encode())


def _socket_of(client, monkeypatch):
    """The Engine.IO socket a test client would have on a real server, packets to its queue."""
    from engineio import socket as engineio_socket

    from live.realtime import socketio

    server = socketio.server
    monkeypatch.delattr(server, "_send_packet")  # the test client's: the server's own now
    monkeypatch.delattr(server, "_send_eio_packet")
    sock = engineio_socket.Socket(server.eio, client.eio_sid)
    sock.connected = sock.upgraded = True
    sock.queue = _Queue()
    monkeypatch.setitem(server.eio.sockets, client.eio_sid, sock)
    return sock


def test_the_reader_answers_a_vote_itself_with_the_librarys_text(phone, poll, monkeypatch):
    from engineio import packet as eio_packet

    from live import fastpath

    sock = _socket_of(phone(), monkeypatch)
    handle = fastpath.reader(sock)
    assert handle is not None
    frame = f'["vote",{{"cid":"c-1","activity":{poll},"choice":{poll * 10}}}]'  # no such option
    assert handle("425" + frame) is True
    sock.receive(eio_packet.Packet(encoded_packet="42/,6" + frame))  # the library's path
    direct, library = sock.queue.sent
    assert direct.startswith('435[{"ok":false,"error":{"code":') and direct[3:] == library[3:]
    # Not for this path: no ack id, a namespace, unknown events, extra arguments, an id too long,
    # what does not decode.
    for other in ['42["vote",{"cid":"c-2"}]', '42/,7["vote",{}]', '427["nope",{}]', '427["vote",{},1]',
                  "42" + "9" * 16 + '["vote",{}]', '427["vote",', "427[]", '427[1]', "427x"]:
        assert handle(other) is False, other
    assert len(sock.queue.sent) == 2  # nothing answered by it
