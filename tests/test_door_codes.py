"""One-time voting codes handed at the door: issued and revoked by the organiser, one person per
code through the real join form (also concurrently, on a real server and SQLite file), printed,
counted in the archive (never who), and the import round trip (counts come back, no usable code)."""

from __future__ import annotations

import http.client
import re
import threading
from http.cookies import SimpleCookie

import pypdfium2 as pdfium
from archive_helpers import unzip, validate
from realserver import prepare
from support import query, server

from live.archive import export, importer
from live.sessions import doorcodes, service
from live.sessions.model import Participant

FR, EN = {"Accept-Language": "fr"}, {"Accept-Language": "en"}


def _issue(client, store, session_id, count=3):
    response = client.post(f"/admin/sessions/{session_id}/codes", data={"count": str(count)})
    assert response.status_code == 303
    with store.read() as db:
        return [row["code"] for row in doorcodes.listing(db, service.get_session(db, session_id))]


def _participants(store, session_id):
    with store.read() as db:
        return db.query(Participant).filter_by(session_id=session_id).count()


def test_codes_admit_one_person_each_with_clear_refusals(app, client, store, live):
    codes = _issue(client, store, live["id"])
    assert len(codes) == 3 and all(re.fullmatch(r"[A-Z2-9]{8}", c) for c in codes)
    page = client.get(f"/admin/sessions/{live['id']}", headers=EN).get_data(as_text=True)
    assert "3 issued: 0 used, 3 unused, 0 revoked." in page and codes[0] in page
    # A new phone gets the code form (no JavaScript needed), not the session.
    alice = app.test_client()
    door = alice.get(f"/j/{live['code']}", headers=FR)
    assert door.status_code == 200 and 'name="door_code"' in door.get_data(as_text=True)
    refused = alice.post(f"/j/{live['code']}/door", data={"door_code": ""}, headers=FR)
    assert refused.status_code == 403 and "code de vote" in refused.get_data(as_text=True)
    # The session's language by default (French here); the phone may switch (?lang=en).
    wrong = alice.post(f"/j/{live['code']}/door?lang=en", data={"door_code": "ZZZZ-ZZZZ"})
    assert wrong.status_code == 403 and "not valid for this session" in wrong.get_data(as_text=True)
    assert _participants(store, live["id"]) == 0
    # A fresh code, typed as printed (lower case, dash): in, and back later without a code.
    typed = f"{codes[0][:4].lower()}-{codes[0][4:].lower()}"
    admitted = alice.post(f"/j/{live['code']}/door", data={"door_code": typed})
    assert admitted.status_code == 303 and admitted.headers["Location"].endswith(f"/j/{live['code']}")
    back = alice.get(f"/j/{live['code']}")
    assert back.status_code == 200 and 'name="door_code"' not in back.get_data(as_text=True)
    # The same code on another phone: refused.
    bob = app.test_client()
    used = bob.post(f"/j/{live['code']}/door", data={"door_code": codes[0]})
    assert used.status_code == 403 and "déjà été utilisé" in used.get_data(as_text=True)
    # A revoked code admits nobody; a used one cannot be revoked.
    assert client.post(f"/admin/sessions/{live['id']}/codes/2/revoke").status_code == 303
    revoked = bob.post(f"/j/{live['code']}/door?lang=en", data={"door_code": codes[1]})
    assert revoked.status_code == 403 and "revoked by the organiser" in revoked.get_data(as_text=True)
    page = client.post(f"/admin/sessions/{live['id']}/codes/1/revoke", headers=EN, follow_redirects=True)
    assert "already been used" in page.get_data(as_text=True)
    assert bob.post(f"/j/{live['code']}/door", data={"door_code": codes[2]}).status_code == 303
    assert _participants(store, live["id"]) == 2
    with store.read() as db:
        assert doorcodes.counts(db, live["id"]) == {"issued": 3, "used": 2, "revoked": 1, "unused": 0}


def test_without_codes_joining_needs_none(app, store, live):
    assert app.test_client().get(f"/j/{live['code']}").status_code == 200
    assert _participants(store, live["id"]) == 1


def test_a_new_participant_cannot_slip_in_through_another_door(app, client, store, live):
    """A vote form posted by a device that never entered a code is refused, nothing created."""
    from conftest import add_poll, command

    activity = add_poll(store, live["id"])
    command(store, live["id"], "show", activity)
    command(store, live["id"], "open", activity)
    _issue(client, store, live["id"], 1)
    intruder = app.test_client()
    page = intruder.post(f"/j/{live['code']}/vote", data={"activity": str(activity), "choice": "1",
                                                          "cid": "x1"}, follow_redirects=True)
    text = page.get_data(as_text=True)
    assert "demande un code de vote" in text and 'name="door_code"' in text
    assert _participants(store, live["id"]) == 0


