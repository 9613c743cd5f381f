"""Nothing a participant sends is lost to a flaky hall Wi-Fi, in real Chromium on the real server.

The phone's outbox (static/js/core.js) keeps every action in localStorage until the server
answers: an idea, a word, a poll answer, a dot typed with the network cut (Playwright's
`set_offline`, and the page's Socket.IO traffic cut by the test: `Network`) are shown as queued,
survive a reload of the page while offline, are sent once the network is back and shown as sent;
the SQLite file holds each exactly once. "During the tap": the server stores the idea but its
acknowledgement never reaches the phone (the page's WebSocket is routed through Playwright, which
drops the ack), then the page is reloaded offline: the outbox sends the same cid again, the server
answers it as the first time, nothing is stored twice. A refusal (the activity closed, the session
ended meanwhile) is shown, translated, and dropped from the queue.
"""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from support import (
    chromium,
    connect,
    goto_live,
    new_cid,
    playwright_or_skip,
    query,
    server,
    sqlite_url,
    wait_until,
)

from live.boards import service as boards
from live.polls import service as polls
from live.sessions import service as sessions
from live.store import Store, upgrade
from live.wordclouds import service as clouds

expect = playwright_or_skip().expect
pytestmark = [pytest.mark.browser, pytest.mark.server]
PHONE = {"width": 360, "height": 640}
OUTBOX = "#outbox"
RECONNECT_MS = 20_000  # the Socket.IO client tries again after 1 s, then up to 5 s apart, on a loaded machine


def _prepare(database, locale: str = "en") -> dict:
    """A workshop with an idea wall (shown, open, one approved idea to vote for), a word cloud and
    a poll (both draft)."""
    url = sqlite_url(database)
    upgrade(url)
    store = Store(url)
    try:
        with store.write() as db:
            event = sessions.create_event(db, "Wi-Fi de salle")
            s = sessions.create_session(db, event, "workshop", "Atelier", locale=locale)
            wall = boards.add_board(db, s, "ideas", "Comment faire ?", {"columns": ["Idées"], "budget": 3})
            cloud = clouds.add_wordcloud(db, s, "Un mot ?", {})
            poll = polls.add_poll(db, s, "single", "Which one?", ["Agree", "Disagree"])
            for action in ("show", "open", "reveal"):
                sessions.apply_command(db, s, action, wall.id)
            other = sessions.join(db, s, "someone-else")
            item = boards.post(db, s, wall, other, "Réparer plutôt que jeter", 0)
            db.flush()
            boards.moderate(db, s, wall, "approve", [{"id": item.id, "version": item.version}], "moderator")
            return {"database": database, "code": s.join_code, "facilitator": s.facilitator_token,
                    "wall": wall.id, "cloud": cloud.id, "poll": poll.id, "item": item.id}
    finally:
        store.dispose()


@contextmanager
def _served(tmp_path, locale: str = "en"):
    info = _prepare(tmp_path / "palabre.db", locale)
    with server(info["database"]) as srv, chromium() as browser:
        info["url"] = srv.url
        info["browser"] = browser
        yield info


def _command(info, action: str, activity: int) -> None:
    """A facilitator's command over a socket of the test's own."""
    facilitator = connect(info["url"], {"token": info["facilitator"], "lang": "en"})
    try:
        ack = facilitator.call("command", {"cid": new_cid(), "action": action, "activity": activity},
                               timeout=15)
        assert ack.get("ok"), ack
    finally:
        facilitator.disconnect()


SOCKET_IO = re.compile(r"/socket\.io/")


