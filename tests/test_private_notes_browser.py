"""Private until revealed, in real Chromium: a phone (360x640) on a word cloud says that only it
sees its words, and the note goes at the reveal; the moderator page (1920x1080) marks a private
wall and the unrevealed cloud, and drops both badges at their reveal. Screenshots in the test's
folder (or PALABRE_SCREENSHOTS), looked at when written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support import chromium, connect, goto_live, new_cid, playwright_or_skip, server, workshop

from live.boards import service as boards
from live.sessions import service as sessions
from live.wordclouds import service as clouds

expect = playwright_or_skip().expect
pytestmark = [pytest.mark.browser, pytest.mark.server]
PHONE = {"width": 360, "height": 640}
PROJECTOR = {"width": 1920, "height": 1080}


def _seed(database: Path) -> dict:
    with workshop(database) as (db, s):
        wall = boards.add_board(db, s, "ideas", "Comment imaginer un numérique plus sobre ?",
                                {"columns": ["Idées"], "premoderation": False, "private": True})
        cloud = clouds.add_wordcloud(db, s, "En un mot, la sobriété ?", {})
        sessions.open_activity(db, s, wall, "facilitator")
        sessions.show(db, s, cloud, "facilitator")
        sessions.open_activity(db, s, cloud, "facilitator")
        info = {"wall": wall.id, "cloud": cloud.id, "code": s.join_code, "facilitator": s.facilitator_token,
                "moderator": s.moderator_token}
    return info


def _reveal(url: str, info: dict, activity: int) -> None:
    facilitator = connect(url, {"token": info["facilitator"], "lang": "fr"})
    try:
        ack = facilitator.call("command", {"cid": new_cid(), "action": "reveal", "activity": activity},
                               timeout=15)
        assert ack.get("ok"), ack
    finally:
        facilitator.disconnect()


def test_the_cloud_phone_and_the_moderator_page_say_private_until_the_reveal(tmp_path):
    database = tmp_path / "palabre.db"
    info = _seed(database)
    shots = Path(os.environ.get("PALABRE_SCREENSHOTS") or tmp_path)
    problems: list[str] = []
    with server(database) as srv, chromium() as browser:
        phone = browser.new_context(viewport=PHONE, locale="fr-FR").new_page()
        moderator = browser.new_context(viewport=PROJECTOR, locale="en-GB").new_page()
        for page in (phone, moderator):
            page.on("pageerror", lambda exc: problems.append(str(exc)))
        goto_live(phone, f"{srv.url}/j/{info['code']}")
        note = phone.locator("#word-private")
        expect(note).to_contain_text("Vos mots ne sont visibles que par vous")
        assert note.bounding_box()["y"] < PHONE["height"]  # seen before typing, without scrolling
        phone.fill("#word-text", "frugalité")
        phone.click("#word-form button[type=submit]")
        expect(phone.locator("#word-mine")).to_contain_text("frugalité")
        expect(note).to_be_visible()  # still there after the phone redrew its cloud
        phone.screenshot(path=str(shots / "private-cloud-phone-360x640.png"))

        goto_live(moderator, f"{srv.url}/m/{info['moderator']}")
        wall_badge = moderator.locator(f"#board-{info['wall']} .mod-private")
        cloud_badge = moderator.locator(f"#wc-{info['cloud']} .badge-private")
        expect(wall_badge).to_be_visible()
        expect(wall_badge).to_have_text("Private until revealed")
        expect(cloud_badge).to_have_text("Private until revealed")
        moderator.screenshot(path=str(shots / "private-moderator-1920x1080.png"))

        _reveal(srv.url, info, info["cloud"])
        expect(note).to_have_count(0, timeout=15000)
        expect(cloud_badge).to_have_count(0, timeout=15000)
        expect(wall_badge).to_be_visible()
        _reveal(srv.url, info, info["wall"])
        expect(wall_badge).to_be_hidden(timeout=15000)
        phone.screenshot(path=str(shots / "private-cloud-phone-revealed-360x640.png"))
    assert not problems, problems
