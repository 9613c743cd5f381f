"""The moderator page in real Chromium follows the session over its one socket: what another
moderator and the participants do appears on it without the page being fetched again, drawn with
the same markup as the server renders (boards/_moderate.html, wordclouds/_moderate.html)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from support import (
    chromium,
    close_all,
    connect,
    goto_live,
    http_get,
    join_cookie,
    new_cid,
    prepare,
    server,
    sqlite_url,
)

pytestmark = [pytest.mark.browser, pytest.mark.server]
WAIT = 10000  # ms for a change to reach the page (a loaded machine)
CLOUD_WAIT = 20000  # ms: a word reaches the groups after the cloud is drawn again (worker process)

# The structure of an element as a list (tag, attributes, own text without spaces, children),
# the CSRF fields left out (the page's token may differ from a new page's) and the script's own
# bookkeeping (data-drawn, data-sig, data-wkey, data-words); `fresh` is the page served anew,
# parsed in the browser. What a closed <details> holds in a <noscript> is left out; in an open
# one (the same ones are opened in `fresh`), the script's content on the page is compared with
# the <noscript> of the server's markup (parsed without scripting: as elements). Returns, per
# section, both.
COMPARE = """(html) => {
  const fresh = new DOMParser().parseFromString(html, "text/html");
  const key = (d) => d.parentNode.closest("[id]").id + ":" + d.className;
  const opened = Array.from(document.querySelectorAll("details[open]")).map(key);
  fresh.querySelectorAll("details").forEach((d) => { if (opened.indexOf(key(d)) >= 0) d.open = true; });
  function kids(el) {
    let list = [];
    for (const c of el.children) {
      if (c.name === "csrf_token" || (c.tagName === "NOSCRIPT" && !el.open)) continue;
      list = list.concat(c.tagName === "NOSCRIPT" ? Array.from(c.children) : [c]);
    }
    return list;
  }
  function norm(el) {
    const attrs = Array.from(el.attributes)
      .filter((a) => ["data-drawn", "data-sig", "data-wkey", "data-words", "open"].indexOf(a.name) < 0)
      .map((a) => a.name + "=" + a.value).sort();
    const text = Array.from(el.childNodes).filter((n) => n.nodeType === 3)
      .map((n) => n.nodeValue).join("").replace(/\\s+/g, "");
    return [el.tagName, attrs.join(" "), text, kids(el).map(norm)];
  }
  const SECTIONS = "#boards > section, #clouds > section", out = {};
  for (const sec of document.querySelectorAll(SECTIONS)) {
    const other = fresh.getElementById(sec.id);
    out[sec.id] = [JSON.stringify(norm(sec)), other ? JSON.stringify(norm(other)) : null];
  }
  const ids = (root) => Array.from(root.querySelectorAll(SECTIONS)).map((s) => s.id).join();
  out.order = [ids(document), ids(fresh)];
  return out;
}"""


def _workshop(database):
    """A session with an idea wall (pre-moderated, on screen, open), a Q&A (open) and a word cloud
    (not open yet: nothing to moderate, so not on the moderator page at first)."""
    from live.boards import service as boards
    from live.sessions import service as sessions
    from live.store import Store
    from live.wordclouds import service as clouds

    setup = prepare(database)
    store = Store(sqlite_url(database))
    try:
        with store.write() as db:
            live_session = sessions.get_session(db, setup.session_id)
            wall = boards.add_board(db, live_session, "ideas", "How to make IT more sober?",
                                    {"columns": ["Facts", "Ideas"], "premoderation": True, "budget": 3})
            qa = boards.add_board(db, live_session, "questions", "Your questions", {})
            cloud = clouds.add_wordcloud(db, live_session, "In one word?")
            for action, activity in (("show", wall), ("open", wall), ("open", qa)):
                sessions.apply_command(db, live_session, action, activity.id)
            ids = {"wall": wall.id, "qa": qa.id, "cloud": cloud.id}
    finally:
        store.dispose()
    return setup, ids


class _Room:
    """The other people of the session: phones, a second moderator and the facilitator, each on
    its own socket."""

    def __init__(self, base, setup):
        self.base, self.setup, self.clients = base, setup, []
        self.moderator = self._connect({"token": setup.moderator, "lang": "en"})
        self.facilitator = self._connect({"token": setup.facilitator, "lang": "en"})

    def _connect(self, auth, cookie=None):
        client = connect(self.base, auth, cookie=cookie)
        self.clients.append(client)
        return client

    def phone(self):
        cookie = join_cookie(self.base, self.setup.code)
        return self._connect({"code": self.setup.code, "lang": "en"}, cookie)

    def call(self, client, event, payload):
        ack = client.call(event, {"cid": new_cid(), **payload}, timeout=10)
        assert ack and ack.get("ok"), ack
        return ack

    def moderate(self, wall, action, item, **extra):
        self.call(self.moderator, "board_moderate", {"activity": wall, "action": action,
                                                     "items": [item], "by": "Malik", **extra})


def _item(ack) -> dict:
    return {"id": ack["items"][0]["id"], "version": ack["items"][0]["version"]}


def _watch(page, path):
    """Requests of the page for its own address, its WebSockets, its errors."""
    seen = {"again": [], "sockets": [], "problems": []}
    page.on("request", lambda r: urlsplit(r.url).path == path and seen["again"].append(r.url))
    page.on("websocket", lambda ws: seen["sockets"].append(ws.url))
    page.on("pageerror", lambda exc: seen["problems"].append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and seen["problems"].append(msg.text))
    return seen


def test_the_moderator_page_draws_every_change_from_its_socket_and_never_fetches_itself(tmp_path):
    setup, ids = _workshop(tmp_path / "palabre.db")
    path = f"/m/{setup.moderator}"
    with server(setup.database) as srv, chromium() as browser:
        room = _Room(srv.url, setup)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            seen = _watch(page, path)
            goto_live(page, srv.url + path)
            loads = len(seen["again"])
            first = _changes_appear(page, room, ids)
            _same_markup_as_the_server(page, srv.url, path)
            _closed_parts_open(page, browser, srv.url + path, first)
            assert len(seen["again"]) == loads == 1, f"the page was fetched again: {seen['again']}"
            assert len(seen["sockets"]) == 1, f"{len(seen['sockets'])} sockets"
            assert seen["problems"] == []
        finally:
            close_all(room.clients)


def _changes_appear(page, room, ids) -> None:
    wall, qa = ids["wall"], ids["qa"]
    author, voter = room.phone(), room.phone()
    # A participant's idea arrives in the queue, waiting for a moderator.
    first = room.call(author, "board_post", {"activity": wall, "text": "Repair before replacing",
                                             "column": 1})["item"]
    page.locator(f"#item-{first} .badge-pending").wait_for(timeout=WAIT)
    assert "Repair before replacing" in page.locator(f"#item-{first} .mod-text").inner_text()
    # Another moderator approves it, then edits and pins it.
    ref = {"id": first, "version": 1}
    page.locator("#boards[data-synced='1']").wait_for(state="attached", timeout=WAIT)
    room.moderate(wall, "approve", ref)
    page.locator(f"#item-{first} .badge-approved").wait_for(timeout=WAIT)
    ack = room.call(room.moderator, "board_moderation", {"activity": wall})
    ref = {"id": first, "version": ack["board"]["published"][0]["version"]}
    room.moderate(wall, "edit", ref, text="Repair before replacing, always")
    page.locator(f"#item-{first} .mod-text", has_text="always").wait_for(timeout=WAIT)
    ack = room.call(room.moderator, "board_moderation", {"activity": wall})
    ref = {"id": first, "version": ack["board"]["published"][0]["version"]}
    room.moderate(wall, "pin", ref)
    page.locator(f"#item-{first}.is-pinned").wait_for(timeout=WAIT)
    # A second idea is rejected; a third is merged into the first.
    second = room.call(author, "board_post", {"activity": wall, "text": "Buy more", "column": 0})["item"]
    page.locator(f"#item-{second}").wait_for(timeout=WAIT)
    room.moderate(wall, "reject", {"id": second, "version": 1})
    page.locator(f"#board-{wall} .mod-removed summary", has_text="(1)").click(timeout=WAIT)
    page.locator(f"#item-{second} .badge-rejected").wait_for(timeout=WAIT)  # built when opened
    third = room.call(voter, "board_post", {"activity": wall, "text": "Repair first", "column": 1})["item"]
    page.locator(f"#item-{third}").wait_for(timeout=WAIT)
    ack = room.call(room.moderator, "board_moderation", {"activity": wall})
    into = {"id": first, "version": ack["board"]["published"][0]["version"]}
    room.moderate(wall, "merge", {"id": third, "version": 1}, into=into)
    page.locator(f"#item-{first} .mod-history").wait_for(state="attached", timeout=WAIT)
    page.locator(f"#item-{third}").wait_for(state="detached", timeout=WAIT)
    # A vote changes the count shown, without asking for the board again.
    room.call(voter, "board_vote", {"activity": wall, "item": first})
    page.locator(f"#item-{first}[data-votes='1']").wait_for(timeout=WAIT)
    # A question reaches the Q&A.
    question = room.call(voter, "board_post", {"activity": qa, "text": "Who pays the repair?"})["item"]
    page.locator(f"#board-{qa} #item-{question}").wait_for(timeout=WAIT)
    # The facilitator opens the word cloud: its section appears, then a word in it.
    room.call(room.facilitator, "command", {"action": "open", "activity": ids["cloud"]})
    page.locator(f"#wc-{ids['cloud']}").wait_for(timeout=WAIT)
    room.call(voter, "word:add", {"activity": ids["cloud"], "text": "sober"})
    room.call(author, "word:add", {"activity": ids["cloud"], "text": "local"})
    page.locator(f"#wc-{ids['cloud']} .all-groups .g-text", has_text="sober").wait_for(timeout=CLOUD_WAIT)
    page.locator(f"#wc-{ids['cloud']} .wc-merge option", has_text="local").first.wait_for(
        state="attached", timeout=CLOUD_WAIT)
    # The counts come with the next `results` push, not with the groups: wait for them too.
    page.locator(f"#wc-{ids['cloud']} .wc-counts", has_text="2 entries").wait_for(timeout=WAIT)
    page.locator("#boards[data-synced='1']").wait_for(state="attached", timeout=WAIT)
    return first


def _closed_parts_open(page, browser, url, item) -> None:
    """An item's edit field and the log are built when opened; without JavaScript they are there,
    and the forms post."""
    assert page.locator(f"textarea[name=text_{item}]").count() == 0
    page.locator(f"#item-{item} .mod-edit summary").click()
    field = page.locator(f"textarea[name=text_{item}]")
    field.wait_for(timeout=WAIT)
    assert field.input_value() == "Repair before replacing, always"
    page.locator(".mod-log summary").first.click()
    page.locator(".mod-log li", has_text="approve").first.wait_for(timeout=WAIT)
    # Served anew with script: the rejected items' <noscript> holds whole items, the page's
    # structure stays whole, and they are built when opened.
    again = browser.new_page()
    goto_live(again, url)
    assert again.evaluate("Array.from(document.querySelectorAll('.board-mod'))"
                          ".every((s) => s.parentNode.id === 'boards')")
    again.locator(".mod-removed summary").first.click()
    again.locator(".mod-removed .badge-rejected").first.wait_for(timeout=WAIT)
    again.locator(".mod-removed .mod-edit textarea").first.wait_for(state="attached", timeout=WAIT)
    again.close()
    plain = browser.new_context(java_script_enabled=False).new_page()
    plain.goto(url)
    assert plain.locator(f"textarea[name=text_{item}]").input_value() == "Repair before replacing, always"
    assert plain.locator(".mod-log li", has_text="approve").count() >= 1
    plain.get_by_role("button", name="Hide: sober").click()  # the cloud's one form
    plain.locator(".all-groups .group.is-hidden", has_text="sober").wait_for(timeout=WAIT)
    plain.context.close()


def _same_markup_as_the_server(page, base, path) -> None:
    """What the script drew is what the server renders now (one source of markup)."""
    status, _headers, body = http_get(base, path)
    assert status == 200
    compared = page.evaluate(COMPARE, body.decode())
    order = compared.pop("order")
    assert order[0] == order[1]
    assert page.locator("#boards [data-drawn]").count() >= 2  # both boards drawn by the script
    for sec, (drawn, served) in compared.items():
        assert drawn == served, f"{sec} differs:\n{drawn}\n{served}"


def test_the_focus_stays_on_its_button_when_the_boards_change_places(tmp_path):
    """The facilitator puts the Q&A on screen: its section moves first on the moderator page, and
    a keyboard user's focus stays on the button it was on (moving a section takes the focus away
    unless the page gives it back)."""
    setup, ids = _workshop(tmp_path / "palabre.db")
    with server(setup.database) as srv, chromium() as browser:
        room = _Room(srv.url, setup)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            goto_live(page, f"{srv.url}/m/{setup.moderator}")
            first = "() => document.querySelector('#boards .board-mod').id"
            assert page.evaluate(first) == f"board-{ids['wall']}"  # the wall is on screen
            question = room.call(room.phone(), "board_post", {"activity": ids["qa"],
                                                              "text": "Who pays the repair?"})["item"]
            button = page.locator(f"#item-{question} button[name=act]").first
            button.wait_for(timeout=WAIT)
            page.locator("#boards[data-synced='1']").wait_for(state="attached", timeout=WAIT)
            button.focus()
            value = button.get_attribute("value")
            room.call(room.facilitator, "command", {"action": "show", "activity": ids["qa"]})
            page.wait_for_function(f"() => ({first})() === 'board-{ids['qa']}'", timeout=WAIT)
            focused = page.evaluate("() => [document.activeElement.name, document.activeElement.value]")
        finally:
            close_all(room.clients)
    assert focused == ["act", value], f"the focus left the button: {focused}"
