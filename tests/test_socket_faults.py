"""Hostile or odd socket messages get a clear ack, one log line at most, and change nothing;
a locked database is refused in words at the plain-form door too.

Through flask-socketio's test client (the real handlers, a real SQLite file): a number no column
can hold, a client id reused for another event, an event name the server does not know.
"""

import logging

import pytest
from conftest import cid, events_named
from test_boards_service import add_board

from live.boards.model import BoardVote
from live.polls.model import Vote
from live.sessions.model import ClientAck


def _options(sock):
    return [o["id"] for o in events_named(sock, "snapshot")[-1]["current"]["options"]]


def _vote(sock, activity, choice, client_id=None):
    return sock.emit("vote", {"cid": client_id or cid(), "activity": activity, "choice": choice},
                     callback=True)


@pytest.mark.parametrize("activity", [10**20, 2**63, 2**63 - 1, 2**31, -1, 0, 10**99])
def test_an_activity_id_too_large_is_not_found_without_a_traceback(phone, poll, store, caplog, activity):
    sock = phone()
    option = _options(sock)[0]
    caplog.set_level(logging.WARNING)
    for _ in range(3):
        ack = _vote(sock, activity, option)
        assert ack["ok"] is False and ack["error"]["code"] == "activity_not_found", ack
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info], caplog.text
    with store.read() as db:
        assert db.query(Vote).count() == 0
    assert _vote(sock, poll, option)["ok"]


def test_any_number_too_large_for_the_database_is_a_bad_payload_in_one_log_line(phone, store, live, caplog):
    """The safety net behind every handler: an item id of 10^20 reaching the driver."""
    wall = add_board(store, live["id"], columns=["Idées"])
    sock = phone()
    caplog.set_level(logging.WARNING)
    for _ in range(3):
        ack = sock.emit("board_vote", {"cid": cid(), "activity": wall, "item": 10**20}, callback=True)
        assert ack["ok"] is False and ack["error"]["code"] == "bad_payload", ack
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info], caplog.text
    with store.read() as db:
        assert db.query(BoardVote).count() == 0
    posted = sock.emit("board_post", {"cid": cid(), "activity": wall, "text": "Une idée", "column": 0},
                       callback=True)
    assert posted["ok"], posted


def test_a_client_id_reused_for_another_event_or_payload_is_refused_and_changes_nothing(phone, poll, store):
    sock = phone()
    first, second = _options(sock)[:2]
    same = cid()
    ack = _vote(sock, poll, first, same)
    assert ack["ok"]

    reused = sock.emit("board_vote", {"cid": same, "activity": poll, "item": 1}, callback=True)
    assert reused["ok"] is False and reused["error"]["code"] == "cid_reused", reused
    assert "id" in reused["error"]["message"]
    # The same id with the same event and payload is still a replay: the first answer, nothing new.
    assert _vote(sock, poll, first, same) == ack
    # With another payload it is another item: refused, nothing changed (an outbox sending an
    # item again must send that item, not something else under its id).
    other = _vote(sock, poll, second, same)
    assert other["ok"] is False and other["error"]["code"] == "cid_reused", other
    with store.read() as db:
        assert [v.choice for v in db.query(Vote)] == [[first]]
        assert [(a.client_id, a.event) for a in db.query(ClientAck)] == [(same, "vote")]


def test_an_unknown_event_gets_an_error_ack(phone, staff, poll):
    for sock in (phone(), staff("facilitator")):
        for payload in ({"cid": cid()}, "text", None):
            ack = sock.emit("no_such_event", payload, callback=True)
            assert ack["ok"] is False and ack["error"]["code"] == "unknown_event", ack
            assert "Reload" in ack["error"]["message"]
        # The socket carries on.
        assert sock.emit("sync", {"cid": cid()}, callback=True)["ok"]


def test_the_unknown_event_error_speaks_french(app, live, poll):
    from live.realtime import socketio

    browser = app.test_client()
    browser.get(f"/j/{live['code']}")
    sock = socketio.test_client(app, auth={"code": live["code"], "lang": "fr"}, flask_test_client=browser)
    ack = sock.emit("voter", {"cid": cid()}, callback=True)
    assert ack["error"]["code"] == "unknown_event" and "Rechargez" in ack["error"]["message"]
    sock.disconnect()


def test_a_locked_database_refuses_a_form_vote_in_words_and_the_same_form_then_succeeds(tmp_path):
    """The plain-form door (no JavaScript): another process holds SQLite's write lock longer than
    LIVE_SQLITE_BUSY_TIMEOUT; the vote is refused with a message, nothing stored; sent again
    once the lock is released, it is stored."""
    import sqlite3

    from conftest import Browser, add_poll, command
    from sqlalchemy import text

    from live import create_app
    from live.app import stop_background
    from live.sessions import service as sessions

    database = tmp_path / "palabre.db"
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret-key", "ASYNC_MODE": "threading",
                      "DATABASE_URL": f"sqlite:///{database}", "SQLITE_BUSY_TIMEOUT": 0.3})
    app.test_client_class = Browser  # its forms carry their CSRF token
    store = app.extensions["palabre.store"]
    try:
        with store.write() as db:
            live_session = sessions.create_session(db, sessions.create_event(db, "Locked"),
                                                   "round_table", "Table", locale="en")
            session_id, code = live_session.id, live_session.join_code
        poll = add_poll(store, session_id)
        command(store, session_id, "show", poll)
        command(store, session_id, "open", poll)
        with store.read() as db:
            option = db.execute(text("select id from options where activity_id = :a order by id"),
                                {"a": poll}).scalars().first()
        browser = app.test_client()
        browser.get(f"/j/{code}?lang=en")
        form = {"activity": poll, "choice": option, "cid": "form-1"}

        other = sqlite3.connect(database, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            response = browser.post(f"/j/{code}/vote", data=form)
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert response.status_code == 302
        page = browser.get(f"/j/{code}").get_data(as_text=True)
        assert "The server is busy: your action was not saved" in page
        with store.read() as db:
            assert db.query(Vote).count() == 0

        browser.post(f"/j/{code}/vote", data=form)
        assert "Your answer is saved" in browser.get(f"/j/{code}").get_data(as_text=True)
        with store.read() as db:
            assert db.query(Vote).count() == 1
    finally:
        stop_background(app)
        store.dispose()
