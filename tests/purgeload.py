"""A purge of a large session through the real server, while a phone votes next door.

Used by `tests/test_purge_server.py` (its assertions) and `python -m bench purge` (its
figures): the same code. A SQLite file gets an ended, exported session of N participants
(votes, client acks; bulk-inserted) and a live session with an open poll; the real server
starts on it; a phone joins the live session and votes; the loop's largest stall is measured
first without a purge (the machine's own noise), then while the organiser's confirmed purge
runs in the archive worker. Imports nothing from pytest.
"""

from __future__ import annotations

import http.client
import json
import re
import sqlite3
import time
import urllib.parse
from contextlib import closing
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path

try:  # tests/ on the path (pytest), or the repository root (python -m bench)
    from realserver import MODE, Server, close_all, connect, join_cookie, new_cid, prepare, sqlite_url
except ImportError:  # pragma: no cover
    from tests.realserver import MODE, Server, close_all, connect, join_cookie, new_cid, prepare, sqlite_url

NOW = "2026-01-01 10:00:00.000000"
BASELINE_VOTES = 150  # votes measured before the purge (about as long as the purge lasts)
EXPORTED = "2026-01-01 11:00:00.000000"


@dataclass
class PurgeReport:
    """What one run measured."""

    participants: int
    session_id: int
    poll_id: int
    live_session_id: int
    live_poll_id: int
    refused_unconfirmed: bool  # a post without the confirmation box recorded no job
    baseline_ms: float  # largest loop stall while voting, before the purge
    gap_ms: float  # largest loop stall while the purge ran
    baseline_held_ms: float  # the same two less the loop's waits for a core (a busy machine's share)
    held_ms: float
    votes: int  # votes sent during the purge
    acked: int  # of which acknowledged ok
    sent: int  # votes sent in all (each leaves a client ack)
    seconds: float  # from the confirmed post to the job's end
    job: tuple | None  # (state, done, total, rows, error)
    saw_progress: bool  # rows deleted were seen while the job ran
    page_says_done: bool  # the Archives page shows "1 session purged"


def seed_ended_session(database: Path, participants: int) -> tuple[int, int]:
    """An ended, exported session with a poll, `participants` votes and acks; (session, poll)."""
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
        ids = range(first, first + participants)
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
                    (session_id, EXPORTED))
        con.commit()
    return session_id, activity


def get_page(base_url: str, path: str) -> tuple[int, bytes, str]:
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


def post_form(base_url: str, path: str, fields: dict, cookie: str = "") -> int:
    """POST a form like a browser (same-origin, with its cookie); the status."""
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


def loop_gap(base_url: str, reset: bool = False, cookie: str = "") -> tuple[float, float]:
    """The server's largest event-loop stall (ms) since the last reset: in wall-clock time, and
    less the time the loop's thread waited for a core (`max_loop_held_ms`, live/health.py)."""
    status, body, _cookie = get_page(base_url, "/healthz" + ("?reset=1" if reset else ""))
    if status != 200:
        raise RuntimeError(f"/healthz answered {status}")
    health = json.loads(body)
    return health["max_loop_gap_ms"], health["max_loop_held_ms"]


def latest_job(database: Path) -> tuple | None:
    """(state, done, total, rows, error) of the newest archive job, read from the file."""
    with closing(sqlite3.connect(database, timeout=10)) as con:
        return con.execute("select state, done, total, rows, error from archive_jobs"
                           " order by id desc").fetchone()


def _session_next_door(database: Path):
    """The live session next door, its poll on screen and open, where a phone keeps voting."""
    from live.sessions import service as sessions
    from live.store import Store

    setup = prepare(database)
    store = Store(sqlite_url(database))
    try:
        for action in ("show", "open"):
            with store.write() as db:
                sessions.apply_command(db, sessions.get_session(db, setup.session_id), action, setup.activity)
    finally:
        store.dispose()
    return setup


