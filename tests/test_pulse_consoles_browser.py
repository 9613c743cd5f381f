"""The room's pulse switched from one console reaches every other open console (no reload):
its panel, its switch button and the phones' widget follow the `pulse` push; a French screen
says the pace in words a room reads from afar, with the average written the French way."""

from __future__ import annotations

import pytest
from support import chromium, playwright_or_skip, prepare, server

expect = playwright_or_skip().expect
pytestmark = [pytest.mark.browser, pytest.mark.server]
PROJECTOR = {"width": 1920, "height": 1080}


def _console(browser, url):
    page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB").new_page()
    page.goto(url)
    page.evaluate("window.__stayed = true")  # gone if the page reloads
    return page


def test_every_open_console_follows_the_switch_and_the_screen_says_the_pace(tmp_path):
    setup = prepare(tmp_path / "palabre.db")
    problems: list[str] = []
    with server(setup.database) as srv, chromium() as browser:
        first = _console(browser, f"{srv.url}/f/{setup.facilitator}")
        other = _console(browser, f"{srv.url}/f/{setup.facilitator}")
        screen = browser.new_context(viewport=PROJECTOR, locale="fr-FR").new_page()
        screen.goto(f"{srv.url}/screen/{setup.screen}?lang=fr")
        phone = browser.new_context(viewport={"width": 360, "height": 640}, locale="en-GB").new_page()
        phone.goto(f"{srv.url}/j/{setup.code}?lang=en")
        for page in (first, other, screen, phone):
            page.on("pageerror", lambda exc: problems.append(str(exc)))
        expect(other.get_by_text("Off: participants do not see the pace widget.")).to_be_visible()
        first.get_by_role("button", name="Switch the pace widget on").click()
        # The other console was not the one clicked: the push shows it the panel, at once.
        expect(other.get_by_role("button", name="Switch the pace widget off")).to_be_visible()
        expect(other.get_by_text("Off: participants do not see the pace widget.")).to_be_hidden()
        expect(other.get_by_role("button", name="Clear the queue")).to_be_visible()
        phone.get_by_role("button", name="Too slow").click()
        expect(other.locator("[data-pulse-n=slow]")).to_have_text("1")
        expect(other.locator("[data-pulse-word]")).to_have_text("Too slow")
        expect(screen.locator("[data-pulse-box] [data-pulse-word]")).to_have_text("Trop lent")
        expect(screen.locator("[data-pulse-box] [data-pulse-n=average]")).to_have_text("-1,00")
        # Switched off from the other console: the first follows, its button switches on again.
        other.get_by_role("button", name="Switch the pace widget off").click()
        expect(first.get_by_text("Off: participants do not see the pace widget.")).to_be_visible()
        expect(first.get_by_role("button", name="Clear the queue")).to_be_hidden()
        first.get_by_role("button", name="Switch the pace widget on").click()
        expect(other.get_by_role("button", name="Switch the pace widget off")).to_be_visible()
        assert first.evaluate("window.__stayed === true") and other.evaluate("window.__stayed === true")
    assert not problems, problems
