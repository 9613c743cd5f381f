"""One-time voting codes on a phone: real server, real Chromium at phone size, with and without
JavaScript: the code form, a refusal that says why, admission with a fresh code."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support import chromium, playwright_or_skip, prepare, server, sqlite_url

expect = playwright_or_skip().expect
pytestmark = [pytest.mark.browser, pytest.mark.server]
PHONE = {"width": 360, "height": 640}


def _issue(setup, count: int) -> list[str]:
    from live.sessions import doorcodes, service
    from live.store import Store

    store = Store(sqlite_url(setup.database))
    try:
        with store.write() as db:
            issued = doorcodes.issue(db, service.get_session(db, setup.session_id), count)
            return [code for _n, code in issued]
    finally:
        store.dispose()


def test_a_phone_joins_with_its_code_and_a_second_phone_cannot_reuse_it(tmp_path):
    setup = prepare(tmp_path / "palabre.db")  # an English session
    (code,) = _issue(setup, 1)
    shots = Path(os.environ.get("PALABRE_SCREENSHOTS", tmp_path))
    with server(setup.database) as srv, chromium() as browser:
        phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
        phone.goto(f"{srv.url}/j/{setup.code}")
        field = phone.get_by_label("Your voting code")
        expect(field).to_be_visible()
        field.fill("ABCD-EFGH")
        phone.get_by_role("button", name="Join").click()
        expect(phone.get_by_role("alert")).to_contain_text("not valid for this session")
        phone.screenshot(path=str(shots / "door-code-refused-phone.png"))
        phone.get_by_label("Your voting code").fill(f"{code[:4].lower()} {code[4:].lower()}")
        phone.get_by_role("button", name="Join").click()
        expect(phone.get_by_role("heading", name="Look at the screen")).to_be_visible()

        # A phone without JavaScript, with the same code: refused, and told why.
        plain = browser.new_context(viewport=PHONE, java_script_enabled=False).new_page()
        plain.goto(f"{srv.url}/j/{setup.code}")
        plain.get_by_label("Your voting code").fill(code)
        plain.get_by_role("button", name="Join").click()
        expect(plain.get_by_role("alert")).to_contain_text("already been used")
        expect(plain.get_by_role("heading", name="Look at the screen")).to_have_count(0)
