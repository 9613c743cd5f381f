"""A first vote in under a minute, in real Chromium on the real server: from the organiser home,
a new facilitator reaches a projected join QR code with an open first poll in at most 5 clicks,
and a phone votes on it. Every click of the facilitator is counted."""

from __future__ import annotations

import re
import time

import pytest
from support import chromium, playwright_or_skip, query, server

expect = playwright_or_skip().expect
pytestmark = [pytest.mark.browser, pytest.mark.server]
PHONE = {"width": 360, "height": 640}
PROJECTOR = {"width": 1920, "height": 1080}
MAX_CLICKS = 5
MAX_SECONDS = 60


def _watch(page, problems):
    page.on("pageerror", lambda exc: problems.append(f"{page.url}: {exc}"))
    page.on("console", lambda msg: problems.append(f"{page.url}: {msg.text}")
            if msg.type == "error" else None)


def test_from_the_organiser_home_to_a_projected_first_poll_in_five_clicks(tmp_path):
    database = tmp_path / "palabre.db"
    problems: list[str] = []
    clicks: list[str] = []
    with server(database) as srv, chromium() as browser:
        laptop = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
        console = laptop.new_page()
        _watch(console, problems)

        def click(locator) -> None:  # the facilitator's only way to act in this test
            clicks.append(locator.inner_text().strip())
            locator.click()

        started = time.monotonic()
        console.goto(f"{srv.url}/admin/")
        click(console.get_by_role("button", name="Start a session now"))
        expect(console).to_have_url(re.compile(r"/f/[^/]+$"))
        # The screen link is at the top of the console, above the fold.
        open_screen = console.get_by_role("link", name="Open the screen")
        assert open_screen.bounding_box()["y"] < 800
        with laptop.expect_page() as opened:
            click(open_screen)
        screen = opened.value
        _watch(screen, problems)
        screen.set_viewport_size(PROJECTOR)
        expect(screen.locator(".banner-qr")).to_be_visible()  # the join banner, before any poll
        expect(screen.locator("html")).to_have_attribute("lang", "en")

        click(console.get_by_role("button", name="Yes / No"))
        expect(screen.locator("#prompt")).to_have_text("Do you agree?")
        expect(screen.locator(".pill")).to_have_text("Voting open")
        expect(screen.locator(".foot-qr")).to_be_visible()
        elapsed = time.monotonic() - started
        assert len(clicks) <= MAX_CLICKS, clicks
        assert elapsed <= MAX_SECONDS, f"{elapsed:.1f} s"

        # A phone opens the address the screen shows, and votes.
        join_url = screen.locator(".foot-url").inner_text().strip()
        phone = browser.new_context(viewport=PHONE, locale="en-GB", has_touch=True,
                                    is_mobile=True).new_page()
        _watch(phone, problems)
        phone.goto(join_url)
        expect(phone.locator("#prompt")).to_have_text("Do you agree?")
        phone.get_by_role("radio", name="Yes", exact=True).check()
        phone.get_by_role("button", name="Send my answer").click()
        expect(phone.locator("#stage")).to_contain_text("saved")
        expect(screen.locator(".foot-count")).to_contain_text("1 answer")
    assert query(database, "select count(*) from votes") == [(1,)]
    assert query(database, "select kind, locale from live_sessions") == [("workshop", "en")]
    assert clicks == ["Start a session now", "Open the screen", "Yes / No"]
    assert problems == []
