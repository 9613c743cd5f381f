"""The join line's waiting page in Chromium at phone size: without JavaScript its refresh gets the
phone in, with JavaScript its poll does; then the phone's socket is accepted (not queued again)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from a11y import axe_report, describe
from support import Listener, chromium, connect, playwright_or_skip, prepare, server

from tests.realserver import join_cookie

expect = playwright_or_skip().expect
pytestmark = [pytest.mark.browser, pytest.mark.server]
PHONE = {"width": 360, "height": 640}


@pytest.mark.parametrize("script", [False, True], ids=["without-js", "with-js"])
def test_a_phone_in_line_gets_in_by_itself(tmp_path, script):
    setup = prepare(tmp_path / "palabre.db")  # an English session
    shots = Path(os.environ.get("PALABRE_SCREENSHOTS", tmp_path))
    # A phone every 5 s: once a first phone took the token, the next one waits up to 5 s.
    with server(setup.database, ADMIT_PER_SECOND=0.2) as srv, chromium() as browser:
        console = Listener("presence", "admission")
        facilitator = connect(srv.url, {"token": setup.facilitator, "lang": "en"}, listener=console)
        try:
            board = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
            board.goto(f"{srv.url}/f/{setup.facilitator}?lang=en")  # the console, with its script
            line = board.locator("#admission")
            phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                        java_script_enabled=script).new_page()
            join_cookie(srv.url, setup.code)  # the first phone takes the one token
            phone.goto(f"{srv.url}/j/{setup.code}")
            expect(phone.locator("#wait-place[role=status]")).to_contain_text("You are number 1 in line")
            expect(line).to_have_text("In line to join: 1 · let in over the last minute: 1", timeout=10000)
            board.screenshot(path=str(shots / "join-line-console.png"),
                             clip={"x": 0, "y": 0, "width": 1280, "height": 300})
            phone.screenshot(path=str(shots / f"join-line-waiting-{'js' if script else 'nojs'}-phone.png"))
            expect(phone.get_by_role("heading", name="Look at the screen")).to_be_visible(timeout=30000)
            expect(line).to_have_text("In line to join: 0 · let in over the last minute: 2", timeout=10000)
            if script:  # axe-core on a waiting page that stays (its script blocked): tests/a11y.py
                probe = browser.new_context(viewport=PHONE).new_page()
                probe.route("**/waiting.js", lambda route: route.abort())
                join_cookie(srv.url, setup.code)  # the token again, so that the probe waits
                probe.goto(f"{srv.url}/j/{setup.code}")
                expect(probe.locator("#wait-place")).to_contain_text("in line")
                violations = axe_report(probe)["violations"]
                assert violations == [], describe(violations)
            assert console.wait_for(lambda c: any(m.get("waiting") for m in c.messages("admission")), 5)
            if script:  # its socket is accepted at once: one phone connected
                assert console.wait_for(lambda c: any(m.get("connected") == 1
                                                      for m in c.messages("presence")), 15)
        finally:
            facilitator.disconnect()
