"""What a phone's reconnection reads, made lighter: the identity query on the driver's cursor
(`store.first_row`), the read transaction's BEGIN sent to the driver (SQLite), the session
cookie's serializer kept between reads (`app._Sessions`). Each must read what it read before."""

from __future__ import annotations

from conftest import cid
from sqlalchemy import func, select

from live.realtime import socketio
from live.sessions import service as sessions
from live.sessions.model import Participant
from live.store import first_row


def _joined(app, code):
    browser = app.test_client()
    browser.get(f"/j/{code}")
    sock = socketio.test_client(app, auth={"code": code, "lang": "en"}, flask_test_client=browser)
    assert sock.is_connected()
    return browser, sock


def _reconnect(app, browser, code):
    return socketio.test_client(app, auth={"code": code, "lang": "en"}, flask_test_client=browser)


def test_the_identity_read_on_the_driver_gives_what_sqlalchemy_gives(app, store, live):
    browser, sock = _joined(app, live["code"])
    key = browser.get_cookie("session")  # the phone's cookie exists: it has joined
    assert key is not None
    sock.disconnect()
    with store.read() as db:
        participant = db.scalars(select(Participant).where(Participant.session_id == live["id"])).one()
        device = participant.device_key
        for code, device_key in ((live["code"], device), (live["code"].lower(), device),
                                 (live["code"], "someone-else"), ("ZZZZZZ", device)):
            params = {"code": sessions.normalise_code(code), "key": device_key}
            expected = db.connection().execute(sessions._PHONE, params).first()
            got = first_row(db, sessions._PHONE, params)
            assert (tuple(got) if got is not None else None) == (tuple(expected) if expected else None)
        phone = sessions.phone_identity(db, live["code"], device)
        assert (phone.session_id, phone.participant_id) == (live["id"], participant.id)
        assert sessions.phone_identity(db, live["code"], "someone-else").participant_id is None


def test_a_read_sees_one_state_of_the_database_from_its_first_query(app, store, live):
    """SQLite: a read's BEGIN (sent to the driver) holds one snapshot from its first query on.
    PostgreSQL reads at READ COMMITTED: each statement sees the latest commit."""
    _joined(app, live["code"])
    count = select(func.count()).select_from(Participant)
    with store.read() as db:
        before = db.scalar(count)
        _joined(app, live["code"])  # another phone joins (a write committed) meanwhile
        seen = db.scalar(count)
    assert seen == (before if store.engine.dialect.name == "sqlite" else before + 1)
    with store.read() as db:
        assert db.scalar(count) == before + 1


def test_a_phone_signed_with_a_retired_key_is_known_only_while_that_key_is_a_fallback(app, live):
    browser, sock = _joined(app, live["code"])
    sock.disconnect()
    app.secret_key = "a-new-secret-key"  # the key rotated: the kept serializer must not be used
    refused = _reconnect(app, browser, live["code"])
    assert not refused.is_connected()
    app.config["SECRET_KEY_FALLBACKS"] = ["test-secret-key"]
    back = _reconnect(app, browser, live["code"])
    assert back.is_connected()
    snapshot = next(e for e in back.get_received() if e["name"] == "snapshot")["args"][0]
    assert snapshot["session"]["id"] == live["id"]
    back.disconnect()
    app.config["SECRET_KEY_FALLBACKS"] = []
    assert not _reconnect(app, browser, live["code"]).is_connected()


def test_a_phone_back_finds_its_vote_in_its_snapshot(app, live, poll):
    browser, sock = _joined(app, live["code"])
    snapshot = next(e for e in sock.get_received() if e["name"] == "snapshot")["args"][0]
    assert snapshot["current"]["mine"] is None  # nothing answered yet
    options = [o["id"] for o in snapshot["current"]["options"]]
    assert sock.emit("vote", {"cid": cid(), "activity": poll, "choice": options[2]}, callback=True)["ok"]
    sock.disconnect()
    back = _reconnect(app, browser, live["code"])
    snapshot = next(e for e in back.get_received() if e["name"] == "snapshot")["args"][0]
    assert snapshot["current"]["mine"] == [options[2]]  # decoded as SQLAlchemy decodes it (JSON)
