"""The room's pace in real Chromium: the facilitator switches it on, a phone at 360x640 says
"too slow" (a plain form), the console's and the screen's numbers follow live without a reload."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support import chromium, playwright_or_skip, prepare, server

expect = playwright_or_skip().expect
pytestmark = [pytest.mark.browser, pytest.mark.server]
PHONE = {"width": 360, "height": 640}


def test_phone_says_too_slow_and_the_console_follows_live(tmp_path):
    setup = prepare(tmp_path / "palabre.db")
    problems: list[str] = []
    with server(setup.database) as srv, chromium() as browser:
        console = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB").new_page()
        phone = browser.new_context(viewport=PHONE, locale="en-GB", has_touch=True, is_mobile=True).new_page()
        screen = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="en-GB").new_page()
        screen.goto(f"{srv.url}/screen/{setup.screen}")
        expect(screen.locator("[data-pulse-box]")).to_be_hidden()  # off: nothing on the projector
        for page in (console, phone, screen):
            page.on("pageerror", lambda exc: problems.append(str(exc)))
        console.goto(f"{srv.url}/f/{setup.facilitator}")
        console.get_by_role("button", name="Switch the pace widget on").click()
        expect(console.get_by_role("button", name="Switch the pace widget off")).to_be_visible()
        expect(console.locator("[data-pulse-n=slow]")).to_have_text("0")

        phone.goto(f"{srv.url}/j/{setup.code}")
        slow = phone.get_by_role("button", name="Too slow")
        expect(slow).to_be_visible()
        box = slow.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
        assert box["height"] >= 40, box  # a thumb's target
        slow.click()
        expect(phone.get_by_role("button", name="Too slow")).to_have_attribute("aria-pressed", "true")
        expect(phone.locator("#outbox")).to_contain_text("Too slow")  # sent over the socket
        # The console was not reloaded: the `pulse` push changed its numbers.
        expect(console.locator("[data-pulse-n=slow]")).to_have_text("1")
        expect(console.locator("[data-pulse-n=average]")).to_have_text("-1.00")
        # The screen shows it too, live, in its top margin: above the slide, cutting nothing.
        expect(screen.locator("[data-pulse-box] [data-pulse-n=slow]")).to_have_text("1")
        line = screen.locator("[data-pulse-box]").bounding_box()
        stage = screen.locator("#stage").bounding_box()
        assert line and stage and 0 <= line["y"] and line["y"] + line["height"] <= stage["y"] + 1, \
            (line, stage)
        assert line["x"] + line["width"] <= 1920, line
        phone.locator("#pulse").scroll_into_view_if_needed()
        shots = Path(os.environ.get("PALABRE_SCREENSHOTS") or tmp_path)
        phone.screenshot(path=str(shots / "phone-pace.png"))
        screen.screenshot(path=str(shots / "screen-pace.png"))
    assert not problems, problems