class Network:
    """A phone's network that the test cuts and brings back (`set_offline`), for real.

    Playwright's `set_offline` fires the page's `offline` event (socket.io-client closes its
    transport) and fails a reload, but Chromium's emulation is not a cut: an open WebSocket
    stays open, and once in CI (ci74) an idea typed offline was stored before the network
    came back. So the context's Socket.IO traffic also passes a gate of the test: while cut,
    the open WebSockets are closed on both sides, a new one is closed before it reaches the
    server, and a long-polling request fails as offline. Online, a WebSocket is connected to
    the server and its messages flow in the page, without this process. Only the test that
    failed so uses the gate (`gate=True`): with it, the two-tab test failed once in 11 runs on
    a developer's machine (cause not found), and never did with `set_offline` alone."""

    def __init__(self, context, gate: bool = True):
        self.context, self.cut, self.open, self.gate = context, False, [], gate
        if gate:
            context.route_web_socket(SOCKET_IO, self._socket)

    def _socket(self, ws) -> None:
        if self.cut:
            ws.close()
            return
        self.open.append((ws, ws.connect_to_server()))

    @staticmethod
    def _polling(route) -> None:
        route.abort("internetdisconnected")

    def set_offline(self, offline: bool) -> None:
        if not self.gate or offline == self.cut:
            self.context.set_offline(offline)
            return
        self.cut = offline
        if offline:
            self.context.route(SOCKET_IO, self._polling)
            self.context.set_offline(True)
            for ws, upstream in self.open:
                upstream.close()
                ws.close()
            self.open.clear()
        else:
            self.context.unroute(SOCKET_IO, self._polling)
            self.context.set_offline(False)

    def new_page(self):
        return self.context.new_page()

    def close(self) -> None:
        self.context.close()


def _phone(info, locale: str = "en-GB", gate: bool = False):
    """A phone's page, live, and its `Network` (with `gate`: cut for real; without, Playwright's
    `set_offline` alone, whose open WebSocket the page closes on its `offline` event)."""
    context = info["browser"].new_context(viewport=PHONE, locale=locale, has_touch=True, is_mobile=True)
    network = Network(context, gate)
    page = context.new_page()
    goto_live(page, f"{info['url']}/j/{info['code']}")
    return network, page


def _count(info, sql: str, params: tuple = ()) -> int:
    return query(info["database"], sql, params)[0][0]


def _ideas(info, text: str) -> int:
    return _count(info, "select count(*) from board_items where text = ?", (text,))


def _queued(page) -> list:
    """What the page's outbox holds in localStorage (every key of this origin's outboxes; not the
    items refused for good, kept under "...:unsent" to be shown)."""
    return page.evaluate("""() => Object.keys(localStorage)
                             .filter(k => k.indexOf('palabre:') === 0 && !k.endsWith(':unsent'))
                             .map(k => JSON.parse(localStorage.getItem(k))).flat()""")


def _offline_reload(network, page) -> None:
    """Reload the page while offline (`network`: a `Network`, or a context whose page routes its
    own WebSocket): the browser shows its own error page, no script of ours."""
    network.set_offline(True)
    with pytest.raises(playwright_or_skip().Error):
        page.reload()


def _back_online(network, page, info) -> None:
    network.set_offline(False)
    goto_live(page, f"{info['url']}/j/{info['code']}")


def test_an_idea_typed_offline_survives_a_reload_and_is_stored_once(tmp_path):
    """Network cut BEFORE the tap, then a reload while offline, then back online."""
    text = "Allonger la durée de vie des ordinateurs"
    with _served(tmp_path) as info:
        network, page = _phone(info, gate=True)
        expect(page.locator("#board-text")).to_be_visible()
        network.set_offline(True)
        expect(page.locator("#conn")).to_be_visible()
        page.fill("#board-text", text)
        page.get_by_role("button", name="Send my idea").click()
        # No page submission (no browser error page): the phone says it will be sent.
        queued = f"Queued, will be sent: {text}"
        expect(page.locator(OUTBOX)).to_contain_text(queued)
        expect(page.locator("#board-text")).to_have_value("")
        assert [item["p"]["text"] for item in _queued(page)] == [text]

        _offline_reload(network, page)
        assert _ideas(info, text) == 0
        _back_online(network, page, info)
        expect(page.locator(OUTBOX)).to_contain_text("Sent: " + text, timeout=RECONNECT_MS)
        expect(page.locator("#board-mine")).to_contain_text(text)
        assert _ideas(info, text) == 1
        assert _queued(page) == []


def _in(page):
    """A sleep for `wait_until` that lets Playwright deliver the page's events meanwhile."""
    return lambda seconds: page.wait_for_timeout(seconds * 1000)


