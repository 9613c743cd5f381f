"""The room's pulse live in real Chromium: a phone already open (360x640) gets the widget the
moment the facilitator switches it on, and loses it when switched off, without a reload; hands
raised from two phones queue in order on the console (1920x1080) and on the screen as a count;
"has spoken" moves the other phone up at once; a reaction rises on the screen (only fades with
reduced motion) and is counted on the console."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support import chromium, playwright_or_skip, prepare, server

expect = playwright_or_skip().expect
pytestmark = [pytest.mark.browser, pytest.mark.server]
PHONE = {"width": 360, "height": 640}
PROJECTOR = {"width": 1920, "height": 1080}


def _phone(browser, url):
    page = browser.new_context(viewport=PHONE, locale="en-GB", has_touch=True, is_mobile=True).new_page()
    page.goto(url)
    page.evaluate("window.__stayed = true")  # gone if the page reloads
    return page


def _inside_phone(locator):
    box = locator.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    assert box["height"] >= 40, box  # a thumb's target


def _place(ticket, place):
    return f"Your hand is raised: number {ticket}, place {place} in the queue."


def _raise_hands_and_react(ana, ben, console, screen, still, shots):
    ana.get_by_label("Your name (optional)").fill("Ana")
    ana.get_by_role("button", name="I'd like to speak").click()
    expect(ana.locator(".hand-place")).to_have_text(_place(1, 1))
    ben.get_by_role("button", name="I'd like to speak").click()
    expect(ben.locator(".hand-place")).to_have_text(_place(2, 2))
    queue = console.locator("[data-hand-queue] li")
    expect(queue).to_have_count(2)
    expect(queue.nth(0)).to_contain_text("#1 Ana")
    expect(queue.nth(1)).to_contain_text("#2")
    expect(screen.locator("[data-pulse-hands]")).to_have_text(" · ✋ 2 hands raised")
    expect(screen.locator("[data-pulse-box]")).not_to_contain_text("Ana")  # never who
    ana.get_by_role("button", name="Too slow").click()
    expect(ana.get_by_role("button", name="Too slow")).to_have_attribute("aria-pressed", "true")
    expect(console.locator("[data-pulse-n=slow]")).to_have_text("1")
    ben.get_by_role("button", name="Applause").click()
    expect(screen.locator("[data-reactions] span").first).to_have_text("👏")
    animation = "e => getComputedStyle(e).animationName"
    rising = screen.locator("[data-reactions] span").first.evaluate(animation)
    fading = still.locator("[data-reactions] span").first.evaluate(animation)
    assert (rising, fading) == ("react-rise", "react-fade")
    expect(console.locator("[data-react-n=clap]")).to_have_text("1")
    ana.locator("#pulse").scroll_into_view_if_needed()
    ana.screenshot(path=str(shots / "phone-pulse-hand.png"))
    screen.screenshot(path=str(shots / "screen-pulse.png"))
    console.locator("#pulse").screenshot(path=str(shots / "console-pulse.png"))


def test_an_open_phone_gets_the_widget_hands_queue_and_reactions_rise(tmp_path):
    setup = prepare(tmp_path / "palabre.db")
    problems: list[str] = []
    shots = Path(os.environ.get("PALABRE_SCREENSHOTS") or tmp_path)
    with server(setup.database) as srv, chromium() as browser:
        ana = _phone(browser, f"{srv.url}/j/{setup.code}")
        ben = _phone(browser, f"{srv.url}/j/{setup.code}")
        console = browser.new_context(viewport=PROJECTOR, locale="en-GB").new_page()
        screen = browser.new_context(viewport=PROJECTOR, locale="en-GB").new_page()
        still = browser.new_context(viewport=PROJECTOR, locale="en-GB", reduced_motion="reduce").new_page()
        for page in (ana, ben, console, screen, still):
            page.on("pageerror", lambda exc: problems.append(str(exc)))
        screen.goto(f"{srv.url}/screen/{setup.screen}")
        still.goto(f"{srv.url}/screen/{setup.screen}")
        console.goto(f"{srv.url}/f/{setup.facilitator}")
        expect(ana.locator("#pulse")).to_have_count(0)
        console.get_by_role("button", name="Switch the pace widget on").click()
        # The phones were open before: the `state` push brings the widget, no reload.
        for phone in (ana, ben):
            expect(phone.get_by_role("button", name="I'd like to speak")).to_be_visible()
            assert phone.evaluate("window.__stayed === true")
        _inside_phone(ana.get_by_role("button", name="Too slow"))
        _inside_phone(ana.get_by_role("button", name="Applause"))
        _raise_hands_and_react(ana, ben, console, screen, still, shots)
        console.locator("[data-hand-queue] li").nth(0).get_by_role("button", name="Has spoken").click()
        expect(ben.locator(".hand-place")).to_have_text(_place(2, 1))  # moved up, no reload
        expect(ana.get_by_role("button", name="I'd like to speak")).to_be_visible()
        expect(console.locator("[data-hand-queue] li")).to_have_count(1)
        assert ben.evaluate("window.__stayed === true") and ana.evaluate("window.__stayed === true")
        console.get_by_role("button", name="Switch the pace widget off").click()
        expect(ana.locator("#pulse")).to_be_hidden()
        expect(screen.locator("[data-pulse-box]")).to_be_hidden()
        assert ana.evaluate("window.__stayed === true")
    assert not problems, problems


def _french_session_with_hands(setup, hands: int) -> None:
    from support import sqlite_url

    from live.pulse import service
    from live.sessions import service as sessions
    from live.store import Store

    store = Store(sqlite_url(setup.database))
    try:
        with store.write() as db:
            s = sessions.get_session(db, setup.session_id)
            s.locale = "fr"
            service.switch(db, s, True)
            for n in range(hands):
                service.raise_hand(db, s, sessions.join(db, s, f"phone-{n}"), f"Personne {n}")
            service.mark_pace(db, s, sessions.join(db, s, "phone-0"), "slow")
    finally:
        store.dispose()


def test_french_pulse_fits_the_projector_and_the_phone(tmp_path):
    setup = prepare(tmp_path / "palabre.db")
    _french_session_with_hands(setup, 12)
    shots = Path(os.environ.get("PALABRE_SCREENSHOTS") or tmp_path)
    with server(setup.database) as srv, chromium() as browser:
        for size in (PROJECTOR, {"width": 1280, "height": 720}):
            screen = browser.new_context(viewport=size, locale="fr-FR").new_page()
            screen.goto(f"{srv.url}/screen/{setup.screen}")
            expect(screen.locator("[data-pulse-hands]")).to_contain_text("12 mains levées")
            line = screen.locator("[data-pulse-box]").bounding_box()
            stage = screen.locator("#stage").bounding_box()
            assert line and stage and line["x"] >= 0 and line["x"] + line["width"] <= size["width"], line
            assert line["y"] + line["height"] <= stage["y"] + 1, (line, stage)  # above the slide
            screen.screenshot(path=str(shots / f"screen-pulse-fr-{size['width']}.png"))
        phone = _phone(browser, f"{srv.url}/j/{setup.code}")
        expect(phone.get_by_role("button", name="Je voudrais parler")).to_be_visible()
        for name in ("Trop lent", "Applaudir", "Je voudrais parler"):
            _inside_phone(phone.get_by_role("button", name=name))
        phone.locator("#pulse").scroll_into_view_if_needed()
        phone.screenshot(path=str(shots / "phone-pulse-fr.png"))
