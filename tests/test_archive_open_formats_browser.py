"""The organiser's archive page in real Chromium, on a phone (360x640, French) and a projector-
sized screen (1920x1080, English): the minutes (Markdown) and spreadsheet (ODS) buttons of a
session and of its event download what they say, and the page does not overflow. Screenshots in
the test's folder (or PALABRE_SCREENSHOTS), looked at when written."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest
from support import chromium, open_poll, prepare, server, sqlite_url

pytestmark = [pytest.mark.browser, pytest.mark.server]
SIZES = (({"width": 360, "height": 640}, "fr-FR"), ({"width": 1920, "height": 1080}, "en-GB"))


def _answered(tmp_path) -> tuple:
    from live.polls import service as polls
    from live.sessions import service as sessions
    from live.store import Store

    setup = prepare(tmp_path / "palabre.db")
    open_poll(setup)
    store = Store(sqlite_url(setup.database))
    try:
        with store.write() as db:
            s = sessions.get_session(db, setup.session_id)
            poll = sessions.get_activity(db, s, setup.activity)
            for n in range(3):
                polls.vote(db, s, poll, sessions.join(db, s, f"phone-{n}"), setup.options[n % 2])
            polls.add_paper(db, s, poll, setup.options[2], 4, "facilitator")
            event_id = s.event_id
    finally:
        store.dispose()
    return setup, event_id


def _download(page, action: str, ods: bool) -> tuple[str, bytes]:
    form = page.locator(f"form[action$='{action}']")
    button = form.locator("button[formaction]" if ods else "button:not([formaction])")
    assert button.is_visible()
    with page.expect_download() as info:
        button.click()
    download = info.value
    return download.suggested_filename, Path(download.path()).read_bytes()


def test_minutes_and_spreadsheet_download_from_the_archive_page(tmp_path):
    setup, event_id = _answered(tmp_path)
    shots = Path(os.environ.get("PALABRE_SCREENSHOTS") or tmp_path)
    with server(setup.database) as srv, chromium() as browser:
        for viewport, locale in SIZES:
            page = browser.new_context(viewport=viewport, locale=locale, accept_downloads=True).new_page()
            page.goto(f"{srv.url}/admin/archive")
            assert page.evaluate("document.documentElement.scrollWidth <= innerWidth + 1")
            page.screenshot(path=str(shots / f"archive-page-{viewport['width']}.png"), full_page=True)
            for scope, ident in (("sessions", setup.session_id), ("events", event_id)):
                name, body = _download(page, f"/{scope}/{ident}/export.md", ods=False)
                text = body.decode("utf-8")
                assert name.endswith(".md") and "Which one?" in text and "| Pass |" in text, text
                name, body = _download(page, f"/{scope}/{ident}/export.md", ods=True)
                with zipfile.ZipFile(io.BytesIO(body)) as sheet:
                    assert sheet.read("mimetype") == b"application/vnd.oasis.opendocument.spreadsheet"
                    assert "Which one?" in sheet.read("content.xml").decode("utf-8")
                assert name.endswith(".ods")
            page.context.close()
