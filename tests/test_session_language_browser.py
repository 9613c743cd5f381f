"""The session speaks its own language: a French session opened in English browsers shows French
labels and lang="fr" on the screen and the phones; a participant may switch, and the choice
sticks on that phone; the console follows its user (English here). Real server, real Chromium."""

from __future__ import annotations

import pytest
from support import chromium, playwright_or_skip, prepare, server, sqlite_url

expect = playwright_or_skip().expect
pytestmark = [pytest.mark.browser, pytest.mark.server]
PHONE = {"width": 360, "height": 640}


def _make_french(setup) -> None:
    from live.sessions.model import LiveSession
    from live.store import Store

    store = Store(sqlite_url(setup.database))
    try:
        with store.write() as db:
            db.get(LiveSession, setup.session_id).locale = "fr"
    finally:
        store.dispose()


def test_a_french_session_in_english_browsers_speaks_french_on_screen_and_phones(tmp_path):
    setup = prepare(tmp_path / "palabre.db")
    _make_french(setup)
    with server(setup.database) as srv, chromium() as browser:
        english = {"locale": "en-GB", "extra_http_headers": {"Accept-Language": "en-GB,en;q=0.9"}}
        screen = browser.new_context(viewport={"width": 1920, "height": 1080}, **english).new_page()
        screen.goto(f"{srv.url}/screen/{setup.screen}")
        expect(screen.locator("html")).to_have_attribute("lang", "fr")
        expect(screen.locator(".join-cta")).to_have_text("Pour participer, scannez le QR code ou allez sur")

        console = browser.new_context(**english).new_page()
        console.goto(f"{srv.url}/f/{setup.facilitator}")
        expect(console.locator("html")).to_have_attribute("lang", "en")  # the console follows its user
        expect(console.locator(".console-head .event")).to_contain_text("Facilitator console")

        phone_context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, **english)
        phone = phone_context.new_page()
        phone.goto(f"{srv.url}/j/{setup.code}")
        expect(phone.locator("html")).to_have_attribute("lang", "fr")

        open_poll_live(console, setup)
        expect(screen.locator(".pill")).to_have_text("Vote ouvert")  # drawn by script, in French
        expect(phone.get_by_role("button", name="Envoyer ma réponse")).to_be_visible()

        # The participant switches to English: it sticks on this phone, the screen stays French.
        phone.locator(".langs a[hreflang=en]").click()
        expect(phone.locator("html")).to_have_attribute("lang", "en")
        expect(phone.get_by_role("button", name="Send my answer")).to_be_visible()
        phone.goto(f"{srv.url}/j/{setup.code}")
        expect(phone.locator("html")).to_have_attribute("lang", "en")
        screen.reload()
        expect(screen.locator("html")).to_have_attribute("lang", "fr")
        # Another phone in an English browser still gets the session's French.
        other = browser.new_context(viewport=PHONE, **english).new_page()
        other.goto(f"{srv.url}/j/{setup.code}")
        expect(other.locator("html")).to_have_attribute("lang", "fr")
        expect(other.get_by_role("button", name="Envoyer ma réponse")).to_be_visible()


def open_poll_live(console, setup) -> None:
    """Show and open the poll from the console (its buttons, in English)."""
    console.click(f"[data-key='show-{setup.activity}']")
    console.click(f"[data-key='open-{setup.activity}']")


def test_the_plain_forms_of_a_french_session_answer_in_french(app, client, live, poll):
    english = {"Accept-Language": "en"}
    page = client.get(f"/j/{live['code']}", headers=english).get_data(as_text=True)
    assert '<html lang="fr"' in page and "Envoyer ma réponse" in page
    done = client.post(f"/j/{live['code']}/vote", data={"activity": poll, "choice": "1", "cid": "x1"},
                       headers=english, follow_redirects=True).get_data(as_text=True)
    assert "Votre réponse est enregistrée." in done
    chosen = client.get(f"/j/{live['code']}?lang=en", headers=english).get_data(as_text=True)
    assert '<html lang="en"' in chosen
    again = client.get(f"/j/{live['code']}", headers=english).get_data(as_text=True)
    assert '<html lang="en"' in again  # the participant's choice sticks
    # ...for participant pages only: the organiser's pages keep following the browser.
    assert '<html lang="en"' in client.get("/admin/", headers=english).get_data(as_text=True)
    screen = client.get(f"/screen/{live['screen']}", headers=english).get_data(as_text=True)
    assert '<html lang="fr"' in screen


