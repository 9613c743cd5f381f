"""The pages without JavaScript: join, vote by form, the poll editor, QR codes, headers, languages."""

import xml.etree.ElementTree as ET

import pytest
from conftest import add_poll, choose_language, command

from live.polls import service as polls
from live.polls.model import Vote
from live.sessions import service
from live.sessions.model import Activity


def _options(store, activity):
    with store.read() as db:
        return [o.id for o in polls.options_of(db, db.get(Activity, activity))]


def test_join_form_redirects_to_the_session_however_the_code_is_typed(client, live):
    response = client.get("/join", query_string={"code": " " + live["code"].lower()[:3] + "-"
                                                 + live["code"].lower()[3:]})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/j/{live['code']}")


@pytest.mark.parametrize("lang, text", [("en", "No session has this code"), ("fr", "Aucune session")])
def test_unknown_code_is_explained_in_the_users_language(client, live, lang, text):
    response = client.get("/join?code=ZZZZZZ", headers={"Accept-Language": lang})
    assert response.status_code == 404 and text in response.get_data(as_text=True)


def test_ended_session_code_no_longer_joins(client, store, live):
    command(store, live["id"], "end")
    choose_language(client)
    response = client.get(f"/j/{live['code']}", headers={"Accept-Language": "en"})
    assert response.status_code == 404 and "ended" in response.get_data(as_text=True)


