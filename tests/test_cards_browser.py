"""The organiser's cards and codes in real Chromium, at phone (360x640, French) and desktop
(1920x1080, English) sizes: the table card printed with the venue's Wi-Fi (the PDF rendered to
PNG, both QR codes read back), codes issued and one revoked through the page's own forms, the
sheet of unused codes printed. Screenshots and PNGs in the test's folder (or
PALABRE_SCREENSHOTS), looked at when written."""

from __future__ import annotations

import os
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp
from support import chromium, playwright_or_skip, prepare, server

expect = playwright_or_skip().expect
pytestmark = [pytest.mark.browser, pytest.mark.server]
SIZES = (({"width": 360, "height": 640}, "fr", "Imprimer le chevalet de table (PDF)", "Émettre des codes",
          "Révoquer", 3, "Codes émis : 3 (utilisés : 0, inutilisés : 2, révoqués : 1)."),
         ({"width": 1920, "height": 1080}, "en", "Print the table card (PDF)", "Issue codes",
          "Revoke", 6, "6 issued: 0 used, 4 unused, 2 revoked."))


def _pdf_from(page, opener: str, clicked) -> bytes:
    """The PDF a form or link (`opener`, which opens it in a new tab) gets from the server when
    `clicked` is clicked: here in the same tab, the request the browser makes (its cookies, its
    form and CSRF token) passed through a route that keeps the server's bytes."""
    bodies: list[bytes] = []

    def keep(route):
        response = route.fetch()
        assert response.status == 200 and response.headers["content-type"] == "application/pdf"
        bodies.append(response.body())
        route.fulfill(response=response)

    page.route("**/*.pdf", keep)
    page.locator(opener).evaluate("el => el.removeAttribute('target')")
    with page.expect_response(lambda r: r.url.split("?")[0].endswith(".pdf")):
        clicked.click()
    page.unroute("**/*.pdf")
    page.go_back()
    assert len(bodies) == 1
    return bodies[0]


def test_the_organiser_prints_cards_and_manages_codes_in_a_browser(tmp_path):
    setup = prepare(tmp_path / "palabre.db")
    shots = Path(os.environ.get("PALABRE_SCREENSHOTS") or tmp_path)
    with server(setup.database) as srv, chromium() as browser:
        for viewport, lang, print_card, issue, revoke, rows, counts in SIZES:
            page = browser.new_context(viewport=viewport, accept_downloads=True).new_page()
            page.goto(f"{srv.url}/admin/sessions/{setup.session_id}?lang={lang}")
            page.fill("#card-ssid", "Salle B")
            page.fill("#card-password", "s3cr3t;pass")
            card = _pdf_from(page, "form[target]", page.get_by_role("button", name=print_card))
            image = pdfium.PdfDocument(card)[0].render(scale=2).to_pil()
            image.save(shots / f"card-{lang}.png")
            found = {code.text for code in zxingcpp.read_barcodes(image)}
            assert f"{srv.url}/j/{setup.code}" in found and "WIFI:T:WPA;S:Salle B;P:s3cr3t\\;pass;;" in found

            page.fill("#code-count", "3")
            page.get_by_role("button", name=issue).click()
            expect(page.locator("table.codes tbody tr")).to_have_count(rows)
            page.locator("table.codes tbody tr").get_by_role("button", name=revoke).first.click()
            expect(page.locator("#codes-title ~ p").nth(1)).to_contain_text(counts)
            assert page.evaluate("document.documentElement.scrollWidth <= innerWidth + 1")
            page.screenshot(path=str(shots / f"organiser-codes-{viewport['width']}.png"), full_page=True)
            sheet = _pdf_from(page, "#codes-title ~ p a", page.locator("#codes-title ~ p a"))
            document = pdfium.PdfDocument(sheet)
            document[0].render(scale=1.2).to_pil().save(shots / f"codes-{lang}.png")
            text = document[0].get_textpage().get_text_bounded()
            printed = [row for row in page.locator("table.codes tbody tr td.code").all_inner_texts()]
            assert sum(code.replace("-", "")[:4] in text for code in printed) >= 2
            page.context.close()
