"""Organising: the organiser pages (password or this machine only) and the command line."""

import re

import pytest

from live.sessions import service
from live.sessions.model import LiveSession

REMOTE = {"REMOTE_ADDR": "192.168.1.37"}


def test_local_organiser_creates_an_event_and_a_session_from_the_web(client, store):
    response = client.post("/admin/events", data={"title": "Human Tech Days", "place": "Chartres",
                                                   "date": "2026-04-05"}, follow_redirects=True)
    assert response.status_code == 200 and "Human Tech Days" in response.get_data(as_text=True)
    with store.read() as db:
        event = service.list_events(db)[0]
    response = client.post(f"/admin/events/{event.id}/sessions",
                           data={"kind": "workshop", "title": "Atelier 1", "locale": "fr"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    with store.read() as db:
        live_session = db.query(LiveSession).one()
    assert live_session.join_code in page
    # Each capability link shown opens its own page (the database keeps only their hashes).
    for prefix, role in (("f", "facilitator"), ("m", "moderator"), ("screen", "screen")):
        token = re.search(rf'href="http://[^/"]+/{prefix}/([A-Za-z0-9_-]{{20,64}})"', page).group(1)
        with store.read() as db:
            found, granted = service.session_by_token(db, token)
            assert (found.id, granted) == (live_session.id, role)
    assert f"/j/{live_session.join_code}/qr.svg" in page


def test_without_password_a_remote_machine_cannot_organise(client, store):
    assert client.get("/admin/", environ_base=REMOTE).status_code == 403
    response = client.post("/admin/events", data={"title": "Intrus"}, environ_base=REMOTE)
    assert response.status_code == 403
    with store.read() as db:
        assert service.list_events(db) == []


def test_with_a_password_remote_organisers_log_in(app, client, store):
    app.config["ADMIN_PASSWORD"] = "correct horse"
    assert client.get("/admin/", environ_base=REMOTE).status_code == 302
    assert client.post("/admin/events", data={"title": "X"}, environ_base=REMOTE).status_code == 403
    wrong = client.post("/admin/login", data={"password": "nope"}, environ_base=REMOTE)
    assert wrong.status_code == 401
    client.post("/admin/login", data={"password": "correct horse"}, environ_base=REMOTE)
    client.post("/admin/events", data={"title": "Remote event"}, environ_base=REMOTE)
    with store.read() as db:
        assert [e.title for e in service.list_events(db)] == ["Remote event"]


def test_with_a_password_even_the_local_machine_must_log_in(app, client):
    app.config["ADMIN_PASSWORD"] = "secret"
    assert client.get("/admin/").status_code == 302


@pytest.mark.parametrize("form, message", [
    ({"title": ""}, "vide"),
    ({"title": "x" * 300}, "trop long"),
    ({"title": "Ok", "date": "05/04/2026"}, "date"),
])
def test_bad_event_forms_say_why_in_french_and_store_nothing(client, store, form, message):
    response = client.post("/admin/events", data=form, headers={"Accept-Language": "fr"},
                           follow_redirects=True)
    assert message in response.get_data(as_text=True)
    with store.read() as db:
        assert service.list_events(db) == []


def test_cli_creates_event_and_session_and_prints_links(app):
    runner = app.test_cli_runner()
    event = runner.invoke(args=["event", "create", "--title", "HTD", "--date", "2026-04-05"])
    assert event.exit_code == 0
    created = runner.invoke(args=["session", "create", "--event", event.output.strip(),
                                  "--kind", "round_table", "--title", "Table ronde"])
    assert created.exit_code == 0
    code = re.search(r"code (\w+)", created.output).group(1)
    assert f"/j/{code}" in created.output
    assert re.search(r"facilitator\s+http://\S+/f/\S{32,}", created.output)
    links = runner.invoke(args=["session", "links", "1"])
    assert links.output == created.output


def test_cli_refuses_bad_input_clearly(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["session", "create", "--event", "99", "--kind", "workshop", "--title", "T"])
    assert result.exit_code != 0 and "n’existe pas" in result.output  # default locale: fr


def test_cli_demo_creates_the_three_sessions(app, store):
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    with store.read() as db:
        sessions = db.query(LiveSession).all()
        assert len(sessions) == 3
        assert sum(len(s.activities) for s in sessions) >= 5


def test_every_organiser_page_of_every_blueprint_is_guarded(app, client, live):
    # One guard for every page under /admin/ (the admin and archive blueprints, and any later
    # one): another machine gets a 403 without a password, a GET is sent to the login with one.
    rules = [rule for rule in app.url_map.iter_rules()
             if rule.rule.startswith("/admin/") and rule.endpoint not in ("admin.login", "admin.logout")]
    assert {rule.endpoint.split(".")[0] for rule in rules} >= {"admin", "archive"}

    def url(rule):  # each variable part filled: "1", or the first value an any(...) allows
        return re.sub(r"<any\(([^,)]+)[^>]*>|<[^>]+>",
                      lambda found: found.group(1) or "1", rule.rule)

    for rule in rules:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url(rule), method=method, environ_base=REMOTE)
            assert response.status_code == 403, (rule.rule, method)
    app.config["ADMIN_PASSWORD"] = "correct horse"
    for rule in rules:
        if "GET" in rule.methods:
            response = client.get(url(rule), environ_base=REMOTE)
            assert response.status_code == 302 and "/admin/login" in response.location, rule.rule
    assert client.get("/admin/login", environ_base=REMOTE).status_code == 200
    assert client.get("/admin/no-such-page", environ_base=REMOTE).status_code == 404
