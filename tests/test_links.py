"""Capability links: stored hashed, shown again, rotated from the console and the organiser page,
and the old link's open sockets cut at once (test client and the real server)."""

from __future__ import annotations

import hashlib
import re
import sqlite3
import time
import urllib.request
from contextlib import closing
from http.cookiejar import CookieJar
from urllib.parse import urlencode

import pytest
from conftest import POSTGRES_URL, cid
from support import wait_until

from live.realtime import socketio
from live.sessions import service

LINK = re.compile(r'href="http://[^/"]+/(f|m|screen)/([A-Za-z0-9_-]{20,64})"')


def _links_in(page: str) -> dict[str, str]:
    roles = {"f": "facilitator", "m": "moderator", "screen": "screen"}
    return {roles[prefix]: token for prefix, token in LINK.findall(page)}


def _cells(path) -> list[str]:
    """Every text cell of every table of the SQLite file."""
    found = []
    with closing(sqlite3.connect(path)) as con:
        tables = [t for (t,) in con.execute("select name from sqlite_master where type = 'table'")]
        for table in tables:
            for row in con.execute(f'select * from "{table}"'):
                found.extend(str(cell) for cell in row if cell is not None)
    return found


@pytest.mark.skipif(bool(POSTGRES_URL), reason="reads the SQLite file")
def test_the_database_holds_only_hashes_of_the_links(client, app, tmp_path):
    client.post("/admin/events", data={"title": "E"})
    response = client.post("/admin/events/1/sessions", data={"kind": "workshop", "title": "S"})
    links = _links_in(client.get(response.headers["Location"]).get_data(as_text=True))
    assert set(links) == {"facilitator", "moderator", "screen"}
    cells = _cells(tmp_path / "palabre.db")
    for token in links.values():
        assert not any(token in cell for cell in cells)
        assert hashlib.sha256(token.encode()).hexdigest() in cells
        assert client.get(f"/f/{links['facilitator']}").status_code == 200


def test_the_console_shows_the_links_again_later(client, live):
    page = client.get(f"/f/{live['facilitator']}").get_data(as_text=True)
    assert _links_in(page) == {"facilitator": live["facilitator"], "moderator": live["moderator"],
                               "screen": live["screen"]}


