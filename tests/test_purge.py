"""Purge and retention through the organiser's pages: confirmation, export first, nothing left.

Participants answer through the real doors (Socket.IO events and the no-JavaScript forms), the
facilitator ends the session over its socket, the organiser exports, confirms and purges with
real form posts; then the SQLite file is read back directly, table by table, against the table
in docs/data-retention.md.
"""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import add_poll, cid, command
from support import wait_until
from test_boards_service import add_board
from test_socket_wordclouds import add_cloud

from live.acks import ClientAck, expire
from live.sessions import service as sessions
from live.store import utcnow

DOC = Path(__file__).resolve().parent.parent / "docs" / "data-retention.md"
CONFIRM = {"confirm": "yes"}
EN = {"Accept-Language": "en"}


@pytest.fixture
def answered(app, store, live, phone, staff):
    """A session where three phones voted, sent words, posted and dotted ideas; then ended.

    Returns the participants' ids and what they sent.
    """
    poll = add_poll(store, live["id"])
    cloud = add_cloud(store, live["id"])
    wall = add_board(store, live["id"], premoderation=False, budget=2, signed=True)
    for activity in (poll, cloud):
        command(store, live["id"], "open", activity)
    options = _options(store, poll)
    phones = [phone() for _ in range(3)]
    sent = {"words": [], "ideas": []}
    for index, sock in enumerate(phones):
        ack = sock.emit("vote", {"cid": cid(), "activity": poll, "choice": options[index % 2]}, callback=True)
        assert ack["ok"], ack
        text = f"mot{index}unique"
        assert sock.emit("word:add", {"cid": cid(), "activity": cloud, "text": text}, callback=True)["ok"]
        idea = f"Idée secrète numéro {index}"
        posted = sock.emit("board_post", {"cid": cid(), "activity": wall, "text": idea, "column": 0,
                                          "name": f"Camille{index}"}, callback=True)
        assert posted["ok"], posted
        sent["words"].append(text)
        sent["ideas"].append(idea)
    with store.read() as db:
        from live.boards.model import Item

        first_item = db.query(Item.id).filter_by(activity_id=wall).order_by(Item.id).first()[0]
    for sock in phones:
        dot = sock.emit("board_vote", {"cid": cid(), "activity": wall, "item": first_item}, callback=True)
        assert dot["ok"], dot
    # A no-JavaScript phone votes with the plain form (its own ack path).
    browser = app.test_client()
    browser.get(f"/j/{live['code']}")
    assert browser.post(f"/j/{live['code']}/vote", data={"cid": cid(), "activity": poll,
                                                         "choice": options[0]}).status_code == 302
    facilitator = staff("facilitator")
    assert facilitator.emit("command", {"cid": cid(), "action": "end"}, callback=True)["ok"]
    with store.read() as db:
        people = [p.id for p in db.query(sessions.Participant).filter_by(session_id=live["id"])]
        acks = db.query(ClientAck).filter_by(session_id=live["id"]).count()
    assert len(people) == 4 and acks >= 3 * 4 + 1
    return {"participants": people, "poll": poll, "cloud": cloud, "wall": wall, **sent}


def _db(app) -> Path:
    url = app.config["DATABASE_URL"]
    if not url.startswith("sqlite:///"):
        pytest.skip("reads the SQLite file directly")
    return Path(url.removeprefix("sqlite:///"))


def _rows(database: Path, sql: str, params: tuple = ()) -> list[tuple]:
    with closing(sqlite3.connect(database)) as con:
        return con.execute(sql, params).fetchall()


