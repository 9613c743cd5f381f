"""Idea walls and Q&A in real Chromium: hostile texts render as text; two moderators stay in sync."""

from __future__ import annotations

import time

import pytest
from support import chromium, goto_live, server, sqlite_url

from live import create_app
from live.boards import service
from live.boards.model import Item
from live.sessions import service as sessions

MARKUP = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "\"><svg onload=alert(1)>",
          "javascript:alert(1)", "<a href=\"javascript:alert(1)\">clic</a>", "{{7*7}}",
          "<style>body{display:none}</style>", "</textarea><script>alert(1)</script>",
          "&lt;b&gt;déjà échappé&lt;/b&gt;", "<!-- commentaire -->"]
UNICODE = ["sobrie\u0301te\u0301", "abc\u202edcba", "Z\u0351\u0350\u0358\u0362\u035f\u0360a\u0353l\u0347go",
           "👩‍💻 numérique", "الرقمية المسؤولة", "x" * 280]

pytestmark = [pytest.mark.browser, pytest.mark.server]


@pytest.fixture
def served(tmp_path):
    """A workshop with an idea wall of three columns, served by the real server (eventlet)."""
    database = tmp_path / "palabre.db"
    app = create_app({"SECRET_KEY": "browser-test", "DATABASE_URL": sqlite_url(database),
                      "ASYNC_MODE": "threading"})
    store = app.extensions["palabre.store"]
    with store.write() as db:
        event = sessions.create_event(db, "Human Tech Days 2022 — Chartres", "Chartres", "2022-04-05")
        s = sessions.create_session(db, event, "workshop", "Atelier 1 : un numérique plus sobre")
        wall = service.add_board(db, s, "ideas", "Comment imaginer un numérique plus sobre ?",
                                 {"columns": ["Constats", "Idées", "Actions"]})
        sessions.show(db, s, wall, "facilitator")
        sessions.open_activity(db, s, wall, "facilitator")
        info = {"id": s.id, "wall": wall.id, "moderator": s.moderator_token,
                "screen": s.screen_token, "code": s.join_code}
    store.dispose()
    with server(database) as srv:
        yield {**info, "base": srv.url, "app": app}


def _post_items(info, texts, approve=True):
    store = info["app"].extensions["palabre.store"]
    ids = []
    with store.write() as db:
        s = sessions.get_session(db, info["id"])
        wall = sessions.get_activity(db, s, info["wall"])
        for n, body in enumerate(texts):
            person = sessions.join(db, s, f"device-{len(ids)}-{n}")
            item = service.post(db, s, wall, person, body, n % 3)
            if approve:
                db.flush()
                service.moderate(db, s, wall, "approve", [{"id": item.id, "version": item.version}],
                                 "moderator")
            ids.append(item.id)
    store.dispose()
    return ids


@pytest.fixture
def browser():
    with chromium() as the_browser:
        yield the_browser


def _watch(page):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    return dialogs


def test_hostile_texts_render_as_text_on_the_moderator_console(served, browser, tmp_path):
    texts = [t for t in MARKUP + UNICODE]
    _post_items(served, texts[:5], approve=True)
    _post_items(served, texts[5:], approve=False)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    dialogs = _watch(page)
    goto_live(page, f"{served['base']}/m/{served['moderator']}")
    shown = page.locator(".mod-text").all_inner_texts()
    assert "<script>alert(1)</script>" in shown and "<img src=x onerror=alert(1)>" in shown
    assert "{{7*7}}" in shown and "x" * 280 in shown
    assert dialogs == []
    assert page.locator("img[src=x], svg[onload], #boards a[href^=javascript]").count() == 0
    assert page.locator("body").is_visible()  # the <style> text hid nothing
    assert page.evaluate("getComputedStyle(document.body).display") != "none"
    page.screenshot(path=str(tmp_path / "moderator.png"), full_page=True)


def test_two_moderators_one_approves_the_other_sees_it_and_a_stale_action_is_refused(served, browser):
    ids = _post_items(served, ["Allonger la durée de vie des équipements"], approve=False)
    first = browser.new_page(viewport={"width": 360, "height": 640})
    stale_context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 640})
    second = stale_context.new_page()
    goto_live(first, f"{served['base']}/m/{served['moderator']}")
    second.goto(f"{served['base']}/m/{served['moderator']}")
    first.locator(f"#item-{ids[0]} button[value^='approve:']").click()
    first.wait_for_load_state()
    assert "approved" in first.locator(f"#item-{ids[0]} .badge-approved").get_attribute("class")
    # The second moderator's page (no script, so not refreshed) still offers "reject".
    second.locator(f"#item-{ids[0]} button[value^='reject:']").click()
    second.wait_for_load_state()
    alert = second.locator(".notice-error").inner_text()
    assert f"#{ids[0]}" in alert
    store = served["app"].extensions["palabre.store"]
    with store.read() as db:
        assert db.get(Item, ids[0]).status == "approved"
    store.dispose()
    stale_context.close()