def test_codes_sheet_prints_the_unused_codes(client, store, live, tmp_path):
    codes = _issue(client, store, live["id"], 30)
    client.post(f"/admin/sessions/{live['id']}/codes/5/revoke")
    response = client.get(f"/admin/sessions/{live['id']}/codes.pdf", headers=FR)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    document = pdfium.PdfDocument(response.data)
    assert len(document) == 2  # 29 codes, 24 per page
    text = "".join(page.get_textpage().get_text_bounded() for page in document)
    printed = [c for c in codes if f"{c[:4]}-{c[4:]}" in text]
    assert len(printed) == 29 and codes[4] not in printed
    assert "Votre code de vote" in text and "valable une fois" in text
    document[0].render(scale=1.2).to_pil().save(tmp_path / "codes.png")


def test_archive_counts_codes_never_who_and_import_keeps_only_counts(app, client, store, live):
    codes = _issue(client, store, live["id"], 4)
    assert app.test_client().post(f"/j/{live['code']}/door", data={"door_code": codes[0]}).status_code == 303
    client.post(f"/admin/sessions/{live['id']}/codes/3/revoke")
    with store.read() as db:
        data, _, doc = export.session_zip(db, live["id"])
    validate(doc)
    assert doc["session"]["door_codes"] == {"issued": 4, "used": 1, "revoked": 1, "unused": 2}
    members = unzip(data)
    assert "émis : 4 (utilisés : 1, inutilisés : 2, révoqués : 1)" in members["report.html"].decode()
    everything = b"".join(members.values())
    for code in codes:
        assert code.encode() not in everything and doorcodes.code_hash(code).encode() not in everything
    docs = importer.read_archive(data)
    with store.write() as db:
        (new_id,) = importer.create_sessions(db, docs)
    with store.read() as db:
        again = export.session_zip(db, new_id)[2]
        imported = service.get_session(db, new_id)
        assert again["session"]["door_codes"] == doc["session"]["door_codes"]
        assert all(row["code"] is None for row in doorcodes.listing(db, imported))
    with store.write() as db:  # no code of the original opens the imported copy
        imported = service.get_session(db, new_id)
        imported.state = "live"
        for code in codes:
            try:
                doorcodes.claim(db, imported, code)
                raise AssertionError("an imported code admitted someone")
            except Exception as exc:  # noqa: BLE001
                assert getattr(exc, "code", None) == "door_code_unknown"
        db.rollback()


# --- concurrency: one code, many phones at once, a real server and SQLite file -------------

def _phone(base: str, code: str) -> tuple[str, str]:
    """Open the join link like a phone: (its Cookie header, the CSRF token of the code form)."""
    host, port = base.split("//", 1)[1].split(":")
    con = http.client.HTTPConnection(host, int(port), timeout=20)
    try:
        con.request("GET", f"/j/{code}", headers={"Accept-Language": "en"})
        response = con.getresponse()
        body = response.read().decode()
        jar = SimpleCookie()
        for line in response.headers.get_all("Set-Cookie") or []:
            jar.load(line)
    finally:
        con.close()
    token = re.search(r'name="csrf_token" value="([^"]+)"', body).group(1)
    return "; ".join(f"{k}={m.value}" for k, m in jar.items()), token


def _post_code(base: str, code: str, cookie: str, token: str, door_code: str) -> int:
    host, port = base.split("//", 1)[1].split(":")
    con = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        body = f"csrf_token={token}&door_code={door_code}"
        con.request("POST", f"/j/{code}/door", body=body, headers={
            "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
        return con.getresponse().status
    finally:
        con.close()


def test_concurrent_joins_with_one_code_admit_exactly_one(tmp_path):
    from live.store import Store

    database = tmp_path / "door.db"
    setup = prepare(database)
    store = Store(f"sqlite:///{database}")
    try:
        with store.write() as db:
            (_number, code), = doorcodes.issue(db, service.get_session(db, setup.session_id), 1)
    finally:
        store.dispose()
    phones = 12
    with server(database) as running:
        forms = [_phone(running.url, setup.code) for _ in range(phones)]
        start, statuses = threading.Barrier(phones), []

        def join(form):
            start.wait(timeout=30)
            statuses.append(_post_code(running.url, setup.code, *form, code))

        threads = [threading.Thread(target=join, args=(form,)) for form in forms]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert sorted(statuses) == [303] + [403] * (phones - 1)
    assert query(database, "select count(*) from participants where session_id = ?",
                 (setup.session_id,)) == [(1,)]
    assert query(database, "select count(*) from door_codes where used_at is not null") == [(1,)]


def test_a_socket_without_a_code_is_refused_and_one_admitted_connects(app, client, store, live, phone):
    codes = _issue(client, store, live["id"], 1)
    stranger = phone()
    assert not stranger.is_connected() and _participants(store, live["id"]) == 0
    browser = app.test_client()
    assert browser.post(f"/j/{live['code']}/door", data={"door_code": codes[0]}).status_code == 303
    from live.realtime import socketio

    admitted = socketio.test_client(app, auth={"code": live["code"], "lang": "en"}, flask_test_client=browser)
    try:
        assert admitted.is_connected() and _participants(store, live["id"]) == 1
    finally:
        admitted.disconnect()