def _doc_table() -> dict[str, str]:
    """{table: "deleted" | "kept" | "kept, detached ..."} from docs/data-retention.md."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("### What a purge deletes, table by table", 1)[1]
    return {m.group(1): m.group(2).strip() for m in re.finditer(r"^\| `(\w+)` \|[^|]*\| ([^|]+) \|$",
                                                                  section, re.M)}


def _session_rows(database: Path, table: str, session_id: int, column: str | None = None) -> list[tuple]:
    """Rows of `table` that belong to the session (directly or through its activities)."""
    columns = [row[1] for row in _rows(database, f"pragma table_info({table})")]
    where = {"session_id": "session_id = ?",
             "activity_id": "activity_id in (select id from activities where session_id = ?)"}
    key = next(k for k in where if k in columns)
    return _rows(database, f"select {column or '*'} from {table} where {where[key]}", (session_id,))


def _purge_page(client, session_id: int):
    return client.get(f"/admin/archive/sessions/{session_id}/purge", headers=EN)


def test_a_purge_needs_a_confirmation_and_an_export(app, client, store, live, answered):
    database = _db(app)
    people = _rows(database, "select count(*) from participants")[0][0]

    def unchanged():
        assert _rows(database, "select count(*) from participants")[0][0] == people
        assert _rows(database, "select count(*) from archive_jobs")[0][0] == 0
        assert _rows(database, "select purged_at from archive_sessions where session_id = ?",
                     (live["id"],)) in ([], [(None,)])

    page = _purge_page(client, live["id"]).get_data(as_text=True)
    assert "4 participants" in page and "No archive of this session was exported" in page
    # No confirmation: nothing happens, even when forced.
    response = client.post(f"/admin/archive/sessions/{live['id']}/purge", data={"unexported": "yes"},
                           headers=EN, follow_redirects=True)
    assert "tick the box to confirm" in response.get_data(as_text=True)
    unchanged()
    # Confirmed, but never exported: refused.
    response = client.post(f"/admin/archive/sessions/{live['id']}/purge", data=CONFIRM, headers=EN,
                           follow_redirects=True)
    assert "export it first" in response.get_data(as_text=True)
    unchanged()
    # Downloading (a GET) is not exporting.
    assert client.get(f"/admin/sessions/{live['id']}/archive.zip").status_code == 200
    assert client.get(f"/f/{live['facilitator']}/archive.zip").status_code == 200
    assert client.post(f"/admin/archive/sessions/{live['id']}/purge", data=CONFIRM).status_code == 303
    unchanged()
    # Exporting (the organiser's form) then confirming purges.
    exported = client.post(f"/admin/archive/sessions/{live['id']}/export")
    assert exported.status_code == 200 and exported.mimetype == "application/zip"
    assert "Exported on" in _purge_page(client, live["id"]).get_data(as_text=True)
    started = client.post(f"/admin/archive/sessions/{live['id']}/purge", data=CONFIRM)
    assert started.status_code == 303 and "/admin/archive/purges/" in started.location
    assert _rows(database, "select count(*) from participants where session_id = ?", (live["id"],)) == [(0,)]
    progress = client.get(started.location, headers=EN).get_data(as_text=True)
    assert "done: 1 session purged" in progress and "Table ronde" not in progress  # no longer running
    page = client.get("/admin/archive", headers=EN).get_data(as_text=True)
    assert "1 session purged" in page


def test_an_export_before_the_end_does_not_count(app, client, store, live, poll, phone):
    assert phone().emit("vote", {"cid": cid(), "activity": poll, "choice": _first_option(store, poll)},
                        callback=True)["ok"]
    assert client.post(f"/admin/archive/sessions/{live['id']}/export").status_code == 200
    command(store, live["id"], "end")
    response = client.post(f"/admin/archive/sessions/{live['id']}/purge", data=CONFIRM, headers=EN,
                           follow_redirects=True)
    assert "export it first" in response.get_data(as_text=True)
    with store.read() as db:
        assert db.query(sessions.Participant).filter_by(session_id=live["id"]).count() == 1
    # Told to: purged without an export.
    assert client.post(f"/admin/archive/sessions/{live['id']}/purge",
                       data={**CONFIRM, "unexported": "yes"}).status_code == 303
    with store.read() as db:
        assert db.query(sessions.Participant).filter_by(session_id=live["id"]).count() == 0


def _options(store, poll: int) -> list[int]:
    from live.polls import service as polls

    with store.read() as db:
        return [o.id for o in polls.options_of(db, db.get(sessions.Activity, poll))]


def _first_option(store, poll: int) -> int:
    return _options(store, poll)[0]


def test_after_a_purge_the_database_matches_the_documentation(app, client, store, live, answered):
    database = _db(app)
    people = answered["participants"]
    before = {table: _session_rows(database, table, live["id"]) for table in _doc_table()
              if table != "archive_sessions"}
    assert all(before[t] for t in ("participants", "client_acks", "votes", "word_entries", "board_votes"))
    assert client.post(f"/admin/archive/sessions/{live['id']}/export").status_code == 200
    assert client.post(f"/admin/archive/sessions/{live['id']}/purge", data=CONFIRM).status_code == 303

    documented = _doc_table()
    assert len(documented) >= 10 and {"participants", "client_acks", "board_items"} <= set(documented)
    # Every table that can point at a participant is in the documentation.
    with closing(sqlite3.connect(database)) as con:
        tables = [name for (name,) in con.execute("select name from sqlite_master where type = 'table'")]
        pointing = {t for t in tables for fk in con.execute(f"pragma foreign_key_list({t})")
                    if fk[2] == "participants"}
    assert pointing <= set(documented), pointing - set(documented)
    for table, fate in documented.items():
        rows = _session_rows(database, table, live["id"])
        if fate == "deleted":
            assert rows == [], table
        elif fate.startswith("kept, detached"):
            assert len(rows) == len(before[table]) > 0, table
            detached = _session_rows(database, table, live["id"], "participant_id, author_name, client_id")
            assert all(row == (None, None, None) for row in detached), table
        else:
            assert fate == "kept", (table, fate)
            if table == "archive_sessions":
                assert rows, table
            else:
                assert len(rows) == len(before[table]), table
    # Nothing anywhere still names a purged participant.
    marks = [f"p{pid}" for pid in people]
    with closing(sqlite3.connect(database)) as con:
        for table in tables:
            columns = [row[1] for row in con.execute(f"pragma table_info({table})")]
            if "participant_id" in columns:
                placeholders = ",".join("?" * len(people))
                assert con.execute(f"select count(*) from {table} where participant_id in ({placeholders})",
                                   people).fetchone() == (0,), table
            if "actor" in columns:
                placeholders = ",".join("?" * len(marks))
                assert con.execute(f"select count(*) from {table} where actor in ({placeholders})",
                                   marks).fetchone() == (0,), table
    # What they sent survives only where the documentation says: ideas (detached), frozen results.
    acks_text = " ".join(str(r) for r in _rows(database, "select response from client_acks"))
    for text in answered["words"] + answered["ideas"]:
        assert text not in acks_text
    assert not _rows(database, "select 1 from board_items where author_name like 'Camille%'")


def test_participant_ids_are_never_reused_and_old_acks_never_replay(app, client, store, live, poll, phone):
    same_cid = "reused-client-id"
    first = phone()
    option = _first_option(store, poll)
    assert first.emit("vote", {"cid": same_cid, "activity": poll, "choice": option}, callback=True)["ok"]
    with store.read() as db:
        (old,) = [p.id for p in db.query(sessions.Participant).filter_by(session_id=live["id"])]
    command(store, live["id"], "end")
    client.post(f"/admin/archive/sessions/{live['id']}/export")
    assert client.post(f"/admin/archive/sessions/{live['id']}/purge", data=CONFIRM).status_code == 303
    # A new session: the next person to join gets a new id, and the same client id is theirs.
    with store.write() as db:
        event = sessions.create_event(db, "Le lendemain")
        other = sessions.create_session(db, event, "workshop", "Atelier")
        code = other.join_code
    new_poll = add_poll(store, other.id)
    command(store, other.id, "show", new_poll)
    command(store, other.id, "open", new_poll)
    newcomer = phone(code)
    ack = newcomer.emit("vote", {"cid": same_cid, "activity": new_poll,
                                 "choice": _first_option(store, new_poll)}, callback=True)
    assert ack["ok"], ack
    with store.read() as db:
        (new,) = [p.id for p in db.query(sessions.Participant).filter_by(session_id=other.id)]
        from live.polls.model import Vote

        assert db.query(Vote).filter_by(activity_id=new_poll, participant_id=new).count() == 1
    assert new > old


def test_retention_asks_and_leaves_what_was_not_exported(app, client, store, live, answered):
    database = _db(app)
    with store.write() as db:  # a second ended session, exported after it ended
        event = sessions.create_event(db, "Autre")
        other = sessions.create_session(db, event, "workshop", "Exportée")
        person = sessions.join(db, other, "device-x")
        sessions.end_session(db, other, "facilitator")
        other_id, person_id = other.id, person.id
    assert client.post(f"/admin/archive/sessions/{other_id}/export").status_code == 200
    # Saving a retention of 0 days purges nothing; the page lists the sessions past it.
    response = client.post("/admin/archive/retention", data={"days": "0"}, headers=EN, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "2 ended session(s) are past the retention period" in page
    assert "Never exported since it ended" in page
    assert _rows(database, "select count(*) from participants")[0][0] == 5
    # Applying without the confirmation: nothing.
    client.post("/admin/archive/retention/apply", data={"unexported": "yes"})
    assert _rows(database, "select count(*) from participants")[0][0] == 5
    # Confirmed: only the exported session is purged.
    assert client.post("/admin/archive/retention/apply", data=CONFIRM).status_code == 303
    assert _rows(database, "select count(*) from participants where id = ?", (person_id,)) == [(0,)]
    assert _rows(database, "select count(*) from participants where session_id = ?", (live["id"],)) == [(4,)]
    page = client.get("/admin/archive", headers=EN).get_data(as_text=True)
    assert "1 session purged" in page and "1 session left as it was" not in page
    # Told to: the one never exported goes too.
    forced = {**CONFIRM, "unexported": "yes"}
    assert client.post("/admin/archive/retention/apply", data=forced).status_code == 303
    assert _rows(database, "select count(*) from participants")[0][0] == 0
    assert _rows(database, "select count(*) from client_acks where session_id = ?", (live["id"],)) == [(0,)]


def test_the_retention_command_leaves_unexported_sessions_unless_told(app, store, live, answered):
    runner = app.test_cli_runner()
    with store.write() as db:
        from live.archive import retention

        retention.set_retention(db, 0)
    result = runner.invoke(args=["archive", "apply-retention"])
    assert "purged 0 session(s)" in result.output and "left 1 session(s)" in result.output
    with store.read() as db:
        assert db.query(sessions.Participant).filter_by(session_id=live["id"]).count() == 4
    result = runner.invoke(args=["archive", "apply-retention", "--include-unexported"])
    assert "purged 1 session(s)" in result.output
    with store.read() as db:
        assert db.query(sessions.Participant).filter_by(session_id=live["id"]).count() == 0
        assert db.query(ClientAck).filter_by(session_id=live["id"]).count() == 0


def _wait_until_idle(app, timeout: float = 5) -> None:
    writer = app.extensions["palabre.writer"]
    assert wait_until(lambda: not writer.draining, timeout, step=0.01)


def test_acks_expire_on_their_own(app, store, live, poll, phone):
    sock = phone()
    option = _first_option(store, poll)
    assert sock.emit("vote", {"cid": "old-one", "activity": poll, "choice": option}, callback=True)["ok"]
    _wait_until_idle(app)  # its expiry pass (the first one is due at once) is over
    with store.write() as db:  # given two days ago: no replay can come any more
        db.query(ClientAck).filter_by(client_id="old-one").update({"at": utcnow() - timedelta(days=2)})
    app.extensions["palabre.writer"].expiry = None  # as at the next pass, a minute later
    assert sock.emit("vote", {"cid": "new-one", "activity": poll, "choice": option}, callback=True)["ok"]
    _wait_until_idle(app)  # the write queue expires acks once the batch is committed and acked
    with store.read() as db:
        assert db.query(ClientAck).filter_by(client_id="old-one").count() == 0
        assert db.query(ClientAck).filter_by(client_id="new-one").count() == 1
    # The expiry is bounded: one pass deletes at most its batch.
    with store.write() as db:
        for index in range(5):
            db.add(ClientAck(actor=f"f{live['id']}", client_id=f"x{index}", response={"ok": True},
                             session_id=live["id"], at=utcnow() - timedelta(days=3)))
    with store.write() as db:
        assert expire(db, timedelta(hours=24), limit=3) == 3
        assert expire(db, timedelta(hours=24), limit=3) == 2


def test_the_migration_ties_old_acks_to_their_owners_and_drops_orphans(tmp_path):
    from alembic import command as alembic

    from live.store import alembic_config, upgrade

    database = tmp_path / "old.db"
    url = f"sqlite:///{database}"
    config = alembic_config(url)
    for revision in ("0002", "0003", "0004"):
        alembic.upgrade(config, revision)
    with closing(sqlite3.connect(database)) as con:
        con.execute("insert into events (id, title, created_at) values (1, 'E', '2025-01-01')")
        con.execute("insert into live_sessions (id, event_id, kind, title, locale, join_code,"
                    " facilitator_token, moderator_token, screen_token, state, version, created_at)"
                    " values (7, 1, 'workshop', 'S', 'fr', 'ABC', 'f', 'm', 's', 'ended', 1, '2025-01-01')")
        con.execute("insert into participants (id, session_id, device_key, joined_at)"
                    " values (3, 7, 'k', '2025-01-01')")
        con.executemany("insert into client_acks (actor, client_id, response, at)"
                        " values (?, ?, '{}', '2025-01-01')",
                        [("p3", "a"), ("p99", "gone"), ("f7", "staff"), ("m8", "no-session"), ("zz", "odd")])
        con.commit()
    upgrade(url)
    rows = _rows(database, "select actor, session_id, participant_id from client_acks order by actor")
    assert rows == [("f7", 7, None), ("p3", 7, 3)]
    (ddl,) = _rows(database, "select sql from sqlite_master where name = 'participants'")[0]
    assert "AUTOINCREMENT" in ddl
    assert _rows(database, "select count(*) from participants") == [(1,)]
