"""What a phone held while offline, when the session ended or the activity closed meanwhile, is
named to the participant, with its text, in their language, and stays on the phone until they
clear it: never dropped in silence (real Chromium, real server; see docs/architecture.md).

The phone's uplink is cut (its WebSocket is routed through Playwright, which drops what the page
sends while the downlink still brings the screen's changes): a word, then an idea are typed and
queued. Then the network is cut altogether, the facilitator ends the session, the page is
reloaded offline (the browser's error page), the network comes back and the participant opens
the join link again: the session is over, so there is no participant page any more, yet the
page names both items as not sent because the session has ended.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from support import goto_live, playwright_or_skip, query
from test_browser_offline import (
    OUTBOX,
    RECONNECT_MS,
    _command,
    _ideas,
    _offline_reload,
    _phone,
    _queued,
    _served,
)

expect = playwright_or_skip().expect
pytestmark = [pytest.mark.browser, pytest.mark.server]
UNSENT = f"{OUTBOX} .unsent [role=alert]"


def _cut_uplink(page, cut: list) -> None:
    """While `cut` holds True, what the page sends on its WebSocket (events, "42...") is lost."""
    def route(ws):
        upstream = ws.connect_to_server()
        ws.on_message(lambda message: None if (cut and str(message).startswith("42"))
                      else upstream.send(message))
        upstream.on_message(ws.send)

    page.route_web_socket(re.compile(r"/socket\.io/"), route)


def _words(info) -> int:
    return query(info["database"], "select count(*) from word_entries where activity_id = ?",
                 (info["cloud"],))[0][0]


SAYS = {
    "en": {"queued": "Queued, will be sent: ", "send": "Send my idea", "ended": "This session has ended.",
           "unsent": "Not sent: {what} — This session has ended.", "clear": "Clear this list"},
    "fr": {"queued": "En attente, sera envoyé : ", "send": "Envoyer mon idée",
           "ended": "Cette session est terminée.",
           "unsent": "Non envoyé : {what} — Cette session est terminée.", "clear": "Effacer cette liste"},
}


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_items_held_when_the_session_ended_are_named_after_a_reload(tmp_path, lang):
    idea = "Allonger la durée de vie des ordinateurs"
    says = SAYS[lang]
    with _served(tmp_path, locale=lang) as info:
        _command(info, "show", info["cloud"])
        _command(info, "open", info["cloud"])
        context = info["browser"].new_context(viewport={"width": 360, "height": 640},
                                              locale="en-GB" if lang == "en" else "fr-FR")
        page = context.new_page()
        cut: list = []
        _cut_uplink(page, cut)
        goto_live(page, f"{info['url']}/j/{info['code']}")
        expect(page.locator("#word-text")).to_be_visible(timeout=15_000)
        cut.append(True)
        page.fill("#word-text", "sobriété")
        page.locator("#word-text").press("Enter")
        expect(page.locator(OUTBOX)).to_contain_text(says["queued"] + "sobriété")
        _command(info, "show", info["wall"])  # the downlink still works: the wall comes
        expect(page.locator("#board-text")).to_be_visible(timeout=15_000)
        page.fill("#board-text", idea)
        page.get_by_role("button", name=says["send"]).click()
        expect(page.locator(OUTBOX)).to_contain_text(says["queued"] + idea)
        assert [item["l"] for item in _queued(page)] == ["sobriété", idea]

        _offline_reload(context, page)
        _command(info, "end", info["wall"])
        context.set_offline(False)
        cut.clear()
        page.goto(f"{info['url']}/j/{info['code']}")
        expect(page.locator("#code-error")).to_have_text(says["ended"])
        unsent = page.locator(UNSENT)
        expect(unsent).to_have_text([says["unsent"].format(what=what) for what in ("sobriété", idea)])
        assert _queued(page) == []  # named once, not sent again
        shots = os.environ.get("PALABRE_SCREENSHOTS")
        if shots:
            page.screenshot(path=str(Path(shots) / f"phone-unsent-ended-{lang}.png"))
        page.reload()  # still there: the participant may copy the text
        expect(page.locator(UNSENT)).to_have_count(2)
        page.get_by_role("button", name=says["clear"]).click()
        expect(page.locator(UNSENT)).to_have_count(0)
        page.reload()
        expect(page.locator(UNSENT)).to_have_count(0)
        context.close()
        assert _ideas(info, idea) == 0 and _words(info) == 0


def test_an_idea_held_when_the_wall_closed_is_named_after_a_reload_in_french(tmp_path):
    idea = "Une idée trop tardive"
    with _served(tmp_path, locale="fr") as info:
        network, page = _phone(info, locale="fr-FR")
        expect(page.locator("#board-text")).to_be_visible()
        network.set_offline(True)
        expect(page.locator("#conn")).to_be_visible(timeout=15_000)
        page.fill("#board-text", idea)
        page.get_by_role("button", name="Envoyer mon idée").click()
        expect(page.locator(OUTBOX)).to_contain_text(f"En attente, sera envoyé : {idea}")
        _command(info, "close", info["wall"])
        _offline_reload(network, page)
        network.set_offline(False)
        goto_live(page, f"{info['url']}/j/{info['code']}")
        unsent = page.locator(UNSENT)
        expect(unsent).to_contain_text(f"Non envoyé : {idea} — ", timeout=RECONNECT_MS)
        expect(unsent).to_contain_text("fermé")
        assert _queued(page) == []
        page.reload()  # the refusal stays until cleared
        expect(page.locator(UNSENT)).to_contain_text(f"Non envoyé : {idea}")
        page.get_by_role("button", name="Effacer cette liste").click()
        expect(page.locator(UNSENT)).to_have_count(0)
        network.close()
        assert _ideas(info, idea) == 0


def test_an_answer_held_when_the_poll_closed_is_named_by_its_option(tmp_path):
    with _served(tmp_path) as info:
        _command(info, "show", info["poll"])
        _command(info, "open", info["poll"])
        network, page = _phone(info)
        expect(page.locator("#prompt")).to_have_text("Which one?", timeout=15_000)
        network.set_offline(True)
        expect(page.locator("#conn")).to_be_visible(timeout=15_000)
        page.get_by_role("radio", name="Disagree", exact=True).check()
        page.get_by_role("button", name="Send my answer").click()
        expect(page.locator(OUTBOX)).to_contain_text("Queued, will be sent: Your answer: Disagree")
        _command(info, "close", info["poll"])
        _offline_reload(network, page)
        network.set_offline(False)
        goto_live(page, f"{info['url']}/j/{info['code']}")
        refused = page.locator(UNSENT)
        expect(refused).to_contain_text("Not sent: Your answer: Disagree — ", timeout=RECONNECT_MS)
        assert _queued(page) == []
        network.close()
        votes = query(info["database"], "select count(*) from votes where activity_id = ?", (info["poll"],))
        assert votes == [(0,)]