POST = """async ({code, wall, text}) => {
  const {io} = await import("/static/vendor/socket.io.esm.min.js");
  const s = io({auth: {code: code, lang: "fr"}});
  await new Promise((ok) => s.on("connect", ok));
  return await new Promise((ok) => s.emit("board_post", {cid: "c-" + Date.now(), activity: wall,
                                                       text: text, column: 2}, ok));
}"""


def test_a_phone_posts_a_moderator_approves_live_and_the_screen_receives_it(served, browser, tmp_path):
    phone = browser.new_page(viewport={"width": 360, "height": 640})
    goto_live(phone, f"{served['base']}/j/{served['code']}")
    moderator = browser.new_page(viewport={"width": 1280, "height": 800})
    goto_live(moderator, f"{served['base']}/m/{served['moderator']}")
    screen = browser.new_page(viewport={"width": 1920, "height": 1080})
    goto_live(screen, f"{served['base']}/screen/{served['screen']}")
    assert moderator.locator(".mod-item").count() == 0
    ack = phone.evaluate(POST, {"code": served["code"], "wall": served["wall"],
                                "text": "Former les agents et les élus"})
    assert ack["ok"] and ack["status"] == "pending"
    item = moderator.locator(".mod-item").first
    item.wait_for(timeout=3000)  # arrived live, no reload
    assert "Former les agents" in item.inner_text()
    moderator.screenshot(path=str(tmp_path / "moderator-queue.png"), full_page=True)
    started = time.monotonic()
    item.locator("button[value^='approve:']").click()
    card = screen.locator(".card-text", has_text="Former les agents et les élus")
    card.wait_for(timeout=3000)  # the screen redraws its board from the push
    assert time.monotonic() - started < 2.5  # the moderator's action + the push
    screen.screenshot(path=str(tmp_path / "screen.png"))


def test_live_without_reload_phone_sees_an_approved_idea_screen_redraws_moderator_uses_the_socket(
        served, browser, tmp_path):
    """A phone sees someone else's newly approved idea, and the screen its card, with no
    navigation (a marker set on `window` survives); the moderator's approve goes over the socket."""
    problems: list[str] = []
    pages = {}
    frames: list[str] = []
    for name, size, path in (("phone", (360, 640), f"/j/{served['code']}"),
                             ("screen", (1920, 1080), f"/screen/{served['screen']}"),
                             ("moderator", (1280, 800), f"/m/{served['moderator']}")):
        context = browser.new_context(viewport={"width": size[0], "height": size[1]}, locale="fr-FR")
        page = context.new_page()
        page.on("pageerror", lambda exc, n=name: problems.append(f"{n}: {exc}"))
        if name == "moderator":
            page.on("websocket", lambda ws: ws.on("framesent", lambda f: frames.append(str(f))))
        page.goto(served["base"] + path)
        pages[name] = page
    phone, screen, moderator = pages["phone"], pages["screen"], pages["moderator"]
    phone.wait_for_function("document.querySelector('#board')")  # the server's wall (board-phone.js: later)
    for page in pages.values():
        page.evaluate("window.__stay = 1")
    author = browser.new_context().new_page()
    author.goto(f"{served['base']}/j/{served['code']}")
    ack = author.evaluate(POST, {"code": served["code"], "wall": served["wall"],
                                 "text": "Mutualiser les salles serveurs <b>locales</b>"})
    assert ack["ok"] and ack["status"] == "pending"
    item = moderator.locator(f"#item-{ack['item']}")
    item.wait_for(timeout=3000)
    # A negative check needs a window: had the pending idea been pushed to phones, it would
    # have arrived within it. Not synchronisation.
    phone.wait_for_timeout(300)
    assert "Mutualiser" not in phone.locator("#stage").inner_text()  # not before approval
    item.locator("button[value^='approve:']").click()
    text = "Mutualiser les salles serveurs <b>locales</b>"
    phone.locator(".idea-text", has_text=text).wait_for(timeout=3000)
    screen.locator(".card-text", has_text=text).wait_for(timeout=3000)
    moderator.locator(f"#item-{ack['item']} .badge-approved").wait_for(timeout=3000)
    assert any('"board_moderate"' in frame for frame in frames)  # not a form post
    for name, page in pages.items():
        assert page.evaluate("window.__stay") == 1, f"the {name} page navigated"
    # The phone votes over the socket and the button turns into "take back", still no reload.
    phone.locator(".board-vote button").first.click()
    phone.locator("#board-status.is-ok").wait_for(timeout=3000)
    assert phone.evaluate("window.__stay") == 1
    assert phone.locator(".board-vote input[name=take]").count() == 1
    # The author's own phone is told that its idea is approved (board_mine), without a reload.
    author.reload()
    author.locator("#board .is-mine .badge-approved").wait_for(timeout=5000)
    assert problems == []
    phone.screenshot(path=str(tmp_path / "phone.png"))
    screen.screenshot(path=str(tmp_path / "screen.png"))


