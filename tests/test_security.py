"""Organiser security through the real doors: CSRF tokens, the Origin check, trusted hosts,
password-less local mode, login throttling, logout, noindex, the 413 page, private files."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
from conftest import Browser, database_url

from live import create_app
from live.config import ensure_admin_password, load_secret_key
from live.polls import service as polls
from live.polls.model import Vote
from live.sessions import service
from live.sessions.model import Activity, Event

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
HIDDEN_TOKEN = re.compile(r'<input type="hidden" name="csrf_token" value="([^"]+)">')


def _events(store) -> list[str]:
    with store.read() as db:
        return [e.title for e in db.query(Event).order_by(Event.id)]


def _options(store, activity):
    with store.read() as db:
        return [o.id for o in polls.options_of(db, db.get(Activity, activity))]


def _token_in(page: str) -> str:
    match = HIDDEN_TOKEN.search(page)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def _app(tmp_path, **config):
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret-key", "ASYNC_MODE": "threading",
                      "DATABASE_URL": database_url(tmp_path), **config})
    app.test_client_class = Browser
    return app


# --- CSRF ------------------------------------------------------------------------------------

def test_every_post_form_of_every_template_carries_the_csrf_token():
    forms = 0
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        for match in re.finditer(r"<form\b[^>]*>", text, re.S):
            if 'method="post"' in match.group(0):
                forms += 1
                assert text[match.end():].startswith("{{ csrf_field() }}"), f"{path.name}: {match.group(0)}"
    assert forms >= 25


def test_the_organiser_form_works_with_its_page_token_and_not_without(client, store):
    page = client.get("/admin/").get_data(as_text=True)
    token = _token_in(page)
    refused = client.post("/admin/events", data={"title": "Forged"}, csrf=False,
                          headers={"Accept-Language": "en"})
    assert refused.status_code == 400
    assert "did not come from this site" in refused.get_data(as_text=True)
    assert _events(store) == []
    done = client.post("/admin/events", data={"title": "Real", "csrf_token": token}, csrf=False)
    assert done.status_code == 302 and _events(store) == ["Real"]


def test_another_browsers_token_is_refused(app, client, store):
    other = app.test_client()
    token = _token_in(other.get("/admin/").get_data(as_text=True))
    client.get("/admin/")
    response = client.post("/admin/events", data={"title": "Stolen", "csrf_token": token}, csrf=False)
    assert response.status_code == 400 and _events(store) == []


def test_a_participant_votes_without_javascript_with_the_token_of_the_page(client, store, live, poll):
    page = client.get(f"/j/{live['code']}").get_data(as_text=True)
    vote = page[page.index('id="vote"'):]
    form = {"activity": poll, "choice": _options(store, poll)[0], "cid": "c-1",
            "csrf_token": _token_in(vote)}
    forged = client.post(f"/j/{live['code']}/vote", data={**form, "csrf_token": ""}, csrf=False,
                         headers={"Accept-Language": "fr"})
    assert forged.status_code == 400 and "rien n’a été modifié" in forged.get_data(as_text=True)
    with store.read() as db:
        assert db.query(Vote).count() == 0
    response = client.post(f"/j/{live['code']}/vote", data=form, csrf=False)
    assert response.status_code in (302, 303)
    with store.read() as db:
        assert db.query(Vote).count() == 1


@pytest.mark.parametrize("page, post", [
    ("/f/{facilitator}", "/f/{facilitator}/command"),
    ("/m/{moderator}", "/f/{facilitator}/command"),
])
def test_capability_pages_carry_a_token_and_their_forms_need_it(client, store, live, poll, page, post):
    html = client.get(page.format(**live)).get_data(as_text=True)
    assert HIDDEN_TOKEN.search(html) or 'name="csrf-token"' in html
    response = client.post(post.format(**live), data={"action": "close", "activity": poll}, csrf=False)
    assert response.status_code == 400
    with store.read() as db:
        assert db.get(Activity, poll).state == "open"


# --- Origin ----------------------------------------------------------------------------------

@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"},
    {"Origin": "null"},
    {"Referer": "http://evil.example/page.html"},
    {"Origin": "http://127.0.0.1:6000"},
])
def test_a_cross_site_post_is_refused_in_the_users_language(client, store, headers):
    for lang, text in (("en", "sent from another site"), ("fr", "envoyé depuis un autre site")):
        response = client.post("/admin/events", data={"title": "Forged"},
                               headers={**headers, "Accept-Language": lang})
        assert response.status_code == 403 and text in response.get_data(as_text=True)
    assert _events(store) == []


def test_a_post_from_the_servers_own_pages_passes_the_origin_check(client, store):
    client.post("/admin/events", data={"title": "Own"}, headers={"Origin": "http://localhost"})
    client.post("/admin/events", data={"title": "Own 2"},
                headers={"Referer": "http://localhost/admin/"})
    assert _events(store) == ["Own", "Own 2"]


def test_listed_origins_may_post(tmp_path):
    app = _app(tmp_path, HOST="127.0.0.1", PUBLIC_URL="https://palabre.example.org",
               ALLOWED_ORIGINS="https://other.example.org")
    client = app.test_client()
    for origin in ("https://palabre.example.org", "https://other.example.org"):
        assert client.post("/admin/events", data={"title": origin},
                           headers={"Origin": origin}).status_code == 302
    app.extensions["palabre.store"].dispose()


def test_pages_send_a_same_origin_referrer_policy_so_own_posts_carry_their_origin(client):
    # With "no-referrer", browsers send `Origin: null` on the site's own forms.
    assert client.get("/").headers["Referrer-Policy"] == "same-origin"


# --- Hosts -----------------------------------------------------------------------------------

def test_a_request_for_an_unknown_host_name_is_refused(client):
    response = client.get("/admin/", headers={"Host": "rebind.evil.example:5000",
                                              "Accept-Language": "en"})
    assert response.status_code == 400
    assert "does not answer to the name “rebind.evil.example”" in response.get_data(as_text=True)
    post = client.post("/admin/events", data={"title": "x"}, headers={"Host": "rebind.evil.example"})
    assert post.status_code == 400


@pytest.mark.parametrize("host", ["localhost:5000", "127.0.0.1:5000", "192.168.1.20:5000", "[::1]:5000"])
def test_ip_literals_and_localhost_are_always_answered(client, host):
    assert client.get("/", headers={"Host": host}).status_code == 200


def test_a_socket_opened_from_an_unknown_host_name_is_refused(app, live):
    from live.realtime import socketio

    rebound = socketio.test_client(app, auth={"token": live["screen"]},
                                   headers={"Host": "rebind.evil.example"})
    assert not rebound.is_connected()
    direct = socketio.test_client(app, auth={"token": live["screen"]}, headers={"Host": "127.0.0.1:5000"})
    assert direct.is_connected()
    direct.disconnect()


def test_trusted_hosts_setting_and_public_url_add_names(tmp_path, monkeypatch):
    monkeypatch.setenv("LIVE_TRUSTED_HOSTS", "palabre.lan,.venue.example")
    app = _app(tmp_path, PUBLIC_URL="https://live.example.org")
    client = app.test_client()
    for host in ("palabre.lan", "room1.venue.example", "live.example.org"):
        assert client.get("/", headers={"Host": host}).status_code == 200, host
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400
    app.extensions["palabre.store"].dispose()


# --- Local mode, password, logout, throttling -----------------------------------------------

def test_local_mode_needs_a_loopback_bind(tmp_path):
    app = _app(tmp_path, HOST="0.0.0.0")
    response = app.test_client().get("/admin/", headers={"Accept-Language": "en"})
    assert response.status_code == 403 and "LIVE_ADMIN_PASSWORD" in response.get_data(as_text=True)
    app.extensions["palabre.store"].dispose()


@pytest.mark.parametrize("headers", [
    {"X-Forwarded-For": "203.0.113.9"},
    {"Forwarded": "for=203.0.113.9"},
    {"X-Real-IP": "203.0.113.9"},
])
def test_local_mode_refuses_requests_through_a_proxy(client, store, headers):
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/", headers=headers).status_code == 403
    assert client.get("/admin/archive", headers=headers).status_code == 403
    assert client.post("/admin/events", data={"title": "Proxied"}, headers=headers).status_code == 403
    assert _events(store) == []


def test_local_mode_refuses_a_public_name_even_from_this_machine(tmp_path):
    app = _app(tmp_path, HOST="127.0.0.1", TRUSTED_HOSTS="palabre.example.org")
    client = app.test_client()
    assert client.get("/admin/", headers={"Host": "palabre.example.org"}).status_code == 403
    assert client.get("/admin/").status_code == 200
    app.extensions["palabre.store"].dispose()


def test_starting_on_the_network_without_a_password_creates_a_private_one(tmp_path):
    app = _app(tmp_path, HOST="0.0.0.0")
    app.instance_path = str(tmp_path / "instance")
    password = ensure_admin_password(app)
    path = tmp_path / "instance" / "admin_password"
    assert password and path.read_text() == password
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loopback = _app(tmp_path, HOST="127.0.0.1")
    assert ensure_admin_password(loopback) is None and not loopback.config["ADMIN_PASSWORD"]
    loopback.extensions["palabre.store"].dispose()
    client = app.test_client()
    assert client.get("/admin/").status_code == 302
    client.post("/admin/login", data={"password": password})
    assert client.get("/admin/").status_code == 200
    again = _app(tmp_path, HOST="0.0.0.0")
    again.instance_path = app.instance_path
    assert ensure_admin_password(again) == password  # the same one after a restart
    app.extensions["palabre.store"].dispose()
    again.extensions["palabre.store"].dispose()


def test_logout_ends_the_organiser_session(app, client):
    app.config["ADMIN_PASSWORD"] = "correct horse"
    client.post("/admin/login", data={"password": "correct horse"})
    page = client.get("/admin/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Sign out" in page
    assert client.post("/admin/logout").status_code == 303
    assert client.get("/admin/").status_code == 302
    assert client.post("/admin/events", data={"title": "After"}).status_code == 403


def test_changing_the_password_ends_earlier_organiser_sessions(tmp_path):
    first = _app(tmp_path, HOST="0.0.0.0", ADMIN_PASSWORD="old password")
    browser = first.test_client()
    browser.post("/admin/login", data={"password": "old password"})
    assert browser.get("/admin/").status_code == 200
    cookie = browser.get_cookie("session").value
    # The server restarts with a new password (same secret key, same database).
    second = _app(tmp_path, HOST="0.0.0.0", ADMIN_PASSWORD="new password")
    same_browser = second.test_client()
    same_browser.set_cookie("session", cookie)
    assert same_browser.get("/admin/").status_code == 302
    # The same password again: the cookie is still good (nothing else ends sessions).
    third = _app(tmp_path, HOST="0.0.0.0", ADMIN_PASSWORD="old password")
    third_browser = third.test_client()
    third_browser.set_cookie("session", cookie)
    assert third_browser.get("/admin/").status_code == 200
    for app in (first, second, third):
        app.extensions["palabre.store"].dispose()


def test_failed_logins_are_throttled(app, client):
    app.config["ADMIN_PASSWORD"] = "correct horse"
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    for _ in range(3):
        assert client.post("/admin/login", data={"password": "guess"}).status_code == 401
    blocked = client.post("/admin/login", data={"password": "correct horse"},
                          headers={"Accept-Language": "en"})
    assert blocked.status_code == 429 and "Too many attempts" in blocked.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302  # not signed in
    # Another address is not blocked by this one's failures.
    other = {"REMOTE_ADDR": "192.168.1.50"}
    assert client.post("/admin/login", data={"password": "correct horse"},
                       environ_base=other).status_code == 302


def test_successful_logins_do_not_count(app, client):
    app.config["ADMIN_PASSWORD"] = "correct horse"
    app.config["LOGIN_RATE_LIMIT"] = "2 per minute"
    for _ in range(4):
        assert client.post("/admin/login", data={"password": "correct horse"}).status_code == 302


# --- Small items -----------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/f/{facilitator}", "/m/{moderator}", "/screen/{screen}", "/j/{code}",
                                  "/admin/"])
def test_capability_pages_are_not_indexed(client, live, path):
    response = client.get(path.format(**live))
    assert response.status_code == 200
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert '<meta name="robots" content="noindex, nofollow">' in response.get_data(as_text=True)


def test_the_home_page_may_be_indexed(client):
    response = client.get("/")
    assert "X-Robots-Tag" not in response.headers
    assert 'name="robots"' not in response.get_data(as_text=True)


@pytest.mark.parametrize("lang, text", [("en", "too large"), ("fr", "trop volumineux")])
def test_a_form_over_the_limit_gets_a_clear_page_in_the_users_language(client, store, live, poll,
                                                                       lang, text):
    client.get(f"/j/{live['code']}")
    response = client.post(f"/j/{live['code']}/vote", headers={"Accept-Language": lang},
                           data={"activity": poll, "choice": "1", "cid": "x" * (200 * 1024)})
    body = response.get_data(as_text=True)
    assert response.status_code == 413 and text in body and "<html" in body
    with store.read() as db:
        assert db.query(Vote).count() == 0


def test_the_import_form_still_accepts_a_large_archive(client):
    # The CSRF check reads the form before the view: the import's own limit must apply by then.
    response = client.post("/admin/archive/import",
                           data={"archive": (__import__("io").BytesIO(b"x" * (300 * 1024)), "a.zip")})
    assert response.status_code == 303


def test_the_secret_key_file_is_private_from_its_first_byte(tmp_path, monkeypatch):
    import os

    monkeypatch.setattr(os, "umask", os.umask)
    old = os.umask(0)  # the most permissive umask: the file must still be 0600
    try:
        key = load_secret_key(str(tmp_path / "instance"))
    finally:
        os.umask(old)
    path = tmp_path / "instance" / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.read_text() == key and len(key) == 64
    assert load_secret_key(str(tmp_path / "instance")) == key
    assert [p.name for p in path.parent.iterdir()] == ["secret_key"]  # no temporary left


def test_organiser_pages_keep_working_after_a_session_is_created(client, store):
    client.post("/admin/events", data={"title": "E"})
    with store.read() as db:
        event = db.query(Event).one()
    response = client.post(f"/admin/events/{event.id}/sessions", data={"kind": "workshop", "title": "S"})
    assert response.status_code == 302
    with store.read() as db:
        assert len(service.list_events(db)[0].sessions) == 1


@pytest.mark.server
def test_the_real_server_refuses_forged_posts_foreign_hosts_and_oversized_forms(tmp_path):
    """The same doors on `python wsgi.py` (eventlet): the pages come back whole, in French."""
    import http.client
    import urllib.error
    import urllib.request
    from http.cookiejar import CookieJar
    from urllib.parse import urlencode, urlsplit

    from support import prepare, query, server

    setup = prepare(tmp_path / "palabre.db")
    with server(setup.database) as process:
        base = process.url
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        with opener.open(f"{base}/j/{setup.code}", timeout=10) as page:
            token = re.search(r'name="csrf-token" content="([^"]+)"', page.read().decode()).group(1)

        def post(path, fields, **headers):
            request = urllib.request.Request(f"{base}{path}", data=urlencode(fields).encode(), method="POST",
                                             headers={"Accept-Language": "fr", **headers})
            try:
                with opener.open(request, timeout=10) as answer:
                    return answer.status, answer.read().decode()
            except urllib.error.HTTPError as exc:
                return exc.code, exc.read().decode()

        status, body = post("/admin/events", {"title": "Forged", "csrf_token": token},
                            Origin="http://evil.example")
        assert status == 403 and "envoyé depuis un autre site" in body
        status, body = post("/admin/events", {"title": "No token"}, Origin=base)
        assert status == 400 and "rien n’a été modifié" in body
        status, body = post(f"/j/{setup.code}/vote", {"csrf_token": token, "activity": setup.activity,
                                                      "cid": "x" * (1024 * 1024)}, Origin=base)
        assert status == 413 and "trop volumineux" in body
        assert query(setup.database, "select count(*) from events") == [(1,)]  # prepare's only

        address = urlsplit(base)
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
        connection.request("GET", "/admin/", headers={"Host": "rebind.evil.example"})
        answer = connection.getresponse()
        assert answer.status == 400 and "rebind.evil.example" in answer.read().decode()
        connection.close()


def test_scripts_and_styles_carry_no_header_they_do_not_need(client):
    """A CSP is for documents; Content-Disposition and Expires say nothing the type and
    Cache-Control do not: a phone's first load is lighter without them. nosniff stays."""
    for path in ("/static/js/core.js", "/static/css/palabre.css", "/static/vendor/socket.io.esm.min.js"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "max-age" in response.headers["Cache-Control"]
        for name in ("Content-Security-Policy", "Content-Disposition", "Expires"):
            assert name not in response.headers, (path, name)
    assert "Content-Security-Policy" in client.get("/").headers
