"""A tap that lands while a push redraws the page is not lost, in real Chromium.

A page redraws its lists from pushes: others' ideas arrive on a phone's idea wall, others' words
on the moderator's word-cloud groups, another facilitator's command on the console. Drawn anew,
a button pressed before the push is gone when the finger lifts: the browser fires no click at
all, and the participant's vote or the moderator's "Hide" silently never happens. Here the press
and the release are split around a push; the action must happen, and what the participant was
typing must stay."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import (
    chromium,
    close_all,
    connect,
    goto_live,
    join_cookie,
    join_phones,
    new_cid,
    open_poll,
    playwright_or_skip,
    prepare,
    prepare_wordcloud,
    query,
    send_word,
    server,
    workshop,
)

from live.boards import service
from live.sessions import service as sessions

expect = playwright_or_skip().expect
pytestmark = [pytest.mark.browser, pytest.mark.server]
PHONE, DESK = {"width": 360, "height": 640}, {"width": 1280, "height": 900}
THEIRS, LATER, MINE = "Mutualiser les serveurs", "Réparer plutôt que remplacer", "Éteindre la nuit"


def _seed_wall(database: Path, premoderation: bool = False) -> dict:
    with workshop(database) as (db, s):
        wall = service.add_board(db, s, "ideas", "Comment imaginer un numérique plus sobre ?",
                                 {"columns": ["Idées"], "premoderation": premoderation})
        sessions.show(db, s, wall, "facilitator")
        sessions.open_activity(db, s, wall, "facilitator")
        sessions.reveal(db, s, wall, True, "facilitator")
        theirs = service.post(db, s, wall, sessions.join(db, s, "someone-else"), THEIRS, 0)
        return {"wall": wall.id, "theirs": theirs.id, "code": s.join_code, "moderator": s.moderator_token}


def _post(phone, info: dict, text: str) -> None:
    ack = phone.call("board_post", {"cid": new_cid(), "activity": info["wall"], "text": text, "column": 0},
                     timeout=15)
    assert ack.get("ok"), ack


def _participant(url: str, code: str):
    return connect(url, {"code": code, "lang": "en"}, cookie=join_cookie(url, code))


def _press(page, selector: str) -> None:
    """The finger down on `selector`, not lifted yet; the node is kept as window.pressed."""
    button = page.locator(selector)
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    page.evaluate(f"() => {{ window.pressed = document.querySelector(\"{selector}\"); }}")
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()


def test_a_vote_pressed_while_an_idea_arrives_is_counted_and_an_edit_keeps_its_text(tmp_path):
    database = tmp_path / "palabre.db"
    info = _seed_wall(database)
    with server(database) as srv, chromium() as browser:
        phone = browser.new_context(viewport=PHONE, locale="fr-FR").new_page()
        goto_live(phone, f"{srv.url}/j/{info['code']}")
        phone.fill("#board-text", MINE)
        phone.click("form.board-post .submit-bar button")
        expect(phone.locator("#board-mine")).to_contain_text(MINE)
        expect(phone.locator("#board-items")).to_contain_text(THEIRS)
        other = _participant(srv.url, info["code"])
        try:
            # The author rewrites their idea while the room posts: the text stays as typed.
            phone.locator("#board-mine [data-edit]").click()
            edit = phone.locator("#board-mine textarea")
            edit.fill(MINE + " et le week-end")
            _post(other, info, LATER)
            expect(phone.locator("#board-items")).to_contain_text(LATER, timeout=15000)
            expect(edit).to_have_value(MINE + " et le week-end")
            expect(edit).to_be_focused()
            phone.locator("#board-mine [data-cancel]").click()

            # A vote pressed before another idea arrives, released after it was drawn.
            _press(phone, f"[data-bkey='vote-{info['theirs']}']")
            _post(other, info, "Louer, pas acheter")
            expect(phone.locator("#board-items")).to_contain_text("Louer, pas acheter", timeout=15000)
            assert phone.evaluate("window.pressed.isConnected"), "the vote button was drawn anew"
            phone.mouse.up()
            expect(phone.locator("#board-status")).to_contain_text("Votre vote est enregistré", timeout=15000)
            assert query(database, "SELECT item_id FROM board_votes") == [(info["theirs"],)]
        finally:
            other.disconnect()


def test_a_hide_pressed_while_a_word_arrives_hides_it(tmp_path):
    setup = prepare_wordcloud(tmp_path / "palabre.db")
    with server(setup.database, RATE_LIMIT_PER_10S=100000) as srv, chromium() as browser:
        phones = join_phones(srv.url, setup, 2)
        try:
            send_word(phones[0], setup, "sobriété")
            send_word(phones[0], setup, "local")  # two groups: the merge form (drawn from two on) is there
            moderator = browser.new_context(viewport=DESK, locale="en-GB").new_page()
            goto_live(moderator, f"{srv.url}/m/{setup.moderator}")
            row = moderator.locator(".all-groups .group", has_text="sobriété")
            expect(row).to_be_visible(timeout=20000)
            expect(moderator.locator(".all-groups")).to_contain_text("local", timeout=20000)
            _press(moderator, ".all-groups .group button[aria-label='Hide: sobriété']")
            send_word(phones[1], setup, "partage")  # counted once: drawn below the others
            expect(moderator.locator(".all-groups")).to_contain_text("partage", timeout=20000)
            assert moderator.evaluate("window.pressed.isConnected"), "the hide button was drawn anew"
            moderator.mouse.up()
            hidden = moderator.locator(".all-groups .group.is-hidden")
            expect(hidden).to_contain_text("sobriété", timeout=15000)
        finally:
            close_all(phones)


def test_an_approve_pressed_while_ideas_arrive_approves(tmp_path):
    """Pre-moderation: the moderator presses Approve on the first idea of the queue, its edit
    field open, while another idea comes in (the board is drawn again below the finger); the
    first one is approved, and its edit field is still open."""
    database = tmp_path / "palabre.db"
    info = _seed_wall(database, premoderation=True)
    with server(database) as srv, chromium() as browser:
        moderator = browser.new_context(viewport=DESK, locale="en-GB").new_page()
        goto_live(moderator, f"{srv.url}/m/{info['moderator']}")
        other = _participant(srv.url, info["code"])
        try:
            _post(other, info, LATER)  # drawn by the script from now on
            expect(moderator.locator("#boards")).to_contain_text(LATER, timeout=15000)
            moderator.locator(f"#item-{info['theirs']} .mod-edit summary").click()
            expect(moderator.locator(f"#item-{info['theirs']} .mod-edit textarea")).to_be_visible()
            _press(moderator, f"#item-{info['theirs']} button[value^='approve:']")
            _post(other, info, "Louer, pas acheter")
            expect(moderator.locator("#boards")).to_contain_text("Louer, pas acheter", timeout=15000)
            assert moderator.evaluate("window.pressed.isConnected"), "the approve button was drawn anew"
            moderator.mouse.up()
            expect(moderator.locator(f"#item-{info['theirs']} .badge-approved")).to_be_visible(timeout=15000)
            status = query(database, "SELECT status FROM board_items WHERE id = ?", (info["theirs"],))
            assert status == [("approved",)]
            expect(moderator.locator(f"#item-{info['theirs']} .mod-edit textarea")).to_be_visible()
        finally:
            other.disconnect()


def test_the_banner_pressed_while_another_facilitator_acts_is_shown(tmp_path):
    """Two facilitators: one presses "Join banner" on the console while the other reveals the
    results (a push that draws the console again); the banner goes on screen."""
    setup = prepare(tmp_path / "palabre.db")
    open_poll(setup)
    with server(setup.database) as srv, chromium() as browser:
        console = browser.new_context(viewport=DESK, locale="en-GB").new_page()
        goto_live(console, f"{srv.url}/f/{setup.facilitator}")
        other = connect(srv.url, {"token": setup.facilitator, "lang": "en"})
        try:
            _press(console, "[data-key='banner-']")
            ack = other.call("command", {"cid": new_cid(), "action": "reveal", "activity": setup.activity},
                             timeout=15)
            assert ack.get("ok"), ack
            expect(console.locator(f"[data-key='hide-{setup.activity}']")).to_be_visible(timeout=15000)
            assert console.evaluate("window.pressed.isConnected"), "the banner button was drawn anew"
            console.mouse.up()
            expect(console.locator("[data-key='banner-']")).to_have_count(0, timeout=15000)
            current = query(setup.database, "SELECT current_activity_id FROM live_sessions WHERE id = ?",
                            (setup.session_id,))
            assert current == [(None,)]
        finally:
            other.disconnect()