def _drop_acks(page, dropping: list) -> None:
    """Route the page's WebSocket through Playwright; while `dropping` holds True, the server's
    acknowledgements (Socket.IO packets "43...") never reach the page. The messages both ways go
    through this process's Playwright client: they move only while the test is in a Playwright
    call (an `expect`, `page.wait_for_timeout`), never during a time.sleep."""
    def route(ws):
        upstream = ws.connect_to_server()
        upstream.on_message(lambda message: None if (dropping and str(message).startswith("43"))
                            else ws.send(message))

    page.route_web_socket(re.compile(r"/socket\.io/"), route)


def test_an_idea_stored_whose_ack_was_lost_is_sent_again_and_stored_once(tmp_path):
    """Network cut DURING the tap: stored by the server, the ack lost, the page reloaded offline."""
    text = "Mutualiser les serveurs entre communes"
    with _served(tmp_path) as info:
        context = info["browser"].new_context(viewport=PHONE, locale="en-GB")
        page = context.new_page()
        dropping: list = []
        _drop_acks(page, dropping)
        goto_live(page, f"{info['url']}/j/{info['code']}")
        expect(page.locator("#board-text")).to_be_visible()
        dropping.append(True)
        page.fill("#board-text", text)
        page.get_by_role("button", name="Send my idea").click()
        # Stored, but the phone never heard. Waiting in the page (not time.sleep): the routed
        # socket's messages pass through this process, the idea too when it leaves after the click
        # returned (board-phone.js still loading, on a slow machine).
        assert wait_until(lambda: _ideas(info, text) == 1, 10, sleep=_in(page))
        expect(page.locator(OUTBOX)).to_contain_text("Queued, will be sent: " + text)
        _offline_reload(context, page)
        dropping.clear()
        _back_online(context, page, info)
        expect(page.locator(OUTBOX)).to_contain_text("Sent: " + text, timeout=RECONNECT_MS)
        expect(page.locator("#board-mine")).to_contain_text(text)
        assert _ideas(info, text) == 1
        assert _count(info, "select count(*) from client_acks where event = 'board_post'") == 1
        assert _queued(page) == []


def test_items_of_several_kinds_queued_offline_are_sent_in_order(tmp_path):
    """An idea, a dot and a second idea queued offline go out in the order they were made."""
    with _served(tmp_path) as info:
        network, page = _phone(info)
        expect(page.locator("#board-text")).to_be_visible()
        network.set_offline(True)
        expect(page.locator("#conn")).to_be_visible()
        page.fill("#board-text", "Première idée")
        page.get_by_role("button", name="Send my idea").click()
        page.get_by_role("button", name=re.compile("^Vote")).click()
        page.fill("#board-text", "Seconde idée")
        page.get_by_role("button", name="Send my idea").click()
        expect(page.locator(f"{OUTBOX} .warn")).to_have_count(3)
        assert [item["e"] for item in _queued(page)] == ["board_post", "board_vote", "board_post"]
        _offline_reload(network, page)
        _back_online(network, page, info)
        expect(page.locator(f"{OUTBOX} .notice-ok")).to_have_count(3, timeout=RECONNECT_MS)
        rows = query(info["database"], "select event, at from client_acks where participant_id is not null"
                                       " and event like 'board_%' order by id")
        assert [event for event, _at in rows] == ["board_post", "board_vote", "board_post"]
        assert _ideas(info, "Première idée") == 1 and _ideas(info, "Seconde idée") == 1
        assert _count(info, "select count(*) from board_votes where item_id = ?", (info["item"],)) == 1
        expect(page.locator("#votes-left")).to_contain_text("2 votes left")