def test_vote_by_plain_form_is_stored_once_even_if_sent_twice(client, store, live, poll):
    choose_language(client)
    page = client.get(f"/j/{live['code']}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Question ?" in page and 'name="cid"' in page
    option = _options(store, poll)[1]
    form = {"activity": poll, "choice": option, "cid": "form-1"}
    first = client.post(f"/j/{live['code']}/vote", data=form, follow_redirects=True,
                        headers={"Accept-Language": "en"})
    assert "Your answer is saved" in first.get_data(as_text=True)
    client.post(f"/j/{live['code']}/vote", data={**form, "choice": _options(store, poll)[0]})
    with store.read() as db:
        assert [v.choice for v in db.query(Vote)] == [[option]]


def test_vote_by_form_on_a_closed_poll_is_refused_with_the_reason(client, store, live, poll):
    client.get(f"/j/{live['code']}")
    command(store, live["id"], "close", poll)
    form = {"activity": poll, "choice": _options(store, poll)[0]}
    response = client.post(f"/j/{live['code']}/vote", data=form, headers={"Accept-Language": "fr"},
                           follow_redirects=True)
    assert "fermé" in response.get_data(as_text=True)
    with store.read() as db:
        assert db.query(Vote).count() == 0


def test_ranking_by_form_uses_the_positions(client, store, live):
    activity = add_poll(store, live["id"], "ranking", ("A", "B", "C"))
    command(store, live["id"], "show", activity)
    command(store, live["id"], "open", activity)
    a, b, c = _options(store, activity)
    client.get(f"/j/{live['code']}")
    client.post(f"/j/{live['code']}/vote", data={"activity": activity, f"rank_{a}": "3", f"rank_{b}": "1",
                                                 f"rank_{c}": "2"})
    with store.read() as db:
        assert db.query(Vote).one().choice == [b, c, a]


def test_facilitator_adds_edits_moves_and_deletes_polls_by_form(client, store, live):
    base = f"/f/{live['facilitator']}"
    client.post(f"{base}/polls", data={"type": "multiple", "prompt": "Formats ?",
                                       "options": "Ateliers\nDéfis\n\nMesures", "max_choices": "2"})
    client.post(f"{base}/polls", data={"type": "scale", "prompt": "Levier ?", "scale_max": "5",
                                       "label_low": "Pas du tout", "label_high": "Tout à fait"})
    with store.read() as db:
        first, second = service.get_session(db, live["id"]).activities
        assert (first.type, first.settings) == ("multiple", {"max_choices": 2})
        assert len(polls.options_of(db, first)) == 3
        assert second.settings == {"scale_max": 5, "label_low": "Pas du tout", "label_high": "Tout à fait"}
        first_id, second_id = first.id, second.id
    client.post(f"{base}/polls/{first_id}", data={"prompt": "Quels formats ?", "options": "Ateliers\nDéfis",
                                                  "max_choices": "1"})
    client.post(f"{base}/activities/{second_id}/move", data={"direction": "up"})
    with store.read() as db:
        agenda = service.get_session(db, live["id"]).activities
        assert [a.id for a in agenda] == [second_id, first_id]
        assert agenda[1].prompt == "Quels formats ?" and len(polls.options_of(db, agenda[1])) == 2
    client.post(f"{base}/activities/{second_id}/delete")
    with store.read() as db:
        assert [a.id for a in service.get_session(db, live["id"]).activities] == [first_id]


def test_bad_poll_form_explains_and_stores_nothing(client, store, live):
    form = {"type": "single", "prompt": "Q ?", "options": "Seule"}
    response = client.post(f"/f/{live['facilitator']}/polls", data=form,
                           headers={"Accept-Language": "en"}, follow_redirects=True)
    assert "between 2 and" in response.get_data(as_text=True)
    with store.read() as db:
        assert service.get_session(db, live["id"]).activities == []


def test_command_form_drives_the_session_without_javascript(client, store, live):
    activity = add_poll(store, live["id"])
    for action in ("show", "open"):
        client.post(f"/f/{live['facilitator']}/command", data={"action": action, "activity": activity})
    with store.read() as db:
        s = service.get_session(db, live["id"])
        assert s.current_activity_id == activity and s.activities[0].state == "open"


@pytest.mark.parametrize("path", ["/f/{screen}", "/screen/{facilitator}", "/m/{facilitator}",
                                  "/f/not-a-token-at-all-xxxxxxxx", "/screen/x"])
def test_a_token_opens_only_its_own_page(client, live, path):
    assert client.get(path.format(**live)).status_code == 404


@pytest.mark.parametrize("path", ["/j/{code}/qr.svg", "/f/{facilitator}/qr.svg"])
def test_qr_codes_are_standalone_svg(client, live, path):
    response = client.get(path.format(**live))
    assert response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"


def test_every_page_has_a_strict_csp_and_no_external_resource(client, live):
    for path in ("/", f"/j/{live['code']}", f"/screen/{live['screen']}", f"/f/{live['facilitator']}",
                 f"/m/{live['moderator']}", "/admin/"):
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path
        html = response.get_data(as_text=True)
        assert "http://" not in html.split("<body")[0] and "https://" not in html.split("<body")[0], path
        assert "<script>" not in html and " style=" not in html and "onclick" not in html, path


def test_language_switch_is_remembered(client):
    response = client.get("/?lang=en")
    assert 'lang="en"' in response.get_data(as_text=True)
    assert 'lang="en"' in client.get("/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert 'lang="fr"' in client.get("/?lang=fr").get_data(as_text=True)


def test_participant_cookie_is_signed_httponly_and_samesite(client, live):
    response = client.get(f"/j/{live['code']}")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_static_files_do_not_send_the_session_cookie_again(client, live):
    """Scripts and styles come without Set-Cookie (250 bytes each on a phone's first load); the
    pages still refresh the participant's cookie."""
    assert "Set-Cookie" in client.get(f"/j/{live['code']}").headers
    for path in ("/static/js/core.js", "/static/css/palabre.css", "/static/vendor/socket.io.esm.min.js"):
        response = client.get(path)
        assert response.status_code == 200 and "Set-Cookie" not in response.headers, path
    assert "Set-Cookie" in client.get(f"/j/{live['code']}").headers


def test_hostile_option_labels_are_escaped_in_every_page(client, store, live):
    hostile = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>")
    activity = add_poll(store, live["id"], "single", hostile)
    command(store, live["id"], "show", activity)
    command(store, live["id"], "reveal", activity)
    for path in (f"/j/{live['code']}", f"/screen/{live['screen']}", f"/f/{live['facilitator']}"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>alert(1)" not in html and "<img src=x" not in html, path
        assert "&lt;script&gt;alert(1)" in html, path


@pytest.mark.parametrize("lang, date, percent", [("fr", "5 avril 2022", "100\u00a0%"),
                                                 ("en", "April 5, 2022", "100%")])
def test_dates_and_numbers_follow_the_locale(client, store, live, poll, lang, date, percent):
    client.get(f"/j/{live['code']}")
    client.post(f"/j/{live['code']}/vote", data={"activity": poll, "choice": _options(store, poll)[0]})
    command(store, live["id"], "reveal", poll)
    headers = {"Accept-Language": lang}
    assert date in client.get("/admin/", headers=headers).get_data(as_text=True)
    screen = client.get(f"/screen/{live['screen']}?lang={lang}", headers=headers)  # (the session's: fr)
    assert percent in screen.get_data(as_text=True)


def test_word_cloud_entry_and_withdraw_by_plain_form(client, store, live):
    from live.wordclouds import service as clouds
    from live.wordclouds.model import WordEntry

    with store.write() as db:
        cloud = clouds.add_wordcloud(db, service.get_session(db, live["id"]), "Un mot ?").id
    for action in ("show", "open"):
        command(store, live["id"], action, cloud)
    client.get(f"/j/{live['code']}")
    form = {"activity": cloud, "text": "Sobriété", "cid": "w-1"}
    client.post(f"/j/{live['code']}/words", data=form)
    client.post(f"/j/{live['code']}/words", data=form)  # sent twice: stored once
    with store.read() as db:
        entries = db.query(WordEntry).all()
        assert [e.text for e in entries] == ["Sobriété"]
    client.post(f"/j/{live['code']}/words/{entries[0].id}/withdraw", data={"activity": cloud})
    choose_language(client)
    empty = client.post(f"/j/{live['code']}/words", data={"activity": cloud, "text": "le"},
                        headers={"Accept-Language": "en"}, follow_redirects=True)
    assert "says too little" in empty.get_data(as_text=True)
    with store.read() as db:
        assert db.query(WordEntry).one().withdrawn_at is not None