def test_rotating_the_screen_link_cuts_its_sockets_and_keeps_the_others(client, live, staff):
    screen, moderator, console = staff("screen"), staff("moderator"), staff("facilitator")
    assert screen.is_connected() and moderator.is_connected()
    response = client.post(f"/f/{live['facilitator']}/links/screen", headers={"Accept-Language": "en"})
    assert response.status_code == 303
    assert wait_until(lambda: not screen.is_connected(), 1.0), "the old screen socket is still connected"
    assert moderator.is_connected() and console.is_connected()
    page = client.get(response.headers["Location"], headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "New link issued" in page
    assert client.get(f"/screen/{live['screen']}").status_code == 404
    new = _links_in(page)["screen"]
    assert new != live["screen"] and client.get(f"/screen/{new}").status_code == 200
    refused = socketio.test_client(client.application, auth={"token": live["screen"]})
    assert not refused.is_connected()
    fresh = socketio.test_client(client.application, auth={"token": new})
    assert fresh.is_connected()
    fresh.disconnect()


def test_rotating_the_facilitator_link_moves_the_console_to_the_new_one(client, live, staff):
    console = staff("facilitator")
    response = client.post(f"/f/{live['facilitator']}/links/facilitator")
    new = response.headers["Location"].split("/f/")[1].split("#")[0]
    assert new != live["facilitator"]
    assert wait_until(lambda: not console.is_connected(), 1.0, step=0.01)
    assert client.get(f"/f/{live['facilitator']}").status_code == 404
    assert client.get(f"/f/{new}").status_code == 200
    assert client.post(f"/f/{live['facilitator']}/links/moderator").status_code == 404


def test_the_organiser_page_rotates_and_shows_the_new_link(client, live, staff):
    moderator = staff("moderator")
    response = client.post(f"/admin/sessions/{live['id']}/links/moderator")
    assert response.status_code == 303
    assert wait_until(lambda: not moderator.is_connected(), 1.0, step=0.01)
    links = _links_in(client.get(response.headers["Location"]).get_data(as_text=True))
    assert links["moderator"] != live["moderator"]
    assert links["facilitator"] == live["facilitator"] and links["screen"] == live["screen"]
    assert client.get(f"/m/{links['moderator']}").status_code == 200
    assert client.get(f"/m/{live['moderator']}").status_code == 404


def test_a_forged_rotation_is_refused_and_cuts_nothing(client, live, staff):
    screen = staff("screen")
    for forged in ({"csrf": False}, {"headers": {"Origin": "http://evil.example"}}):
        response = client.post(f"/f/{live['facilitator']}/links/screen", **forged)
        assert response.status_code in (400, 403)
    assert screen.is_connected()
    assert client.get(f"/screen/{live['screen']}").status_code == 200


def test_an_unknown_role_is_not_a_link(client, live):
    assert client.post(f"/f/{live['facilitator']}/links/participant").status_code == 404
    assert client.post(f"/admin/sessions/{live['id']}/links/admin").status_code == 404


def test_a_link_rotated_elsewhere_is_refused_at_the_next_event(app, live, staff):
    """Rotated by the command line (or another server process): the socket's next event is
    refused and the socket cut."""
    screen = staff("screen")
    result = app.test_cli_runner().invoke(args=["session", "rotate-link", str(live["id"]), "screen"])
    assert result.exit_code == 0 and "/screen/" in result.output
    ack = screen.emit("sync", {"cid": cid()}, callback=True)
    assert ack["ok"] is False and ack["error"]["code"] == "bad_token"
    assert wait_until(lambda: not screen.is_connected(), 1.0, step=0.01)


def test_links_issued_before_hashing_keep_working_and_can_be_renewed(tmp_path):
    """A database of the earlier schema (clear tokens): migrated, the old links still open their
    pages, are not shown, and a new one can be issued and shown."""
    from alembic import command

    from live import create_app
    from live.store import alembic_config

    path = tmp_path / "old.db"
    config = alembic_config(f"sqlite:///{path}")
    for revision in ("0002", "0003", "0005_faults_ack_event", "0005_arch_states"):
        command.upgrade(config, revision)
    old = {"facilitator": "F" * 32, "moderator": "M" * 32, "screen": "S" * 32}
    with closing(sqlite3.connect(path)) as con:
        con.executescript(f"""
            INSERT INTO events (id, title, created_at) VALUES (1, 'E', '2024-01-01 10:00:00');
            INSERT INTO live_sessions (id, event_id, kind, title, locale, join_code, facilitator_token,
                moderator_token, screen_token, state, version, created_at)
                VALUES (1, 1, 'round_table', 'S', 'fr', 'ACDEFG', '{old["facilitator"]}',
                '{old["moderator"]}', '{old["screen"]}', 'live', 3, '2024-01-01 10:00:00');
        """)
        con.commit()
    app = create_app({"TESTING": True, "SECRET_KEY": "k", "DATABASE_URL": f"sqlite:///{path}",
                      "ASYNC_MODE": "threading", "HOST": "127.0.0.1"})
    from conftest import Browser

    app.test_client_class = Browser
    client = app.test_client()
    try:
        assert not any(token in cell for token in old.values() for cell in _cells(path))
        with closing(sqlite3.connect(path)) as con:
            with pytest.raises(sqlite3.IntegrityError):  # the state CHECK survived the rebuild
                con.execute("UPDATE live_sessions SET state = 'bogus'")
        assert client.get(f"/f/{old['facilitator']}").status_code == 200
        assert client.get(f"/m/{old['moderator']}").status_code == 200
        page = client.get("/admin/sessions/1", headers={"Accept-Language": "en"}).get_data(as_text=True)
        assert _links_in(page) == {} and "Issue a new link to see one" in page
        client.post("/admin/sessions/1/links/screen")
        links = _links_in(client.get("/admin/sessions/1").get_data(as_text=True))
        assert set(links) == {"screen"} and client.get(f"/screen/{links['screen']}").status_code == 200
        assert client.get(f"/screen/{old['screen']}").status_code == 404
        with app.app_context():
            with app.extensions["palabre.store"].read() as db:
                assert service.session_by_token(db, old["facilitator"])[1] == "facilitator"
    finally:
        app.extensions["palabre.store"].dispose()


@pytest.mark.skipif(bool(POSTGRES_URL), reason="opens the SQLite file with a second app")
def test_another_secret_key_cannot_show_the_links(client, live, tmp_path):
    """Links derive from the secret key: a server with another key (or a copy of the database
    alone) shows none, but the links still open their pages."""
    from live import create_app

    other = create_app({"TESTING": True, "SECRET_KEY": "another key", "ASYNC_MODE": "threading",
                        "DATABASE_URL": f"sqlite:///{tmp_path / 'palabre.db'}", "HOST": "127.0.0.1"})
    try:
        browser = other.test_client()
        page = browser.get(f"/f/{live['facilitator']}").get_data(as_text=True)
        assert _links_in(page) == {}
    finally:
        other.extensions["palabre.store"].dispose()


@pytest.mark.server
def test_rotation_cuts_an_open_socket_of_the_real_server_within_a_second(tmp_path):
    from support import Listener, close_all, connect, prepare, server

    setup = prepare(tmp_path / "palabre.db")
    with server(setup.database) as process:
        base = process.url
        listener = Listener("snapshot")
        screen = connect(base, {"token": setup.screen, "lang": "en"}, listener=listener)
        try:
            assert listener.wait_for(lambda seen: seen.count("snapshot") >= 1, 10)
            jar = CookieJar()
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
            with opener.open(f"{base}/f/{setup.facilitator}", timeout=10) as page:
                token = re.search(r'name="csrf-token" content="([^"]+)"', page.read().decode()).group(1)
            request = urllib.request.Request(
                f"{base}/f/{setup.facilitator}/links/screen", method="POST",
                data=urlencode({"csrf_token": token}).encode(),
                headers={"Origin": base, "Content-Type": "application/x-www-form-urlencoded"})
            started = time.monotonic()
            with opener.open(request, timeout=10) as answer:
                assert answer.status == 200  # followed the redirect to the console
            assert wait_until(lambda: not screen.connected, 1.0), "the old screen socket is still open"
            assert time.monotonic() - started < 2.0
            # Refused, and told why (the page shows it).
            with pytest.raises(ConnectionError, match="bad_token.*no longer valid"):
                connect(base, {"token": setup.screen, "lang": "en"}, timeout=5)
        finally:
            close_all([screen])