def test_a_word_and_a_poll_answer_queued_offline_survive_a_reload(tmp_path):
    with _served(tmp_path) as info:
        _command(info, "show", info["cloud"])
        _command(info, "open", info["cloud"])
        network, page = _phone(info)
        expect(page.locator("#word-text")).to_be_visible()
        network.set_offline(True)
        expect(page.locator("#conn")).to_be_visible()
        page.fill("#word-text", "sobriété")
        page.locator("#word-text").press("Enter")
        expect(page.locator("#word-status")).to_contain_text("Queued")
        expect(page.locator(OUTBOX)).to_contain_text("sobriété")
        _offline_reload(network, page)
        _back_online(network, page, info)
        expect(page.locator(OUTBOX)).to_contain_text("Sent: sobriété", timeout=RECONNECT_MS)
        expect(page.locator("#word-mine")).to_contain_text("sobriété")
        assert _count(info, "select count(*) from word_entries where activity_id = ?", (info["cloud"],)) == 1

        _command(info, "show", info["poll"])
        _command(info, "open", info["poll"])
        expect(page.locator("#prompt")).to_have_text("Which one?")
        network.set_offline(True)
        expect(page.locator("#conn")).to_be_visible()
        page.get_by_role("radio", name="Agree", exact=True).check()
        page.get_by_role("button", name="Send my answer").click()
        expect(page.locator(".form-status")).to_contain_text("Not sent yet")
        _offline_reload(network, page)
        _back_online(network, page, info)
        expect(page.locator(".form-status")).to_contain_text("Your answer is saved", timeout=RECONNECT_MS)
        assert _count(info, "select count(*) from votes where activity_id = ?", (info["poll"],)) == 1


def test_an_idea_queued_while_the_wall_closes_is_refused_in_french_and_dropped(tmp_path):
    """The activity closed while the phone was offline: a clear, translated message, no retry."""
    text = "Une idée trop tardive"
    with _served(tmp_path, locale="fr") as info:
        network, page = _phone(info, locale="fr-FR")
        expect(page.locator("#board-text")).to_be_visible()
        network.set_offline(True)
        expect(page.locator("#conn")).to_be_visible()
        page.fill("#board-text", text)
        page.get_by_role("button", name="Envoyer mon idée").click()
        queued = f"En attente, sera envoyé : {text}"
        expect(page.locator(OUTBOX)).to_contain_text(queued)
        _command(info, "close", info["wall"])
        network.set_offline(False)  # no reload: the page's socket comes back by itself
        refused = page.locator(f"{OUTBOX} [role=alert]")
        expect(refused).to_contain_text("Non envoyé : " + text, timeout=RECONNECT_MS)
        expect(refused).to_contain_text("fermé")
        assert _queued(page) == []
        page.reload()  # nothing is sent again; the refusal stays, with the text
        expect(page.locator(f"{OUTBOX} .warn")).to_have_count(0)
        expect(page.locator(f"{OUTBOX} [role=alert]")).to_contain_text("Non envoyé : " + text)
        assert _ideas(info, text) == 0


def test_items_queued_when_the_session_ends_are_refused_and_dropped(tmp_path):
    text = "Une idée pour une session finie"
    with _served(tmp_path) as info:
        network, page = _phone(info)
        expect(page.locator("#board-text")).to_be_visible()
        network.set_offline(True)
        expect(page.locator("#conn")).to_be_visible()
        page.fill("#board-text", text)
        page.get_by_role("button", name="Send my idea").click()
        expect(page.locator(OUTBOX)).to_contain_text("Queued")
        _command(info, "end", info["wall"])
        network.set_offline(False)
        refused = page.locator(f"{OUTBOX} [role=alert]")
        expect(refused).to_contain_text("Not sent: " + text, timeout=RECONNECT_MS)
        expect(refused).to_contain_text("ended")
        assert _queued(page) == []
        assert _ideas(info, text) == 0


def test_two_tabs_sharing_a_queue_store_it_once(tmp_path):
    text = "Deux onglets, une idée"
    with _served(tmp_path) as info:
        network, first = _phone(info)
        second = network.new_page()
        goto_live(second, f"{info['url']}/j/{info['code']}")
        expect(first.locator("#board-text")).to_be_visible()
        network.set_offline(True)
        expect(first.locator("#conn")).to_be_visible()
        first.fill("#board-text", text)
        first.get_by_role("button", name="Send my idea").click()
        expect(second.locator(OUTBOX)).to_contain_text("Queued")  # the other tab sees it waiting
        network.set_offline(False)  # both tabs reconnect and may both send it: same cid
        assert wait_until(lambda: _queued(first) == [], RECONNECT_MS / 1000)
        assert wait_until(lambda: any("Sent: " + text in tab.locator(OUTBOX).inner_text()
                                      for tab in (first, second)), RECONNECT_MS / 1000)
        assert _ideas(info, text) == 1
