"""The quick start through its forms: "Start a session now" on the organiser home, the console's
ready-made activities (in the session's language, launched or only added)."""

from __future__ import annotations

import re
from datetime import date

import pytest

from live.polls.model import Option
from live.sessions.model import Activity, LiveSession

FR = {"Accept-Language": "fr-FR,fr;q=0.9"}
EN = {"Accept-Language": "en"}


def _start(client, headers) -> str:
    response = client.post("/admin/start", headers=headers)
    assert response.status_code == 303
    match = re.search(r"/f/([^/]+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


def test_start_now_makes_a_dated_workshop_in_the_users_language_and_opens_its_console(app, client, store):
    token = _start(client, FR)
    again = _start(client, EN)
    with store.read() as db:
        first, second = db.query(LiveSession).order_by(LiveSession.id).all()
        assert (first.kind, first.locale, second.locale) == ("workshop", "fr", "en")
        assert first.title.startswith("Session du ") and first.date == date.today()
        assert first.event.title.startswith("Sessions du ") and first.event.date == date.today()
        assert second.event_id != first.event_id  # the English title names another event
    third = _start(client, FR)
    with store.read() as db:
        assert len({s.event_id for s in db.query(LiveSession)}) == 2  # today's event is reused
    page = client.get(f"/f/{token}", headers=FR).get_data(as_text=True)
    # The screen link and its QR code come before the agenda.
    top = page.index("Ouvrir l’écran")
    assert top < page.index('id="agenda"') and 'src="data:image/svg+xml;base64,' in page[top:]
    assert again != third


def test_a_ready_made_poll_is_added_in_the_sessions_language_on_screen_and_open(app, client, live, store):
    token = live["facilitator"]  # a French session, an English console
    response = client.post(f"/f/{token}/presets", data={"preset": "yesno", "prompt": "", "launch": "on"},
                           headers=EN)
    assert response.status_code == 302
    with store.read() as db:
        poll = db.query(Activity).one()
        options = [o.label for o in db.query(Option).filter_by(activity_id=poll.id).order_by(Option.position)]
        assert (poll.prompt, poll.state, options) == ("Êtes-vous d’accord ?", "open", ["Oui", "Non"])
        assert db.get(LiveSession, live["id"]).current_activity_id == poll.id


@pytest.mark.parametrize(("preset", "kind", "prompt"), [
    ("scale", "poll", "Quelle note donneriez-vous, de 1 à 5 ?"),
    ("abcd", "poll", "Laquelle ?"),
    ("word", "wordcloud", "En un mot…"),
    ("questions", "questions", "Vos questions aux intervenants"),
])
def test_every_ready_made_activity_can_be_only_added(app, client, live, store, preset, kind, prompt):
    typed = "Laquelle ?" if preset == "abcd" else ""
    client.post(f"/f/{live['facilitator']}/presets", data={"preset": preset, "prompt": typed})
    with store.read() as db:
        activity = db.query(Activity).one()
        assert (activity.kind, activity.prompt, activity.state) == (kind, prompt, "draft")
        assert db.get(LiveSession, live["id"]).current_activity_id is None
        if preset == "scale":
            assert activity.settings == {"scale_max": 5, "label_low": "Pas du tout",
                                         "label_high": "Tout à fait"}
        if preset == "questions":
            assert (activity.settings["premoderation"], activity.settings["budget"]) == (False, 0)


def test_an_unknown_preset_is_refused_with_a_message(app, client, live, store):
    page = client.post(f"/f/{live['facilitator']}/presets", data={"preset": "nope", "launch": "on"},
                       headers=EN, follow_redirects=True).get_data(as_text=True)
    assert "Unknown ready-made activity." in page
    with store.read() as db:
        assert db.query(Activity).count() == 0
