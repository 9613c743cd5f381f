"""The real server (`python wsgi.py`, eventlet) fed the whole hostile corpus over real sockets.

Every socket event gets every value of tests/data/hostile-inputs.json (and out-of-range
numbers) in all its fields, and as the whole payload; a message of the corpus's
`payload_bytes` is sent too. The server must answer each with an ack (never `server_error`),
close only the connection that sent the oversized message, print no traceback, keep serving
(health page, a new phone votes), and have stored only what valid requests could store.
"""

from __future__ import annotations

import pytest
from support import connect, http_get, join_cookie, new_cid, prepare, server, sqlite_url, wait_until
from test_fuzz import CORPUS_VALUES, PARTICIPANT_EVENTS, SIZES, STAFF_EVENTS, assert_only_valid_data

from live.boards import service as boards
from live.sessions import service as sessions
from live.store import Store
from live.wordclouds import service as clouds

pytestmark = pytest.mark.server


def _seed(database) -> tuple:
    setup = prepare(database)
    store = Store(sqlite_url(database))
    try:
        with store.write() as db:
            live = sessions.get_session(db, setup.session_id)
            cloud = clouds.add_wordcloud(db, live, "En un mot ?").id
            wall = boards.add_board(db, live, "ideas", "Idées ?", {"premoderation": False}).id
            qa = boards.add_board(db, live, "questions", "Questions ?").id
        for activity in (setup.activity, cloud, wall, qa):
            with store.write() as db:
                sessions.apply_command(db, sessions.get_session(db, setup.session_id), "open", activity)
    finally:
        store.dispose()
    return setup, [setup.activity, cloud, wall, qa]


def _own_activity(event: str, activities: list[int]) -> int:
    poll, cloud, wall, qa = activities
    if event == "vote":
        return poll
    if event.startswith("word:"):
        return cloud
    return qa if event == "board_display" else wall


def _check(event, payload, ack) -> None:
    assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool), (event, payload, ack)
    if not ack["ok"]:
        assert ack["error"]["code"] != "server_error", (event, repr(payload)[:200], ack)


def test_the_real_server_survives_the_hostile_corpus_on_every_event(tmp_path):
    database = tmp_path / "palabre.db"
    setup, activities = _seed(database)
    # Every field at once must stay under LIVE_MAX_PAYLOAD (16 KB): the long texts go alone below.
    values = [v for v in CORPUS_VALUES if not (isinstance(v, str) and len(v) > 1000)]
    long_word = "x" * SIZES["long_word_chars"]
    with server(database, RATE_LIMIT_PER_10S=100000, WORDCLOUD_RATE_PER_10S=100000) as srv:
        cookie = join_cookie(srv.url, setup.code)
        phone = connect(srv.url, {"code": setup.code, "lang": "en"}, cookie)
        staff = connect(srv.url, {"token": setup.facilitator, "lang": "en"})
        clients = [phone, staff]
        try:
            for sock, events in ((phone, PARTICIPANT_EVENTS), (staff, STAFF_EVENTS)):
                for event, fields in events.items():
                    own = _own_activity(event, activities)
                    for n, value in enumerate(values):
                        payload = {"cid": new_cid(), **dict.fromkeys(fields, value)}
                        if "activity" in fields and n % 4:  # mostly the right kind: reach its rules
                            payload["activity"] = own
                        _check(event, payload, sock.call(event, payload, timeout=15))
                    for value in values[:12]:
                        _check(event, value, sock.call(event, value, timeout=15))
                    if "text" in fields:  # the corpus's long word, in the one field made for text
                        payload = {"cid": new_cid(), "activity": _own_activity(event, activities),
                                   "text": long_word}
                        _check(event, payload, sock.call(event, payload, timeout=15))
            # The corpus's largest message: the transport refuses it and closes that socket only.
            flooder = connect(srv.url, {"code": setup.code, "lang": "en"}, join_cookie(srv.url, setup.code))
            clients.append(flooder)
            flooder.emit("board_post", {"cid": new_cid(), "activity": activities[2],
                                        "text": "x" * SIZES["payload_bytes"]})
            wait_until(lambda: not flooder.connected, 15)
            assert not flooder.connected, "an oversized message did not close its connection"
            ack = phone.call("sync", {"cid": new_cid()}, timeout=15)
            assert ack["ok"]
            newcomer = connect(srv.url, {"code": setup.code, "lang": "en"}, join_cookie(srv.url, setup.code))
            clients.append(newcomer)
            vote = newcomer.call("vote", {"cid": new_cid(), "activity": setup.activity,
                                          "choice": setup.options[0]}, timeout=15)
            assert vote["ok"], vote
            status, _headers, _body = http_get(srv.url, "/healthz")
            assert status == 200 and srv.alive()
        finally:
            for client in clients:
                if client.connected:
                    client.disconnect()
        assert "Traceback" not in srv.log_path.read_text(errors="replace"), srv.log_tail(60)
    store = Store(sqlite_url(database))
    try:
        assert_only_valid_data(store)
    finally:
        store.dispose()


MALFORMED_FRAMES = ["40.0", "42.5", "4{", '42["vote",', "40" + "9" * 200, "4x", "47", "44{}",
                    '451-["vote",{"_placeholder":true,"num":0}]', "4" + "\ud7ff" * 3, "2probe", ""]


def test_malformed_socket_io_packets_are_refused_without_a_traceback(tmp_path):
    """Raw frames no Socket.IO client sends (found by fuzzing the handshake): python-socketio
    raised on each and the server logged a traceback per frame, a log-flooding vector."""
    import websocket

    database = tmp_path / "palabre.db"
    setup = prepare(database)
    with server(database) as srv:
        address = srv.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        for frame in MALFORMED_FRAMES:
            raw = websocket.create_connection(address, timeout=10)
            try:
                assert raw.recv().startswith("0")  # the Engine.IO handshake
                raw.send(frame)
            finally:
                raw.close()
        _a_phone_is_still_served(srv, setup)
        assert srv.alive()
        log = srv.log_path.read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]
    assert log.count("malformed Socket.IO packet") >= 8


def test_an_empty_websocket_message_ends_its_socket_at_once(tmp_path):
    """An empty WebSocket message is no Engine.IO packet. python-engineio raised on it outside
    its guard: gevent logged a traceback per frame, and under eventlet the socket's writer
    stayed behind until the ping timeout (tens of seconds) with the connection open. Both
    modes now end that socket at once, as a closed connection does; the server keeps serving."""
    import websocket

    database = tmp_path / "palabre.db"
    setup = prepare(database)
    with server(database) as srv:
        address = srv.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        raw = websocket.create_connection(address, timeout=10)
        try:
            assert raw.recv().startswith("0")  # the Engine.IO handshake
            raw.send("")
            try:  # well before the first ping (25 s): a close frame, or the connection ends
                answer = raw.recv()
            except websocket.WebSocketConnectionClosedException:
                answer = ""
            assert answer == "", answer
        finally:
            raw.close()
        _a_phone_is_still_served(srv, setup)
        assert "Traceback" not in srv.log_path.read_text(errors="replace"), srv.log_tail(60)


def _a_phone_is_still_served(srv, setup) -> None:
    """A new phone joins and gets its answer: the server kept serving."""
    phone = connect(srv.url, {"code": setup.code, "lang": "en"}, join_cookie(srv.url, setup.code))
    try:
        assert phone.call("sync", {"cid": new_cid()}, timeout=15)["ok"]
    finally:
        phone.disconnect()
