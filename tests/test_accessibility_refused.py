"""A phone whose connection is refused says why, in its language (docs/protocol.md's messages).

Real server, real Chromium: the phone is live, loses the network (the page's socket drops), and
something changes meanwhile; when the network is back its socket reconnects and the server
refuses it. The page must show the documented message in its message area (`#flash`, a live
region, role=alert), not the generic "connection refused".
"""

from __future__ import annotations

import pytest
from support import chromium, connect, goto_live, new_cid, open_poll, prepare, server

pytestmark = [pytest.mark.browser, pytest.mark.server]

MESSAGES = {
    ("no_identity", "en"): "Your browser did not send its cookie. Reload the page (cookies must be allowed).",
    ("no_identity", "fr"): "Votre navigateur n’a pas envoyé son cookie. Rechargez la page (les cookies "
                           "doivent être autorisés).",
    ("session_ended", "en"): "This session has ended.",
    ("session_ended", "fr"): "Cette session est terminée.",
    ("unknown_code", "en"): "No session has this code. Check the code on the screen.",
    ("unknown_code", "fr"): "Aucune session n’a ce code. Vérifiez le code affiché à l’écran.",
}


def _refusal(page) -> tuple[str, str | None]:
    """Wait for the page's refusal notice; its text and role."""
    notice = page.wait_for_selector("#flash .notice-error", timeout=20_000)
    return notice.inner_text(), notice.get_attribute("role")


def _end_session(srv, setup) -> None:
    facilitator = connect(srv.url, {"token": setup.facilitator, "lang": "en"})
    try:
        ack = facilitator.call("command", {"cid": new_cid(), "action": "end", "activity": None}, timeout=15)
        assert ack.get("ok"), ack
    finally:
        facilitator.disconnect()


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("why", ["no_identity", "session_ended"])
def test_a_refused_reconnection_says_why(tmp_path, why, lang):
    setup = prepare(tmp_path / "palabre.db")
    open_poll(setup)
    with server(setup.database) as srv, chromium() as browser:
        context = browser.new_context(viewport={"width": 360, "height": 640})
        page = context.new_page()
        goto_live(page, f"{srv.url}/j/{setup.code}?lang={lang}")
        context.set_offline(True)
        page.wait_for_selector("#conn:not([hidden])", timeout=20_000)  # the socket is down
        if why == "no_identity":
            context.clear_cookies()
        else:
            _end_session(srv, setup)
        context.set_offline(False)
        text, role = _refusal(page)
        context.close()
    assert text == MESSAGES[why, lang]
    assert role == "alert"


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_an_unknown_code_is_refused_with_its_message(tmp_path, lang):
    """The page's own connect() (static/js/core.js) with a code no session has."""
    setup = prepare(tmp_path / "palabre.db")
    with server(setup.database) as srv, chromium() as browser:
        page = browser.new_page()
        page.goto(f"{srv.url}/?lang={lang}")
        page.evaluate("() => import('/static/js/core.js').then(m => { m.connect({code: 'ZZZZZZ'}, {}); })")
        text, role = _refusal(page)
    assert (text, role) == (MESSAGES["unknown_code", lang], "alert")
