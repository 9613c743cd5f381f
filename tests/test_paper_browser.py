"""Paper and phone on the projector (Chromium, 1920x1080): every countable poll at its longest,
with paper counts, still fits; a count a moderator adds shows at once as "N phone + M paper"."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support import chromium, connect, goto_live, new_cid, server, sqlite_url, wait_until
from test_screen_fit import PROBLEMS, _pages_fit, _show, seed

COUNTABLE = ("single", "single-6x40", "multiple", "scale")


def _with_paper(database: Path) -> dict:
    """The screen-fit session (every kind at its longest, answered), plus paper counts of four
    digits on every option of its countable polls."""
    from live.polls import service as polls
    from live.sessions import capabilities
    from live.sessions import service as sessions
    from live.store import Store

    info = seed(database)
    store = Store(sqlite_url(database))
    try:
        with store.write() as db:
            s = sessions.session_by_code(db, info["code"])
            info["moderator"] = capabilities.issue(db, s, "moderator")  # a fresh moderator link
            for a in info["activities"]:
                if a["name"] in COUNTABLE:
                    activity = sessions.get_activity(db, s, a["id"])
                    for target in a["options"] or range(1, 11):
                        polls.add_paper(db, s, activity, target, 1234, "facilitator")
    finally:
        store.dispose()
    return info


@pytest.fixture(scope="module")
def browser():
    with chromium() as the_browser:
        yield the_browser


def test_paper_counts_show_on_the_projector_and_never_cut(browser, tmp_path):
    database = tmp_path / "palabre.db"
    info = _with_paper(database)
    shots = os.environ.get("PALABRE_SCREENSHOTS")
    with server(database) as srv:
        facilitator = connect(srv.url, {"token": info["facilitator"], "lang": "en"})
        moderator = connect(srv.url, {"token": info["moderator"], "lang": "en"})
        context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="en-GB")
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            goto_live(page, f"{srv.url}/screen/{info['screen']}")
            for a in info["activities"]:
                if a["name"] not in COUNTABLE:
                    continue
                _show(page, facilitator, a["id"])
                assert "+ 1234 paper" in page.locator("#stage .bar-value").first.inner_text()
                _pages_fit(page, f"{a['name']} with paper")
            short = next(a for a in info["activities"] if a["name"] == "single-6x40")
            _show(page, facilitator, short["id"])
            ack = moderator.call("paper", {"cid": new_cid(), "activity": short["id"],
                                           "option": short["options"][1], "count": 12}, timeout=15)
            assert ack.get("ok") and ack["total"] == 1246, ack
            second = page.locator("#stage .bar-value").nth(1)
            assert wait_until(lambda: "+ 1246 paper" in second.inner_text(), 15,
                              sleep=page.wait_for_timeout), second.inner_text()
            assert page.evaluate(PROBLEMS) == []
            if shots:
                page.screenshot(path=str(Path(shots) / "paper-1920x1080.png"))
            ranking = next(a for a in info["activities"] if a["name"] == "ranking")
            refused = moderator.call("paper", {"cid": new_cid(), "activity": ranking["id"],
                                               "option": ranking["options"][0], "count": 3}, timeout=15)
            assert refused["error"]["code"] == "paper_not_countable"
        finally:
            context.close()
            facilitator.disconnect()
            moderator.disconnect()
    assert errors == []


def test_a_phone_sees_phone_and_paper_apart_as_the_facilitator_enters_and_corrects(browser, tmp_path):
    """The console's paper page (a plain form) adds 12 for the second option, then corrects by
    -2: a phone (360x640) showing the revealed results gets each total with its split at once,
    and the page's log says who entered what and when."""
    from support import open_poll, playwright_or_skip, prepare

    expect = playwright_or_skip().expect
    setup = prepare(tmp_path / "palabre.db")
    open_poll(setup, reveal=True)
    shots = Path(os.environ.get("PALABRE_SCREENSHOTS") or tmp_path)
    errors: list[str] = []
    with server(setup.database) as srv:
        phone = browser.new_context(viewport={"width": 360, "height": 640}, locale="en-GB",
                                    is_mobile=True, has_touch=True).new_page()
        console = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB").new_page()
        for page in (phone, console):
            page.on("pageerror", lambda exc: errors.append(str(exc)))
        goto_live(phone, f"{srv.url}/j/{setup.code}")
        console.goto(f"{srv.url}/f/{setup.facilitator}/paper")
        second = phone.locator(".bar-value").nth(1)
        for count, shown in (("12", "12 · 100% (0 phone + 12 paper)"),
                             ("-2", "10 · 100% (0 phone + 10 paper)")):
            console.select_option(f"#p{setup.activity} select[name=option]", str(setup.options[1]))
            console.fill(f"#p{setup.activity} input[name=count]", count)
            console.get_by_role("button", name="Add the paper count").click()
            expect(second).to_have_text(shown, timeout=15000)  # (phones: revealed counts every 2 s)
        log = console.locator(f"#p{setup.activity} .paper-log tbody tr")
        expect(log).to_have_count(2)
        expect(log.nth(1)).to_contain_text("facilitator")
        expect(log.nth(1)).to_contain_text("-2")
        second.scroll_into_view_if_needed()
        phone.screenshot(path=str(shots / "paper-phone-360x640.png"))
        console.screenshot(path=str(shots / "paper-console-1280x900.png"), full_page=True)
        phone.context.close()
        console.context.close()
    assert errors == []
