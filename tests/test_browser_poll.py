"""A whole poll in real Chromium: a phone joins by code and votes, the facilitator drives, the
screen follows without reload and shows the new count once results are revealed."""

from __future__ import annotations

import re

import pytest
from support import (
    chromium,
    open_poll,
    playwright_or_skip,
    prepare,
    query,
    server,
    sqlite_url,
    stored_votes,
)

expect = playwright_or_skip().expect
pytestmark = [pytest.mark.browser, pytest.mark.server]
PHONE = {"width": 360, "height": 640}
PROJECTOR = {"width": 1920, "height": 1080}


def _watch(page, problems):
    page.on("pageerror", lambda exc: problems.append(f"{page.url}: {exc}"))
    page.on("console", lambda msg: problems.append(f"{page.url}: {msg.text}")
            if msg.type == "error" else None)


def test_phone_votes_and_screen_shows_count_after_reveal(tmp_path):
    setup = prepare(tmp_path / "palabre.db")
    problems: list[str] = []
    with server(setup.database) as srv, chromium() as browser:
        screen = browser.new_context(viewport=PROJECTOR, locale="en-GB").new_page()
        console = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB").new_page()
        phone = browser.new_context(viewport=PHONE, locale="en-GB", has_touch=True,
                                    is_mobile=True).new_page()
        for page in (screen, console, phone):
            _watch(page, problems)

        screen.goto(f"{srv.url}/screen/{setup.screen}")
        expect(screen.locator(".code").first).to_have_text(setup.code)  # the join banner
        console.goto(f"{srv.url}/f/{setup.facilitator}")

        # The phone types the code shown on the screen (in lower case, as people do).
        phone.goto(f"{srv.url}/")
        phone.fill("#code", setup.code.lower())
        phone.click("button[type=submit]")
        expect(phone).to_have_url(re.compile(f"/j/{setup.code}$"))

        console.click(f"[data-key='show-{setup.activity}']")
        console.click(f"[data-key='open-{setup.activity}']")
        # The screen and the phone follow without a reload.
        expect(screen.locator("#prompt")).to_have_text("Which one?")
        expect(phone.locator("#prompt")).to_have_text("Which one?")

        phone.get_by_role("radio", name="Agree", exact=True).check()
        phone.get_by_role("button", name="Send my answer").click()
        expect(phone.locator("#stage")).to_contain_text("saved")
        assert stored_votes(setup.database, setup.activity)[0] == 1

        expect(screen.locator(".foot-count")).to_contain_text("1 answer")
        expect(screen.locator(".bars")).to_have_count(0)  # results still hidden
        console.click(f"[data-key='reveal-{setup.activity}']")
        bar = screen.locator(".bar", has_text=re.compile("^Agree"))
        expect(bar.locator(".bar-value")).to_contain_text("1")
        expect(bar.locator(".bar-value")).to_contain_text("100")
        expect(phone.locator(".bar", has_text=re.compile("^Agree"))).to_be_visible()
    assert problems == []


def test_a_phone_on_a_poll_follows_an_idea_wall_shown_later_with_its_strings(tmp_path):
    """The participant page of a poll carries no idea-wall code, but the walls' strings; when the
    facilitator shows and opens a wall, the phone loads the code and draws the wall, without
    navigating nor fetching its page again."""
    from live.boards import service as boards
    from live.sessions import service as sessions
    from live.store import Store

    setup = prepare(tmp_path / "palabre.db")
    open_poll(setup)
    store = Store(sqlite_url(setup.database))
    try:
        with store.write() as db:
            wall = boards.add_board(db, sessions.get_session(db, setup.session_id), "ideas",
                                    "How to be more frugal?", {"columns": ["Facts", "Ideas"]}).id
    finally:
        store.dispose()
    problems: list[str] = []
    with server(setup.database) as srv, chromium() as browser:
        console = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB").new_page()
        phone = browser.new_context(viewport=PHONE, locale="en-GB", has_touch=True,
                                    is_mobile=True).new_page()
        for page in (console, phone):
            _watch(page, problems)
        console.goto(f"{srv.url}/f/{setup.facilitator}")
        phone.goto(f"{srv.url}/j/{setup.code}")
        expect(phone.locator("#prompt")).to_have_text("Which one?")
        assert phone.locator("#i18n-boards").count() == 1
        again: list[str] = []
        own = f"{srv.url}/j/{setup.code}"
        phone.on("request", lambda r: r.url.split("?")[0] == own and again.append(r.url))
        phone.evaluate("window.__stay = 1")
        console.click(f"[data-key='show-{wall}']")
        console.click(f"[data-key='open-{wall}']")
        expect(phone.locator("label[for=board-text]")).to_have_text("Your idea")
        expect(phone.locator("#board-column option")).to_have_text(["Facts", "Ideas"])
        phone.locator("#board-text").fill("Repair before replacing")
        phone.locator("#board-post button").click()
        expect(phone.locator("#board-status")).to_have_class(re.compile("is-ok"))
        assert phone.evaluate("window.__stay") == 1, "the phone navigated"
        assert again == [], "the phone fetched its page again"
    assert problems == []


