"""axe-core finds nothing on any page, in French and in English, on a phone and on a projector.

The real server (eventlet) serves a realistic event (tests/a11y.py: every kind of activity on
screen in turn, votes, words, ideas pending and published, questions answered, results revealed,
an ended session and its report, a purge job); real Chromium opens every page with the app's
Content-Security-Policy on, axe-core goes in through the DevTools protocol, and runs once the
live pages have drawn themselves from the server's snapshot. See docs/accessibility.md.
"""

from __future__ import annotations

import pytest
from a11y import PHONE, PROJECTOR, axe_report, describe, page_paths, seed
from support import chromium, goto_live, server

pytestmark = [pytest.mark.browser, pytest.mark.server]

LIVE_PAGES = ("console", "moderator", "screen-", "phone-")


@pytest.fixture(scope="module")
def event(tmp_path_factory):
    """The seeded event served by the real server, for the whole module."""
    database = tmp_path_factory.mktemp("a11y") / "palabre.db"
    made = seed(database)
    with server(database, "eventlet") as srv:
        yield srv, made


def _is_live(name: str) -> bool:
    return name.startswith(LIVE_PAGES) and name not in ("phone-ended", "screen-ended")


def _check_pages(browser, base: str, paths: dict[str, str], viewport: dict) -> dict[str, list]:
    """Every page in one browser context (a phone or a projector); the violations per page."""
    context = browser.new_context(viewport=viewport)
    found = {}
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
        for name, path in paths.items():
            if _is_live(name):
                goto_live(page, base + path)
                page.wait_for_load_state("load")
            else:
                page.goto(base + path)
            report = axe_report(page)
            assert report["passes"] > 5
            if report["violations"]:
                found[name] = report["violations"]
        assert not errors, errors
    finally:
        context.close()
    return found


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("size", ["phone", "projector"])
def test_axe_finds_no_violation_on_any_page(event, lang, size):
    srv, made = event
    paths = page_paths(made, lang)
    with chromium() as browser:
        found = _check_pages(browser, srv.url, paths, PHONE if size == "phone" else PROJECTOR)
    report = "\n".join(f"{name} ({paths[name]}):\n{describe(violations)}"
                       for name, violations in found.items())
    print(f"\n{len(paths)} pages checked ({lang}, {size})")
    assert not found, f"axe violations ({lang}, {size}):\n{report}"


def test_axe_is_really_injected_and_reports(event):
    """The harness would see a violation: the page's CSP is on (inline scripts refused), and an
    image without a text alternative, added to a real page, is reported."""
    srv, made = event
    paths = page_paths(made, "en")
    with chromium() as browser:
        page = browser.new_page(viewport=PHONE)
        response = page.goto(srv.url + paths["home"])
        assert "script-src 'self'" in response.headers["content-security-policy"]
        clean = axe_report(page)
        page.evaluate("""() => { const s = document.createElement('script');
                         s.textContent = 'window.inlineRan = true'; document.body.appendChild(s);
                         const img = document.createElement('img'); img.src = 'data:,';
                         document.querySelector('main').appendChild(img); }""")
        assert page.evaluate("window.inlineRan === undefined"), "the CSP should refuse inline scripts"
        dirty = axe_report(page)
    assert clean["violations"] == []
    assert "image-alt" in [v["id"] for v in dirty["violations"]]
