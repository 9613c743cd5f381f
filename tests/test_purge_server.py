"""A purge of a large session runs in the archive worker: the real server's loop never stalls.

The real server (eventlet) on a SQLite file holding an ended session of 20,000 participants
(votes, client acks); the organiser confirms the purge with a real form post; while the
worker deletes in batches, a phone keeps voting in a live session next door (each vote is a
write of the server, waiting for the database the worker also writes) and the test reads
`/healthz`: the event loop's largest stall stays under 100 ms, every vote is acknowledged.
Then the database is read back: nothing of the purged participants is left.
"""

from __future__ import annotations

import http.client
import json
import re
import sqlite3
import time
import urllib.parse
from contextlib import closing
from http.cookies import SimpleCookie

from support import close_all, connect, http_get, join_cookie, new_cid, open_poll, prepare, server, sqlite_url

PARTICIPANTS = 20_000
LOOP_GAP_LIMIT_MS = 100
NOW = "2026-01-01 10:00:00.000000"


def _large_ended_session(database) -> tuple[int, int]:
    """A second session with a poll, 20,000 participants, their votes and acks; ended, exported.

    Bulk-inserted (the services would take minutes); returns (session id, poll id).
    """
    from live.polls import service as polls
    from live.sessions import service as sessions
    from live.store import Store

    store = Store(sqlite_url(database))
    try:
        with store.write() as db:
            event = sessions.create_event(db, "Last year")
            live_session = sessions.create_session(db, event, "round_table", "Big room", locale="en")
            poll = polls.add_poll(db, live_session, "single", "Which?", ["A", "B", "C"])
            session_id, activity = live_session.id, poll.id
            options = [o.id for o in polls.options_of(db, poll)]
    finally:
        store.dispose()
    with closing(sqlite3.connect(database)) as con:
        first = (con.execute("select coalesce(max(id), 0) from participants").fetchone()[0]) + 1
        ids = range(first, first + PARTICIPANTS)
        con.executemany("insert into participants (id, session_id, device_key, joined_at)"
                        " values (?, ?, ?, ?)", [(i, session_id, f"device-{i}", NOW) for i in ids])
        con.executemany("insert into votes (activity_id, participant_id, choice, changes, client_id,"
                        " created_at, updated_at) values (?, ?, ?, 0, ?, ?, ?)",
                        [(activity, i, f"[{options[i % len(options)]}]", f"c{i}", NOW, NOW) for i in ids])
        con.executemany("insert into client_acks (actor, client_id, response, at, session_id, participant_id)"
                        " values (?, ?, ?, ?, ?, ?)",
                        [(f"p{i}", f"c{i}", '{"ok": true}', "2099-01-01 00:00:00.000000", session_id, i)
                         for i in ids])
        con.execute("update activities set state = 'closed', opened_at = ?, closed_at = ? where id = ?",
                    (NOW, NOW, activity))
        con.execute("update live_sessions set state = 'ended', started_at = ?, ended_at = ? where id = ?",
                    (NOW, NOW, session_id))
        con.execute("insert into archive_sessions (session_id, last_exported_at) values (?, ?)",
                    (session_id, "2026-01-01 11:00:00.000000"))
        con.commit()
    return session_id, activity


def _get_page(base_url: str, path: str) -> tuple[int, bytes, str]:
    """GET a page like a browser: (status, body, the Cookie header its answer sets)."""
    host, port = base_url.split("//", 1)[1].split(":")
    con = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        con.request("GET", path, headers={"Accept-Language": "en"})
        response = con.getresponse()
        body = response.read()
        jar = SimpleCookie()
        for line in response.headers.get_all("Set-Cookie") or []:
            jar.load(line)
        return response.status, body, "; ".join(f"{k}={m.value}" for k, m in jar.items())
    finally:
        con.close()


def _post_form(base_url: str, path: str, fields: dict, cookie: str = "") -> int:
    host, port = base_url.split("//", 1)[1].split(":")
    con = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        con.request("POST", path, body=urllib.parse.urlencode(fields),
                    headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": base_url,
                             **({"Cookie": cookie} if cookie else {})})
        response = con.getresponse()
        response.read()
        return response.status
    finally:
        con.close()


def _loop_gap(base_url: str, reset: bool = False) -> float:
    status, _headers, body = http_get(base_url, "/healthz" + ("?reset=1" if reset else ""))
    assert status == 200
    return json.loads(body)["max_loop_gap_ms"]