def test_console_buttons_ask_before_reset_and_the_answer_is_respected(tmp_path):
    """Reset is a button of the agenda item's one form; its data-confirm asks first: dismissed,
    nothing happens; accepted, the poll is set back to not open."""
    setup = prepare(tmp_path / "palabre.db")
    open_poll(setup)
    answers: list[bool] = [False, True]
    asked: list[str] = []
    with server(setup.database) as srv, chromium() as browser:
        console = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB").new_page()
        console.on("dialog", lambda d: (asked.append(d.message),
                                        d.accept() if answers.pop(0) else d.dismiss()))
        console.goto(f"{srv.url}/f/{setup.facilitator}")
        state = "select state, revealed from activities where id = ?"
        reset = console.locator(f"[data-key='reset-{setup.activity}']")
        reset.click()  # dismissed
        # Commands run in order: once the next one is done, a reset sent before would be too.
        console.click(f"[data-key='reveal-{setup.activity}']")
        expect(console.locator(f"[data-key='hide-{setup.activity}']")).to_be_visible()
        assert query(setup.database, state, (setup.activity,)) == [("open", 1)]
        reset.click()  # accepted
        expect(console.locator(f"[data-key='open-{setup.activity}']")).to_have_text("Open voting")
        assert query(setup.database, state, (setup.activity,)) == [("draft", 0)]
    assert len(asked) == 2 and "Delete every answer" in asked[0]


RENDERS = """() => { window.renders = 0; new MutationObserver(() => { window.renders += 1; })
  .observe(document.getElementById('session-state'), { childList: true }); }"""


def test_a_push_that_changes_nothing_of_an_item_leaves_its_buttons_in_place(tmp_path):
    """The console redraws its agenda from every snapshot and state push. An item the push does
    not change keeps its very buttons: a tap under way when a push comes (pressed on a button,
    released on its replacement: no click at all) is not lost. Here the console's Wi-Fi drops
    and comes back, and the snapshot of the reconnection redraws the same agenda."""
    setup = prepare(tmp_path / "palabre.db")
    open_poll(setup)
    with server(setup.database) as srv, chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
        console = context.new_page()
        console.goto(f"{srv.url}/f/{setup.facilitator}")
        reset = f"[data-key='reset-{setup.activity}']"
        expect(console.locator(reset)).to_be_visible()
        console.evaluate(f"() => {{ window.kept = document.querySelector(\"{reset}\"); }}")
        console.evaluate(RENDERS)
        context.set_offline(True)
        expect(console.locator("#conn")).to_be_visible()
        context.set_offline(False)
        expect(console.locator("#conn")).to_be_hidden(timeout=15000)
        console.wait_for_function("window.renders > 0")  # the reconnection's snapshot, drawn
        assert console.evaluate("window.kept.isConnected"), "the reset button was drawn anew"


def test_the_console_builds_its_add_forms_when_opened_and_they_post(tmp_path):
    """The forms to add an activity are closed <details>: their fields are not on the page
    until opened (a lighter console); opened, the poll form shows its type's fields and adds a
    poll. Without JavaScript the fields are there."""
    setup = prepare(tmp_path / "palabre.db")
    problems: list[str] = []
    with server(setup.database) as srv, chromium() as browser:
        console = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB").new_page()
        _watch(console, problems)
        console.goto(f"{srv.url}/f/{setup.facilitator}")
        assert console.locator("#f-prompt, #board-prompt, #wc-prompt").count() == 0
        console.get_by_role("heading", name="Add a poll").click()
        console.locator("#f-prompt").fill("Which day suits you?")
        console.locator("#f-type").select_option("scale")
        expect(console.locator("#f-options")).to_be_hidden()
        console.locator("#f-type").select_option("single")
        console.locator("#f-options").fill("Monday\nTuesday")
        console.locator(".poll-form button[type=submit]").click()
        expect(console.locator("#agenda")).to_contain_text("Which day suits you?")
        console.get_by_role("heading", name="Add a word cloud").click()
        expect(console.locator("#wc-prompt")).to_be_visible()
        plain = browser.new_context(java_script_enabled=False).new_page()
        plain.goto(f"{srv.url}/f/{setup.facilitator}")
        assert plain.locator("#f-prompt, #board-prompt, #wc-prompt").count() == 3
        plain.context.close()
    assert problems == []
