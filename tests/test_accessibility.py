"""axe-core finds nothing on any page, in French and in English, on a phone and on a projector.

The real server (eventlet) serves a realistic event (tests/a11y.py: every kind of activity on
screen in turn, votes, words, ideas pending and published, questions answered, results revealed,
an ended session and its report, a purge job); real Chromium opens every page with the app's
Content-Security-Policy on, axe-core goes in through the DevTools protocol, and runs once the
live pages have drawn themselves from the server's snapshot. See docs/accessibility.md.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from a11y import PHONE, PROJECTOR, axe_report, describe, page_paths, seed
from support import chromium, goto_live, http_get, server

pytestmark = [pytest.mark.browser, pytest.mark.server]

LIVE_PAGES = ("console", "moderator", "screen-", "phone-")


@pytest.fixture(scope="module")
def event(tmp_path_factory):
    """The seeded event served by the real server, for the whole module."""
    database = tmp_path_factory.mktemp("a11y") / "palabre.db"
    made = seed(database)
    with server(database) as srv:
        # The report draws its charts once (2.5 s idle, over 30 s in a busy CI), then serves them
        # from its cache: drawn here, before the browsers' page loads are timed out.
        for lang in ("fr", "en"):
            status, _headers, _body = http_get(srv.url, page_paths(made, lang)["report"], timeout=120)
            assert status == 200
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
                page.goto(base + path, timeout=60000)
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


# --- Found when tried (issue 9, item 8): words and names ----------------------------------

def _open(browser, url: str, javascript: bool, viewport=PHONE):
    context = browser.new_context(viewport=viewport, java_script_enabled=javascript)
    page = context.new_page()
    if javascript and "/admin/" not in url:
        goto_live(page, url)
    else:
        page.goto(url)
    return context, page


HEADINGS = "els => els.map(e => e.textContent)"
ARIA_LABELS = "() => Array.from(document.querySelectorAll('[aria-label]'), e => e.getAttribute('aria-label'))"


@pytest.mark.parametrize("javascript", [True, False], ids=["script", "plain"])
def test_action_names_follow_the_pages_language(event, javascript):
    """A vote button is "Vote: <idea>" in English and "Voter : <idée>" in French: the space
    before the colon is French typography only (phone walls and Q&A, word-cloud moderation)."""
    srv, made = event
    names = {}
    with chromium() as browser:
        for lang in ("en", "fr"):
            paths = page_paths(made, lang)
            for name in ("phone-ideas", "phone-questions", "moderator"):
                context, page = _open(browser, srv.url + paths[name], javascript)
                names[lang, name] = page.evaluate(ARIA_LABELS)
                context.close()
    assert "Vote: Repair before replacing" in names["en", "phone-ideas"]
    assert "Upvote: Who pays for repairs?" in names["en", "phone-questions"]
    assert "Voter : Réparer avant de remplacer" in names["fr", "phone-ideas"]
    assert "Soutenir : Qui paie la réparation ?" in names["fr", "phone-questions"]
    assert "Hide: frugal" in names["en", "moderator"]
    assert "Masquer : sobre" in names["fr", "moderator"]
    english = [label for (lang, _page), labels in names.items() if lang == "en" for label in labels]
    assert [label for label in english if " :" in label] == []


@pytest.mark.parametrize("javascript", [True, False], ids=["script", "plain"])
def test_answered_questions_have_a_proper_heading(event, javascript):
    srv, made = event
    headings = {}
    with chromium() as browser:
        for lang in ("fr", "en"):
            for name in ("phone-questions", "screen-questions"):
                viewport = PHONE if name.startswith("phone") else PROJECTOR
                url = srv.url + page_paths(made, lang)[name]
                context, page = _open(browser, url, javascript, viewport)
                headings[lang, name] = page.eval_on_selector_all("h2, h3", HEADINGS)
                pill = page.locator(".pager")  # without JavaScript, the screen's pages are pages
                total = int(pill.inner_text().split("/")[1]) if not javascript and pill.count() else 1
                for number in range(2, total + 1):
                    page.goto(f"{url}{'&' if '?' in url else '?'}page={number}")
                    headings[lang, name] += page.eval_on_selector_all("h2, h3", HEADINGS)
                context.close()
    for name in ("phone-questions", "screen-questions"):
        assert "Questions répondues" in headings["fr", name], headings["fr", name]
        assert "Answered questions" in headings["en", name], headings["en", name]
        assert "Répondue" not in headings["fr", name]


FIT = """async (extra) => {
  const { boardScreenNode } = await import('/static/js/board-screen.js');
  const items = [];
  for (let i = 0; i < 8 + extra; i++) {
    items.push({ id: i + 1, text: 'Question numéro ' + i, votes: 0, answered: false });
  }
  const box = boardScreenNode({ id: 1, kind: 'questions', settings: {}, items: items });
  const note = box.querySelector('.qa-top .more-note');
  return note ? note.textContent : null;
}"""


def test_cards_left_out_are_counted_with_a_plural(event):
    """The screen's "+ n others" by the top questions of a Q&A, for those beyond the eight it
    shows: "+ 1 autre", "+ 2 autres" (it said "+ 1 autres")."""
    srv, made = event
    with chromium() as browser:
        notes = {}
        for lang in ("fr", "en"):
            context, page = _open(browser, srv.url + page_paths(made, lang)["screen-ideas"], True, PROJECTOR)
            notes[lang] = [page.evaluate(FIT, extra) for extra in (1, 2)]
            context.close()
    assert notes == {"fr": ["+ 1 autre", "+ 2 autres"], "en": ["+ 1 other", "+ 2 others"]}


def test_language_links_are_named_by_their_visible_text(event):
    srv, made = event
    with chromium() as browser:
        context, page = _open(browser, srv.url + page_paths(made, "fr")["phone-single"], True)
        links = page.eval_on_selector_all(".langs a", "els => els.map(e => [e.getAttribute('aria-label'),"
                                                      " e.textContent, e.firstChild.textContent])")
        named = [page.get_by_role("link", name=name, exact=True).count()
                 for name in ("FR Français", "EN English")]
        context.close()
    # The name (from the content: no aria-label) starts with the visible text, then the language.
    assert links == [[None, "FR Français", "FR"], [None, "EN English", "EN"]]
    assert named == [1, 1]


@pytest.mark.parametrize("javascript", [True, False], ids=["script", "plain"])
def test_scale_ends_are_punctuated_in_the_pages_language(event, javascript):
    srv, made = event
    ends = {}
    with chromium() as browser:
        for lang in ("en", "fr"):
            paths = page_paths(made, lang)
            context, page = _open(browser, srv.url + paths["phone-scale"], javascript)
            ends[lang, "phone"] = page.eval_on_selector_all(".scale-ends span", HEADINGS)
            context.close()
            context, page = _open(browser, srv.url + paths["screen-scale"], javascript, PROJECTOR)
            ends[lang, "screen"] = page.inner_text(".scale-line")
            context.close()
    assert ends == {("en", "phone"): ["1: Not at all", "5: Absolutely"],
                    ("en", "screen"): "1: Not at all … 5: Absolutely",
                    ("fr", "phone"): ["1 : Pas du tout", "5 : Tout à fait"],
                    ("fr", "screen"): "1 : Pas du tout … 5 : Tout à fait"}


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_axe_finds_no_violation_in_the_archives_documents(event, lang, tmp_path):
    """The event archive's synthesis.html and a session's report.html, opened from disk as an
    organiser would after unzipping (they carry their own CSP)."""
    srv, made = event
    status, _headers, body = http_get(srv.url, f"/admin/events/{made.events[lang]}/archive.zip?lang={lang}",
                                      timeout=120)
    assert status == 200
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        documents = {"synthesis.html": archive.read("synthesis.html")}
        inner = sorted(name for name in archive.namelist() if name.startswith("sessions/"))[0]
        with zipfile.ZipFile(io.BytesIO(archive.read(inner))) as session:
            documents["report.html"] = session.read("report.html")
    found = {}
    with chromium() as browser:
        page = browser.new_page(viewport=PROJECTOR)
        for name, content in documents.items():
            (tmp_path / name).write_bytes(content)
            page.goto((tmp_path / name).as_uri())
            assert page.evaluate("document.documentElement.lang") == lang
            if violations := axe_report(page)["violations"]:
                found[name] = describe(violations)
    assert not found, found
