"""Open exports: the minutes (Markdown) and the spreadsheet (ODS, one sheet per activity) of a
session with every kind, downloaded from the organiser's archive page; hostile texts stay text."""

from __future__ import annotations

import io
import re

from archive_helpers import seed_every_kind

from live.archive.csvsafe import is_formula
from live.polls import service as polls
from live.sessions import service as sessions

HOSTILE_OPTIONS = ["=HYPERLINK(\"http://example.invalid\",\"x\")", "a | b | c",
                   "**gras** <b>x</b> [lien](http://e.invalid)"]
HOSTILE_IDEA = "Une idée | avec tube\net saut de ligne # titre <script>alert(1)</script>"


def _seed(store, live) -> int:
    from live.boards import service as boards

    ids = seed_every_kind(store, live["id"], people=8, end=False)
    with store.write() as db:
        s = sessions.get_session(db, live["id"])
        poll = polls.add_poll(db, s, "single", "| Question | piège\n# ?", HOSTILE_OPTIONS)
        sessions.open_activity(db, s, poll, "facilitator")
        person = sessions.join(db, s, "device-hostile")
        polls.vote(db, s, poll, person, [polls.options_of(db, poll)[1].id])
        wall = sessions.get_activity(db, s, ids["ideas"])
        idea = boards.post(db, s, wall, person, HOSTILE_IDEA, column=0)
        boards.moderate(db, s, wall, "approve", [{"id": idea.id, "version": idea.version}], "moderator")
        sessions.end_session(db, s, "facilitator")
    return len(sessions_of(store, live))


def sessions_of(store, live):
    with store.read() as db:
        return list(sessions.get_session(db, live["id"]).activities)


def _table_rows(markdown: str) -> list[list[str]]:
    """Cells of every Markdown table row, split on unescaped pipes."""
    rows = []
    for line in markdown.splitlines():
        if line.startswith("|") and not line.startswith("| ---") and not set(line) <= set("|- "):
            rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


def test_minutes_in_markdown_have_every_activity_and_stay_plain_text(client, store, live):
    count = _seed(store, live)
    response = client.post(f"/admin/archive/sessions/{live['id']}/export.md")
    assert response.status_code == 200 and response.mimetype == "text/markdown"
    assert response.headers["Content-Disposition"].endswith('.md"')
    text = response.get_data(as_text=True)
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert len(headings) == count and headings[0].startswith("## 1\\. ")
    assert "## 4\\. Quels formats ?" in text
    rows = _table_rows(text)
    for block in re.split(r"\n(?!\|)[^\n]*\n", text):  # every row of a table: as many cells as its header
        widths = {len(r) for r in _table_rows(block)}
        assert len(widths) <= 1, block
    # hostile texts: one cell each, escaped, never markup nor a formula
    assert "a \\| b \\| c" in text and "<script>" not in text and "<b>" not in text
    assert "\\*\\*gras\\*\\*" in text and "\\[lien\\]" in text
    assert "'=HYPERLINK" in text
    assert "saut de ligne \\# titre" in text  # the line break is a space: still one table row
    idea_rows = [r for r in rows if any("Une idée" in c for c in r)]
    assert len(idea_rows) == 1 and len(idea_rows[0]) == len(rows[rows.index(idea_rows[0]) - 1])
    # results as tables: the ranked ideas, most supported first; the word cloud's words
    assert "Mutualiser les serveurs des communes" in text and "sobriété" in text.lower()


def test_the_spreadsheet_has_one_sheet_per_activity_and_no_formula(client, store, live):
    from odf.opendocument import load
    from odf.table import Table, TableCell
    from odf.text import P

    count = _seed(store, live)
    response = client.post(f"/admin/archive/sessions/{live['id']}/export.ods")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.oasis.opendocument.spreadsheet"
    book = load(io.BytesIO(response.data))
    sheets = book.spreadsheet.getElementsByType(Table)
    assert len(sheets) == count
    assert [s.getAttribute("name") for s in sheets][:2] == ["01-poll", "02-poll"]
    texts, formulas = [], 0
    for sheet in sheets:
        for cell in sheet.getElementsByType(TableCell):
            formulas += bool(cell.getAttribute("formula"))
            texts += ["".join(str(n) for n in p.childNodes) for p in cell.getElementsByType(P)]
    assert formulas == 0
    assert not [t for t in texts if is_formula(t)]
    assert "'=HYPERLINK(\"http://example.invalid\",\"x\")" in texts and "a | b | c" in texts
    assert any(t.startswith("Une idée | avec tube") for t in texts)
    first = sheets[0]
    numbers = [c for c in first.getElementsByType(TableCell) if c.getAttribute("valuetype") == "float"]
    assert numbers, "counts are numbers in the spreadsheet, not text"


def test_the_event_exports_every_session_and_the_archive_page_offers_them(client, store, live):
    _seed(store, live)
    with store.read() as db:
        event_id = sessions.get_session(db, live["id"]).event_id
    page = client.get("/admin/archive").get_data(as_text=True)
    assert f"/admin/archive/sessions/{live['id']}/export.md" in page
    assert f"/admin/archive/events/{event_id}/export.ods" in page
    minutes = client.post(f"/admin/archive/events/{event_id}/export.md").get_data(as_text=True)
    assert minutes.startswith("# Human Tech Days") and "\n## Table ronde" in minutes
    assert client.post(f"/admin/archive/events/{event_id}/export.ods").status_code == 200
    assert client.post(f"/admin/archive/sessions/{live['id']}/export.pdf").status_code == 404
    assert client.post("/admin/archive/sessions/9999/export.md").status_code == 404
