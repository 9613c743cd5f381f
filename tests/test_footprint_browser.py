"""The footprint line on the console in real Chromium against the real server: a phone at
360x640 joins, and the console's line (not reloaded) follows with the bytes and the peak."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from support import chromium, playwright_or_skip, prepare, server

expect = playwright_or_skip().expect
pytestmark = [pytest.mark.browser, pytest.mark.server]


def test_the_console_line_follows_a_phone_joining(tmp_path):
    setup = prepare(tmp_path / "palabre.db")
    problems: list[str] = []
    with server(setup.database) as srv, chromium() as browser:
        console = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB").new_page()
        phone = browser.new_context(viewport={"width": 360, "height": 640}, locale="en-GB",
                                    has_touch=True, is_mobile=True).new_page()
        for page in (console, phone):
            page.on("pageerror", lambda exc: problems.append(str(exc)))
        console.goto(f"{srv.url}/f/{setup.facilitator}")
        line = console.locator("#footprint")
        expect(line).to_contain_text("phones at the peak: 0")
        phone.goto(f"{srv.url}/j/{setup.code}")
        # Fetched again every 10 s: the phone's page, its files and its socket are in it.
        expect(line).to_contain_text("phones at the peak: 1", timeout=25000)
        assert re.search(r"Served so far: [\d.]+ [kM]B in \d+ requests, [\d.]+ [kM]B per participant",
                         line.inner_text()), line.inner_text()
        shots = Path(os.environ.get("PALABRE_SCREENSHOTS") or tmp_path)
        console.screenshot(path=str(shots / "console-footprint.png"))
    assert not problems, problems
