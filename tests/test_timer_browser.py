"""The timer in real Chromium: the facilitator opens the console's timer form and starts it; a
phone (360x640) whose own clock is ten minutes off and the projector (1920x1080) count down the
same time from the server's deadline, once a second, without a push per second; pause, +1 min
and stop follow on both. Screenshots in the test's folder (looked at when the test was written)."""

from __future__ import annotations

import re

import pytest
from support import chromium, goto_live, open_poll, playwright_or_skip, prepare, server

expect = playwright_or_skip().expect
pytestmark = [pytest.mark.browser, pytest.mark.server]
PHONE = {"width": 360, "height": 640}
PROJECTOR = {"width": 1920, "height": 1080}
# The phone's clock runs ten minutes ahead: the timer must not care.
SKEWED_CLOCK = "(function (now) { Date.now = function () { return now() + 600000; }; })(Date.now);"


def _watch(page, problems):
    page.on("pageerror", lambda exc: problems.append(f"{page.url}: {exc}"))
    page.on("console", lambda msg: problems.append(f"{page.url}: {msg.text}")
            if msg.type == "error" else None)


def _seconds(text: str) -> int:
    minutes, seconds = text.strip().split(":")
    return int(minutes) * 60 + int(seconds)


def _legible_and_uncut(screen, phone, console, tmp_path) -> None:
    """Big on the projector (legible from the back of a hall), and the slide is not cut."""
    size = screen.evaluate("parseFloat(getComputedStyle(document.querySelector('#timer .timer-time'))"
                           ".fontSize)")
    assert size >= 60, size
    assert screen.evaluate("document.documentElement.scrollHeight <= innerHeight + 1")
    expect(screen.locator(".slide-body")).to_have_attribute("data-fit", re.compile(r"\d"))
    box = phone.locator("#timer").bounding_box()
    assert box["y"] < 640 and box["width"] <= 360
    phone.screenshot(path=str(tmp_path / "timer-phone.png"))
    screen.screenshot(path=str(tmp_path / "timer-screen.png"))
    console.screenshot(path=str(tmp_path / "timer-console.png"), full_page=True)


def test_phone_and_projector_count_down_the_same_timer(tmp_path):
    setup = prepare(tmp_path / "palabre.db")
    open_poll(setup)
    problems: list[str] = []
    with server(setup.database) as srv, chromium() as browser:
        screen = browser.new_context(viewport=PROJECTOR, locale="en-GB").new_page()
        console = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB").new_page()
        phone_context = browser.new_context(viewport=PHONE, locale="en-GB", has_touch=True, is_mobile=True)
        phone_context.add_init_script(SKEWED_CLOCK)
        phone = phone_context.new_page()
        for page in (screen, console, phone):
            _watch(page, problems)
        goto_live(screen, f"{srv.url}/screen/{setup.screen}")
        goto_live(phone, f"{srv.url}/j/{setup.code}")
        goto_live(console, f"{srv.url}/f/{setup.facilitator}")
        assert phone.locator("#timer").count() == 0  # no timer: no markup, no module
        assert not [r for r in phone.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
                    if "timer" in r]

        console.click("#timer-open")  # the form comes with the page (it works without JavaScript)
        expect(console.locator("#timer-form")).to_be_visible()
        console.fill("#timer-minutes", "2")
        console.check("input[name=autoclose]")
        console.get_by_role("button", name="Start the timer").click()

        for page in (phone, screen, console):
            expect(page.locator("#timer .timer-time")).to_have_text(re.compile(r"^(1:5\d|2:00)$"))
            expect(page.locator("#timer .timer-label")).to_have_text("Time left")
        first = _seconds(phone.locator("#timer .timer-time").inner_text())
        # It counts down by itself (no push per second): a lower number within a few seconds.
        shown = re.compile(f"^{first // 60}:{first % 60:02d}$")
        expect(phone.locator("#timer .timer-time")).not_to_have_text(shown, timeout=5000)
        screen_time = _seconds(screen.locator("#timer .timer-time").inner_text())
        phone_time = _seconds(phone.locator("#timer .timer-time").inner_text())
        assert abs(screen_time - phone_time) <= 2, (screen_time, phone_time)

        _legible_and_uncut(screen, phone, console, tmp_path)

        console.get_by_role("button", name="Pause").click()
        for page in (phone, screen):
            expect(page.locator("#timer .timer-label")).to_have_text("Timer paused")
        paused = phone.locator("#timer .timer-time").inner_text()
        console.get_by_role("button", name="+1 min").click()
        later = f"{_seconds(paused) // 60 + 1}:{paused[-2:]}"
        expect(phone.locator("#timer .timer-time")).to_have_text(later)
        console.get_by_role("button", name="Resume").click()
        expect(screen.locator("#timer .timer-label")).to_have_text("Time left")
        phone.screenshot(path=str(tmp_path / "timer-phone-2.png"))
        console.get_by_role("button", name="Stop the timer").click()
        for page in (phone, screen):
            expect(page.locator("#timer")).to_be_hidden()
    assert problems == []
