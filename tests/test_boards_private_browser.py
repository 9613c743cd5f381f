"""Private first, then reveal, in real Chromium: a phone (360x640) says whose ideas it shows and
keeps someone else's idea from the page; the console's agenda marks the wall "private"; the
projector (1920x1080) shows only the count; once revealed, every idea appears and dot voting
works. Screenshots in the test's folder (or PALABRE_SCREENSHOTS), looked at when written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support import chromium, connect, goto_live, new_cid, playwright_or_skip, server, workshop

from live.boards import service
from live.sessions import service as sessions

expect = playwright_or_skip().expect
pytestmark = [pytest.mark.browser, pytest.mark.server]
PHONE = {"width": 360, "height": 640}
PROJECTOR = {"width": 1920, "height": 1080}
MINE, THEIRS = "Éteindre les écrans la nuit", "Mutualiser les serveurs de la région"


def _seed(database: Path) -> dict:
    with workshop(database) as (db, s):
        wall = service.add_board(db, s, "ideas", "Comment imaginer un numérique plus sobre ?",
                                 {"columns": ["Idées"], "premoderation": False, "private": True})
        sessions.show(db, s, wall, "facilitator")
        sessions.open_activity(db, s, wall, "facilitator")
        service.post(db, s, wall, sessions.join(db, s, "someone-else"), THEIRS, 0)
        info = {"wall": wall.id, "code": s.join_code, "facilitator": s.facilitator_token,
                "screen": s.screen_token}
    return info


def _watch(page, problems):
    page.on("pageerror", lambda exc: problems.append(f"{page.url}: {exc}"))


def test_a_private_wall_on_the_phone_the_console_and_the_projector(tmp_path):
    database = tmp_path / "palabre.db"
    info = _seed(database)
    shots = Path(os.environ.get("PALABRE_SCREENSHOTS") or tmp_path)
    problems: list[str] = []
    with server(database) as srv, chromium() as browser:
        phone = browser.new_context(viewport=PHONE, locale="fr-FR").new_page()
        console = browser.new_context(viewport=PROJECTOR, locale="fr-FR").new_page()
        screen = browser.new_context(viewport=PROJECTOR, locale="fr-FR").new_page()
        for page in (phone, console, screen):
            _watch(page, problems)
        goto_live(phone, f"{srv.url}/j/{info['code']}")
        note = phone.locator("#board-private")
        expect(note).to_contain_text("Privé")
        expect(note).to_contain_text("Vos idées ne sont visibles que par vous")
        assert note.bounding_box()["y"] < PHONE["height"]  # seen before typing, without scrolling
        phone.fill("#board-text", MINE)
        phone.click("form.board-post .submit-bar button")
        expect(phone.locator("#board-mine")).to_contain_text(MINE)
        phone.screenshot(path=str(shots / "private-phone-360x640.png"))
        assert THEIRS not in phone.content()

        goto_live(console, f"{srv.url}/f/{info['facilitator']}")
        badge = console.locator(f"#a{info['wall']} .badge-private")
        expect(badge).to_have_text("Privé jusqu’à la révélation")
        console.screenshot(path=str(shots / "private-console-1920x1080.png"))
        goto_live(screen, f"{srv.url}/screen/{info['screen']}")
        expect(screen.locator("#stage")).to_contain_text("2 idées")
        assert THEIRS not in screen.content() and MINE not in screen.content()
        screen.screenshot(path=str(shots / "private-screen-1920x1080.png"))

        facilitator = connect(srv.url, {"token": info["facilitator"], "lang": "fr"})
        try:
            ack = facilitator.call("command", {"cid": new_cid(), "action": "reveal",
                                               "activity": info["wall"]}, timeout=15)
            assert ack.get("ok"), ack
        finally:
            facilitator.disconnect()
        expect(phone.locator("#board-items")).to_contain_text(THEIRS, timeout=15000)
        expect(note).to_be_empty()
        expect(badge).to_have_count(0, timeout=15000)
        expect(screen.locator("#stage")).to_contain_text(THEIRS, timeout=15000)
        vote = phone.locator("#board-items .idea", has_text=THEIRS).locator("form.board-vote button")
        vote.click()
        theirs = phone.locator("#board-items .idea", has_text=THEIRS)
        expect(theirs).to_contain_text("votre vote", timeout=15000)
        phone.screenshot(path=str(shots / "private-phone-revealed-360x640.png"))
    assert problems == []