def _purge_form(base: str, database: Path, big: int):
    """Post the purge form without its confirmation box: whether it was refused (no job), and a
    function that posts it confirmed."""
    status, page, cookie = get_page(base, f"/admin/archive/sessions/{big}/purge")
    if status != 200:
        raise RuntimeError(f"the confirmation page answered {status}")
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page)
    fields = {"confirm": "yes", **({"csrf_token": token.group(1).decode()} if token else {})}
    unconfirmed = {k: v for k, v in fields.items() if k != "confirm"}
    refused = (post_form(base, f"/admin/archive/sessions/{big}/purge", unconfirmed, cookie) == 303
               and latest_job(database) is None)

    def confirm() -> None:
        if post_form(base, f"/admin/archive/sessions/{big}/purge", fields, cookie) != 303:
            raise RuntimeError("the confirmed purge was not accepted")

    return refused, confirm


def measure(workdir: Path, participants: int = 20_000, mode: str = MODE,
            timeout: float = 90) -> PurgeReport:
    """Seed, start the server, measure the baseline, purge while voting; the figures."""
    workdir = Path(workdir)
    database = workdir / "palabre.db"
    setup = _session_next_door(database)
    big, big_poll = seed_ended_session(database, participants)
    server = Server(database, mode, log=workdir / f"server-{mode}.log", RATE_LIMIT_PER_10S=100000)
    phone = None
    sent: list[int] = []
    try:
        server.start()
        base = server.url
        loop_gap(base)  # starts the heartbeat
        phone = connect(base, {"code": setup.code, "lang": "en"}, cookie=join_cookie(base, setup.code))

        def vote() -> bool:
            sent.append(1)
            ack = phone.call("vote", {"cid": new_cid(), "activity": setup.activity,
                                      "choice": setup.options[len(sent) % 2]}, timeout=10)
            return bool(ack and ack.get("ok"))

        vote()
        # The archive worker warms up at server start (seconds of imports and chart processes):
        # a report is built by the worker after that, so once it is here the worker is idle.
        if get_page(base, f"/admin/archive/sessions/{setup.session_id}")[0] != 200:
            raise RuntimeError("the archive worker did not answer")
        loop_gap(base, reset=True)
        for _ in range(BASELINE_VOTES):
            vote()
            time.sleep(0.03)  # a phone's voting pace (the load), not a wait for something
        baseline, baseline_held = loop_gap(base, reset=True)
        refused, confirm = _purge_form(base, database, big)
        loop_gap(base, reset=True)
        started = time.monotonic()
        confirm()
        votes = acked = 0
        progress = False
        while time.monotonic() - started < timeout:
            job = latest_job(database)
            progress = progress or (job is not None and job[0] == "running" and job[3] > 0)
            if job is not None and job[0] in ("done", "failed"):
                break
            votes += 1
            acked += vote()
            time.sleep(0.03)  # a phone's voting pace (the load), not a wait for something
        seconds = time.monotonic() - started
        gap, held = loop_gap(base)
        job = latest_job(database)
        _status, page, _cookie = get_page(base, "/admin/archive")
    finally:
        close_all([phone])
        server.stop()
    return PurgeReport(participants, big, big_poll, setup.session_id, setup.activity, refused, baseline,
                       gap, baseline_held, held, votes, acked, len(sent), seconds, job, progress,
                       b"1 session purged" in page)


def describe(report: PurgeReport) -> str:
    """The figures, one per line."""
    state = report.job[0] if report.job else "none"
    rows = report.job[3] if report.job else 0
    return "\n".join([
        f"purge of {report.participants} participants: {state}, {rows} rows in {report.seconds:.1f} s",
        f"largest event-loop stall: {report.gap_ms} ms while purging, "
        f"{report.baseline_ms} ms before (voting, no purge)",
        f"the same less the loop's waits for a core: {report.held_ms} ms while purging, "
        f"{report.baseline_held_ms} ms before",
        f"votes next door during the purge: {report.acked}/{report.votes} acknowledged",
    ])
