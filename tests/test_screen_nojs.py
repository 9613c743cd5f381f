"""The projector never cuts, without JavaScript either: a projector's browser with scripts off
gets the screen rendered by the server, which reloads itself. Content too long for one screen
(12 options of 120 characters, an idea wall of 16 ideas of 280 characters, a Q&A) is cut by the
server into pages: `?page=N`, a "Page n/N" pill, and the page's refresh goes to the next page.

In real Chromium with JavaScript disabled, at 1920x1080, 1280x720 and 1024x768, every page of
every kind (the content of tests/test_screen_fit.py) is checked with the same bounding boxes:
nothing outside the viewport, under the footer or clipped; no text under 2.5 % of the height;
and every row, option and card the scripted screen shows is on one of the pages.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from pathlib import Path

import pytest
from support import chromium, connect, goto_live, new_cid, server
from test_screen_fit import ITEMS, PROBLEMS, SIZES, cjk_spotlight, seed, words

pytestmark = [pytest.mark.browser, pytest.mark.server]
REFRESH = "() => (document.querySelector('meta[http-equiv=refresh]') || {}).content || null"


def _norm(texts) -> set:
    """Texts compared without their white space (the script's markup has none between a card's
    text and its votes, the server's has a line break)."""
    return {re.sub(r"\s+", "", t) for t in texts}


@pytest.fixture(scope="module")
def browser():
    """One Chromium for the module (Playwright's sync API allows one at a time)."""
    with chromium() as the_browser:
        yield the_browser


@contextmanager
def _served(database: Path, locale: str, browser):
    info = seed(database, locale)
    with server(database) as srv:
        facilitator = connect(srv.url, {"token": info["facilitator"], "lang": locale})
        try:
            yield {**info, "url": srv.url, "facilitator": facilitator, "browser": browser}
        finally:
            facilitator.disconnect()


@pytest.fixture(scope="module")
def served(tmp_path_factory, browser):
    with _served(tmp_path_factory.mktemp("nojs") / "palabre.db", "en", browser) as info:
        yield info


def _show(served, activity: int) -> None:
    ack = served["facilitator"].call("command", {"cid": new_cid(), "action": "show", "activity": activity},
                                     timeout=15)
    assert ack.get("ok"), ack


def _everything(served) -> dict:
    """Every row, option and card of each slide, as the scripted screen shows them (all pages)."""
    page = served["browser"].new_page(viewport={"width": 1920, "height": 1080})
    every = {}
    try:
        goto_live(page, f"{served['url']}/screen/{served['screen']}")
        for a in served["activities"]:
            _show(served, a["id"])
            page.locator(f".slide[data-activity='{a['id']}'] .slide-body[data-fit]").wait_for(timeout=15000)
            every[a["name"]] = _norm(page.evaluate(ITEMS, False))
    finally:
        page.close()
    return every


def _pages(page, url: str, name: str, size) -> tuple[int, set]:
    """Open every page of the slide, check it; the number of pages and the items seen."""
    page.goto(url)
    pill = page.locator(".pager")
    count = int(re.fullmatch(r"Page 1/(\d+)", pill.inner_text()).group(1)) if pill.count() else 1
    seen: set = set()
    for n in range(1, count + 1):
        if n > 1:
            page.goto(f"{url}?page={n}")
            assert pill.inner_text() == f"Page {n}/{count}", (name, size, n)
        shots = os.environ.get("PALABRE_SCREENSHOTS")
        if shots:
            page.screenshot(path=str(Path(shots) / f"nojs-{name}-{size[0]}x{size[1]}-{n}.png"))
        problems = page.evaluate(PROBLEMS)
        assert problems == [], f"{name} {size}, page {n}/{count}: {problems}"
        refresh = page.evaluate(REFRESH)
        following = n % count + 1
        assert refresh and (count == 1 or refresh.endswith(f"page={following}")), (name, n, refresh)
        seen |= _norm(page.evaluate(ITEMS, True))
    return count, seen


def _every_kind_fits(served, size, locale: str) -> None:
    every = _everything(served)
    context = served["browser"].new_context(viewport={"width": size[0], "height": size[1]},
                                            java_script_enabled=False, locale=locale)
    page = context.new_page()
    url = f"{served['url']}/screen/{served['screen']}"
    counts = {}
    try:
        for a in served["activities"]:
            _show(served, a["id"])
            counts[a["name"]], seen = _pages(page, url, a["name"], size)
            assert seen == every[a["name"]], \
                f"{a['name']} {size}: never shown without JavaScript: {every[a['name']] - seen}"
    finally:
        context.close()
    assert counts["single"] > 1 and counts["single-6x40"] == 1, counts


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_every_kind_fits_without_javascript(served, size):
    _every_kind_fits(served, size, "en-GB")


def test_a_french_session_fits_a_4_3_projector_without_javascript(tmp_path, browser):
    """French labels around the content (the screen speaks the session's language)."""
    with _served(tmp_path / "palabre.db", "fr", browser) as served_fr:
        _every_kind_fits(served_fr, (1024, 768), "fr-FR")


def _seed_wide(database: Path) -> dict:
    """Texts wider than the estimate's Latin average: capitals, CJK, emoji, no spaces (under the
    longest question in words); and a 300-character question in CJK above a 280-character CJK
    idea in the spotlight (the question's type goes down to the floor, docs/screen.md)."""
    from support import sqlite_url

    from live.boards import service as boards
    from live.polls import service as polls
    from live.sessions import service as sessions
    from live.store import Store, upgrade

    upgrade(sqlite_url(database))
    store = Store(sqlite_url(database))
    samples = ["W" * 120, "漢字仮名交じり文" * 15, "🌍🔧♻️" * 30, "MÉMOIRE PARTAGÉE " * 7, "m" * 120,
               "ก" * 120]
    try:
        with store.write() as db:
            s = sessions.create_session(db, sessions.create_event(db, "W" * 200), "workshop", "M" * 200)
            options = [f"{n}{samples[n % 6]}"[:120] for n in range(12)]
            poll = polls.add_poll(db, s, "single", words(300, 6), options, {})
            settings = {"columns": ["W" * 40, "漢" * 40, "M" * 40], "premoderation": False}
            wall = boards.add_board(db, s, "ideas", words(300, 5), settings)
            sessions.apply_command(db, s, "open", wall.id)
            for n in range(9):
                person = sessions.join(db, s, f"wide-{n}")
                boards.post(db, s, wall, person, f"{n}{samples[n % 6] * 3}"[:280], n % 3)
            sessions.apply_command(db, s, "reveal", wall.id)
            spot = cjk_spotlight(db, s)
            return {"screen": s.screen_token, "facilitator": s.facilitator_token,
                    "activities": [{"name": "wide-options", "id": poll.id},
                                   {"name": "wide-wall", "id": wall.id},
                                   {"name": "cjk-spotlight", "id": spot.id}]}
    finally:
        store.dispose()


def test_wide_scripts_fit_without_javascript(tmp_path, browser):
    """The estimate errs on the safe side for wide glyphs too (one size: the narrowest, 4:3)."""
    database = tmp_path / "palabre.db"
    info = _seed_wide(database)
    with server(database) as srv:
        facilitator = connect(srv.url, {"token": info["facilitator"], "lang": "en"})
        context = browser.new_context(viewport={"width": 1024, "height": 768}, java_script_enabled=False)
        try:
            page = context.new_page()
            for a in info["activities"]:
                ack = facilitator.call("command", {"cid": new_cid(), "action": "show", "activity": a["id"]},
                                       timeout=15)
                assert ack.get("ok"), ack
                count, seen = _pages(page, f"{srv.url}/screen/{info['screen']}", a["name"], (1024, 768))
                wanted = {"wide-options": 12, "wide-wall": 9, "cjk-spotlight": 1}[a["name"]]
                assert len(seen) == wanted and (count == 1 or a["name"] != "cjk-spotlight"), (a, count, seen)
        finally:
            context.close()
            facilitator.disconnect()


def test_a_page_number_out_of_range_shows_a_real_page(client, store, live):
    """?page= beyond the last, below 1 or not a number: the last or the first page, never an
    empty slide or an error (the server's door, no browser)."""
    from conftest import add_poll, command

    poll = add_poll(store, live["id"], options=[words(120, n) for n in range(12)])
    for action in ("show", "open", "reveal"):
        command(store, live["id"], action, poll)
    url = f"/screen/{live['screen']}"
    pills = {}
    for page in ("", "?page=2", "?page=99", "?page=-3", "?page=x"):
        html = client.get(url + page).get_data(as_text=True)
        pills[page] = re.search(r'class="pager">Page (\d+)/(\d+)<', html).groups()
        assert 'class="bar"' in html or "bar-label" in html, page
    total = pills[""][1]
    assert int(total) > 1
    assert pills[""] == pills["?page=-3"] == pills["?page=x"] == ("1", total)
    assert pills["?page=2"] == ("2", total) and pills["?page=99"] == (total, total)