def _votes(info) -> dict:
    """The wall's stored votes, item id -> count."""
    store = info["app"].extensions["palabre.store"]
    try:
        with store.read() as db:
            wall = sessions.get_activity(db, sessions.get_session(db, info["id"]), info["wall"])
            return service.vote_counts(db, wall)
    finally:
        store.dispose()


def test_a_phone_loads_the_wall_code_when_touched_and_loses_nothing(served, browser):
    """The wall's code (board-phone.js) is not part of a phone's first load: it comes when the
    participant touches the wall. What they type meanwhile stays, and a vote tapped before it is
    there is sent over the socket once it is, without a page load."""
    item = _post_items(served, ["Réparer avant de remplacer"], approve=True)[0]
    url = f"{served['base']}/j/{served['code']}"
    problems: list[str] = []
    for typing in (True, False):
        page = browser.new_context(viewport={"width": 360, "height": 640}).new_page()
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        loaded: list[str] = []
        page.on("request", lambda r, seen=loaded: r.url.endswith("/board-phone.js") and seen.append(r.url))
        goto_live(page, url)
        # A negative check needs a window: a load at start would have come within it.
        page.wait_for_timeout(300)
        assert loaded == [], "board-phone.js came with the first load"
        page.evaluate("window.__stay = 1")
        if typing:
            page.locator("#board-text").click()
            page.keyboard.type("Former les agents et les élus")
            page.locator("#board-status").wait_for(state="attached", timeout=5000)  # drawn by it
            assert page.locator("#board-text").input_value() == "Former les agents et les élus"
            assert page.evaluate("document.activeElement.id") == "board-text"
        else:
            page.locator(".board-vote button").first.click()
            page.locator("#board-status.is-ok").wait_for(timeout=5000)
            assert _votes(served) == {item: 1}
        assert loaded and page.evaluate("window.__stay") == 1
        page.context.close()
    assert problems == []


@pytest.mark.parametrize("pointer", ["mouse", "touch"])
def test_a_vote_tapped_while_the_wall_code_arrives_is_not_lost(served, browser, pointer):
    """The finger is down on "vote" of the server's markup when board-phone.js arrives: the module
    must not redraw the button away under it. The tap, once the finger is lifted, is sent over the
    socket and told as saved, as on a fast phone (in the room: a tap takes ~100 ms, the module
    comes over the venue's Wi-Fi in about as long). With a mouse (the redraw lost the click: the
    button pressed was gone), and with a touch screen (Chromium aims a tap's click where the
    finger is lifted, at the new button: kept before too; here the wait for the tap must not
    keep the module out)."""
    item = _post_items(served, ["Réparer avant de remplacer"], approve=True)[0]
    touch = pointer == "touch"
    page = browser.new_context(viewport={"width": 360, "height": 640}, has_touch=touch,
                               is_mobile=touch).new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    held: list = []
    page.route("**/board-phone.js", lambda route: held.append(route))
    goto_live(page, f"{served['base']}/j/{served['code']}")
    page.evaluate("window.__stay = 1")
    page.locator(".board-vote button").first.scroll_into_view_if_needed()
    box = page.locator(".board-vote button").first.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    cdp = page.context.new_cdp_session(page) if touch else None
    if touch:  # the touch asks for the module...
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    else:
        page.mouse.move(x, y)
        page.mouse.down()
    deadline = time.monotonic() + 5
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(20)
    assert held, "touching the wall did not ask for board-phone.js"
    held[0].fallback()  # ...which arrives while the finger is still down
    page.wait_for_timeout(500)  # the module is fetched and run; the finger stays
    if touch:
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    else:
        page.mouse.up()
    page.locator("#board-status.is-ok").wait_for(timeout=5000)
    assert _votes(served) == {item: 1}
    assert page.evaluate("window.__stay") == 1
    assert problems == []
    page.context.close()