def _job(database) -> tuple | None:
    with closing(sqlite3.connect(database, timeout=10)) as con:
        return con.execute("select state, done, total, rows, error from archive_jobs"
                           " order by id desc").fetchone()


def _count(database, sql: str, params: tuple = ()) -> int:
    with closing(sqlite3.connect(database, timeout=10)) as con:
        return con.execute(sql, params).fetchone()[0]


def _baseline(base: str, vote) -> float:
    """The loop's largest stall while the phone votes and nothing is purged (the machine's noise)."""
    deadline = time.monotonic() + 20
    while _loop_gap(base, reset=True) > LOOP_GAP_LIMIT_MS / 2 and time.monotonic() < deadline:
        time.sleep(0.2)  # the server starting (its worker warming up) is not what is measured
    for index in range(60):
        vote(index)
        time.sleep(0.03)
    return _loop_gap(base, reset=True)


def test_purging_a_large_session_never_stalls_the_loop(tmp_path):
    database = tmp_path / "palabre.db"
    setup = prepare(database)  # the session live next door, where a phone keeps voting
    open_poll(setup)
    big, big_poll = _large_ended_session(database)
    with server(database, "eventlet", RATE_LIMIT_PER_10S=100000) as running:
        base = running.url
        _loop_gap(base)  # starts the heartbeat
        phone = connect(base, {"code": setup.code, "lang": "en"}, cookie=join_cookie(base, setup.code))
        sent = []
        try:
            def vote(index: int) -> bool:
                sent.append(index)
                ack = phone.call("vote", {"cid": new_cid(), "activity": setup.activity,
                                          "choice": setup.options[index % 2]}, timeout=10)
                return bool(ack and ack.get("ok"))

            assert vote(0)
            baseline = _baseline(base, vote)
            status, page, cookie = _get_page(base, f"/admin/archive/sessions/{big}/purge")
            assert status == 200
            token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page)
            fields = {"confirm": "yes", **({"csrf_token": token.group(1).decode()} if token else {})}
            _loop_gap(base, reset=True)
            # Without the confirmation box: refused, nothing recorded.
            assert _post_form(base, f"/admin/archive/sessions/{big}/purge",
                              {k: v for k, v in fields.items() if k != "confirm"}, cookie) == 303
            assert _job(database) is None
            assert _post_form(base, f"/admin/archive/sessions/{big}/purge", fields, cookie) == 303
            votes, acked, seen_running = 0, 0, False
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                job = _job(database)
                seen_running = seen_running or (job is not None and job[0] == "running" and job[3] > 0)
                if job is not None and job[0] in ("done", "failed"):
                    break
                votes += 1
                acked += vote(votes)
                time.sleep(0.03)
            gap = _loop_gap(base)
            job = _job(database)
            assert job is not None and job[0] == "done", f"the purge did not finish: {job}"
            assert seen_running, "no progress was seen while the purge ran"
            assert job[3] >= 3 * PARTICIPANTS  # votes, acks and participants deleted
            status, _h, page = http_get(base, "/admin/archive")
            assert status == 200 and b"1 session purged" in page
        finally:
            close_all([phone])
    print(f"{votes} votes during the purge; largest event-loop stall {gap} ms "
          f"(without a purge: {baseline} ms)")
    assert votes > 0 and acked == votes
    # On a machine busy with other work the loop can stall without any purge; the bound then
    # allows that noise (measured above), never the seconds a purge on the loop takes.
    limit = max(LOOP_GAP_LIMIT_MS, baseline + LOOP_GAP_LIMIT_MS / 2)
    assert gap < limit, f"largest event-loop stall while purging: {gap} ms (without: {baseline} ms)"
    assert _count(database, "select count(*) from participants where session_id = ?", (big,)) == 0
    assert _count(database, "select count(*) from votes where activity_id = ?", (big_poll,)) == 0
    assert _count(database, "select count(*) from client_acks where session_id = ?", (big,)) == 0
    # The phone next door: its participant, its last vote and its acks are all there.
    assert _count(database, "select count(*) from votes where activity_id = ?", (setup.activity,)) == 1
    assert _count(database, "select count(*) from client_acks where session_id = ?",
                  (setup.session_id,)) == len(sent)
