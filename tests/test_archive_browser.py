"""report.html opened from disk in real Chromium: it loads nothing but itself and data: URIs."""

from __future__ import annotations

import pytest
from archive_helpers import seed_session, unzip
from support import chromium

from live.archive import export

pytestmark = pytest.mark.browser


def test_the_report_loads_no_external_resource(tmp_path, store, live):
    seed_session(store, live["id"], voters=8)
    with store.read() as db:
        files = unzip(export.session_zip(db, live["id"])[0])
    report = tmp_path / "report.html"
    report.write_bytes(files["report.html"])
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        requested, failed = [], []
        page.on("request", lambda r: requested.append(r.url))
        page.on("requestfailed", lambda r: failed.append(r.url))
        page.goto(report.as_uri())
        page.wait_for_load_state("load")
        images = page.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
        pdf = page.pdf(format="A4")
    assert [u for u in requested if not u.startswith(("file:", "data:"))] == []
    assert failed == []
    assert len(images) == 5 and all(width > 0 for width in images)
    assert pdf.startswith(b"%PDF")
