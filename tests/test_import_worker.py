"""Importing an archive runs in the archive worker, writes in batches, shows its progress, and
never stalls the event loop: a 200,000-participant archive through the real server's form."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import time
import urllib.request
import uuid
import zipfile
from http.cookiejar import CookieJar

import pytest
from sqlalchemy import func, select

from live.archive import importer
from live.archive.model import ArchiveJob
from live.sessions.model import Event, LiveSession, Participant

PEOPLE = 200_000
LOOP_GAP_LIMIT_MS = 100
T = "2026-11-20T10:00:00Z"


def big_archive(people: int, voters: int = 2000) -> bytes:
    """A valid session archive: `people` participants, a closed poll that `voters` of them answered."""
    doc = {
        "schema_version": 1,
        "export": {"format": "palabre-session-archive", "generator": "Palabre", "exported_at": T},
        "event": {"title": "Grand forum", "place": "Chartres", "date": "2026-11-20"},
        "session": {"kind": "round_table", "title": "Plénière", "place": None, "date": "2026-11-20",
                    "locale": "fr", "state": "ended", "created_at": T, "started_at": T, "ended_at": T,
                    "purged_at": None, "participant_count": people},
        "participants": [{"id": f"p{n}", "joined_at": T, "display_name": None} for n in range(1, people + 1)],
        "activities": [{
            "ref": "a1", "position": 1, "kind": "poll", "type": "single", "prompt": "Oui ou non ?",
            "settings": {}, "state": "closed", "revealed": True, "created_at": T, "opened_at": T,
            "closed_at": T, "options": [{"ref": "o1", "label": "Oui"}, {"ref": "o2", "label": "Non"}],
            "votes": [{"participant": f"p{n}", "choice": ["o1" if n % 3 else "o2"], "changes": 0,
                       "created_at": T, "updated_at": T} for n in range(1, voters + 1)],
            "results": {"total": voters, "options": []}}],
        "timeline": [{"at": T, "action": "opened", "actor": "facilitator", "activity": "a1", "detail": None}],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("session.json", json.dumps(doc))
    return buffer.getvalue()


def test_an_import_shows_its_progress_page_then_its_outcome(client, store):
    response = client.post("/admin/archive/import?lang=en",
                           data={"archive": (io.BytesIO(big_archive(6000, voters=10)), "big.zip")},
                           content_type="multipart/form-data")
    assert response.status_code == 303 and "/admin/archive/imports/" in response.location
    page = client.get(response.location).get_data(as_text=True)
    assert "Imported: 1 session, read only." in page
    with store.read() as db:
        job = db.scalars(select(ArchiveJob)).one()
        assert (job.state, job.done, job.total) == ("done", 6011, 6011)
        assert db.scalar(select(func.count(Participant.id))) == 6000


def test_a_write_that_fails_midway_leaves_nothing(client, store, monkeypatch):
    """Batches are committed one by one; should a later one fail, the earlier ones are undone."""
    from live.archive import kinds
    from live.archive.kinds import poll

    monkeypatch.setattr(kinds, "BATCH_ROWS", 1000)  # the participants: five batches, committed

    def failing(db, table, rows, returning=None):
        raise OSError("disk full")

    monkeypatch.setattr(poll, "insert_rows", failing)  # then the votes fail
    response = client.post("/admin/archive/import?lang=en",
                           data={"archive": (io.BytesIO(big_archive(5000, voters=10)), "big.zip")},
                           content_type="multipart/form-data", follow_redirects=True)
    assert "The import stopped on an error: nothing of it was kept." in response.get_data(as_text=True)
    with store.read() as db:
        assert db.scalar(select(func.count(Event.id))) == 0
        assert db.scalar(select(func.count(LiveSession.id))) == 0
        assert db.scalar(select(func.count(Participant.id))) == 0
        assert db.scalars(select(ArchiveJob.state)).one() == "failed"


def _multipart(fields: dict, name: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
             for key, value in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="archive"; filename="{name}"\r\n'
                 f"Content-Type: application/zip\r\n\r\n".encode() + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _baseline(get, vote) -> float:
    """The loop's largest stall less its waits for a core, while the phone votes and nothing is
    imported (the machine's noise)."""
    deadline = time.monotonic() + 20
    while json.loads(get("/healthz?reset=1"))["max_loop_held_ms"] > LOOP_GAP_LIMIT_MS / 2 \
            and time.monotonic() < deadline:
        time.sleep(0.2)  # the server starting (its worker warming up) is not what is measured
    for index in range(40):
        assert vote(index)
        time.sleep(0.05)  # a phone's voting pace (the load), not a wait for something
    return json.loads(get("/healthz?reset=1"))["max_loop_held_ms"]


def _assert_the_loop_kept_turning(held: float, cpu_gap: float, baseline: float) -> None:
    """What the loop itself did without yielding, in its thread's CPU time, stays under the
    limit, and an import on the loop would take seconds of CPU. The stall less the loop's waits
    for a core (`held`) also counts what CPU time misses, a write to the disk made on the loop;
    the wall-clock stall counts those waits too: with 2 test workers and their browsers on 2
    cores it reached 442 ms in one CI run (the loop's own CPU 29 ms), and 1,190 ms beside
    another test run (25 ms). `held` is held to what an import on the loop would exceed many
    times over (the import takes 20-30 s), whatever else the machine runs."""
    assert cpu_gap < LOOP_GAP_LIMIT_MS
    assert held < max(10 * LOOP_GAP_LIMIT_MS, baseline + 10 * LOOP_GAP_LIMIT_MS)


def _upload_request(base: str, token: str, data: bytes) -> urllib.request.Request:
    """The archive page's upload form, posted with `data` as the archive."""
    body, kind = _multipart({"csrf_token": token}, "big.zip", data)
    return urllib.request.Request(f"{base}/admin/archive/import?lang=en", data=body,
                                  method="POST", headers={"Content-Type": kind, "Origin": base})


@pytest.mark.server
def test_importing_200000_participants_never_stalls_the_loop_100_ms(tmp_path):
    """While the worker writes 200,000 participants, a phone next door keeps voting: every vote
    is acknowledged, and the event loop never runs 100 ms of its own CPU without yielding (its
    wall-clock stalls stay within the noise of a busy machine, measured first)."""
    from support import close_all, connect, join_cookie, new_cid, open_poll, prepare, query, server

    data = big_archive(PEOPLE)
    setup = prepare(tmp_path / "palabre.db")
    open_poll(setup)
    with server(setup.database, RATE_LIMIT_PER_10S=100000) as process:
        base = process.url
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

        def get(path: str) -> str:
            with opener.open(f"{base}{path}", timeout=10) as answer:
                return answer.read().decode()

        phone = connect(base, {"code": setup.code, "lang": "en"}, cookie=join_cookie(base, setup.code))
        try:
            def vote(index: int) -> bool:
                ack = phone.call("vote", {"cid": new_cid(), "activity": setup.activity,
                                          "choice": setup.options[index % 2]}, timeout=10)
                return bool(ack and ack.get("ok"))

            page = get("/admin/archive?lang=en")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
            baseline = _baseline(get, vote)
            request = _upload_request(base, token, data)
            started = time.monotonic()
            with opener.open(request, timeout=30) as answer:
                progress_url = answer.url
                progress = answer.read().decode()
            assert "/admin/archive/imports/" in progress_url
            seen, votes, acked = {progress}, 0, 0
            deadline = time.monotonic() + 150
            while "Importing" in progress or "Checking" in progress:
                assert time.monotonic() < deadline, f"the import did not end: {progress[-400:]}"
                for _ in range(5):  # a phone voting next door, about ten times a second
                    votes += 1
                    acked += vote(votes)
                    time.sleep(0.05)  # the phone's pace, as above
                progress = get(progress_url.removeprefix(base))
                seen.add(re.sub(r"\s+", " ", re.search(r"<main.*</main>", progress, re.S).group(0)))
            took = time.monotonic() - started
            health = json.loads(get("/healthz"))
            gap, held, cpu_gap = (health[f"max_loop_{k}_ms"] for k in ("gap", "held", "cpu_gap"))
        finally:
            close_all([phone])
    print(f"import of {PEOPLE} participants: {took:.1f} s, {votes} votes meanwhile, largest loop gap "
          f"{gap} ms, {held} ms less its waits for a core, {cpu_gap} ms of the loop's CPU "
          f"(without an import: {baseline} ms held)")
    assert "Imported: 1 session, read only." in progress, progress[-600:]
    assert any("rows written" in page for page in seen), "no progress was ever shown"
    assert votes > 0 and acked == votes
    _assert_the_loop_kept_turning(held, cpu_gap, baseline)
    session_id = max(row[0] for row in query(setup.database, "select id from live_sessions"))
    assert query(setup.database, "select count(*) from participants where session_id = ?",
                 (session_id,)) == [(PEOPLE,)]
    assert query(setup.database, "select count(*) from votes v join activities a on a.id = v.activity_id "
                 "where a.session_id = ?", (session_id,)) == [(2000,)]


def test_rows_to_write_counts_what_an_import_writes():
    doc = json.loads(zipfile.ZipFile(io.BytesIO(big_archive(30, voters=7))).read("session.json"))
    assert importer.rows_to_write([doc]) == 30 + 7 + 1


@pytest.mark.server
def test_an_import_whose_worker_is_killed_leaves_nothing(tmp_path):
    """kill -9 of the worker processes in the middle of an import: the job says it failed and
    nothing of the half-written archive stays in the database."""
    from support import children, prepare, query, server, wait_until

    data = big_archive(60_000, voters=10)
    setup = prepare(tmp_path / "palabre.db")
    with server(setup.database) as process:
        base = process.url
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

        def get(path: str) -> str:
            with opener.open(f"{base}{path}", timeout=10) as answer:
                return answer.read().decode()

        token = re.search(r'name="csrf_token" value="([^"]+)"', get("/admin/archive?lang=en")).group(1)
        with opener.open(_upload_request(base, token, data), timeout=30) as answer:
            progress_path = answer.url.removeprefix(base)
        assert wait_until(lambda: query(setup.database, "select done from archive_jobs")[0][0] > 0,
                          timeout=60), "no batch was ever written"
        for child in children(process.process.pid):
            os.kill(child, signal.SIGKILL)
        assert wait_until(lambda: query(setup.database, "select state from archive_jobs")[0][0] == "failed",
                          timeout=30), get(progress_path)[-600:]
        page = get(progress_path)
        assert json.loads(get("/healthz"))["ok"] is not False  # the server lives on
    assert "nothing of it was kept" in page, page[-600:]
    assert query(setup.database, "select count(*) from events") == [(1,)]  # the one prepared
    assert query(setup.database, "select count(*) from live_sessions") == [(1,)]
    assert query(setup.database, "select count(*) from participants where session_id <> ?",
                 (setup.session_id,)) == [(0,)]
