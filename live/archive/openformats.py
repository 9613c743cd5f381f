"""Open exports beside the ZIP: the minutes of a session (or an event) as Markdown, and its tables
as an OpenDocument spreadsheet (.ods, one sheet per activity, written with odfpy).

Both come from the archive's document (`session_document`) and its tables (each kind's
`ArchiveKind.tables`, the CSVs' own), in the session's language. Every text cell is neutralised
as in the CSVs (`csvsafe.neutralise`: a leading `'` before what a spreadsheet would run as a
formula); in Markdown every punctuation mark that could make markup (`|`, `*`, `#`, `<`, `[`...)
is escaped and line breaks become spaces, so a hostile text stays one table cell of plain text.
"""

from __future__ import annotations

import io
import re

from live.archive import kinds, report
from live.archive import pulse as archived_pulse
from live.archive.csvsafe import neutralise
from live.archive.export import activity_stem, slug
from live.archive.labels import labels_for

# What makes markup inside a line (emphasis, code, links, images, HTML, entities, headings,
# table cells); CommonMark lets a backslash escape each. A line never starts with a text here
# (headings and list items have their own prefix), so block markers (-, +, 1.) stay as typed.
_MARKUP = re.compile(r"([\\`*_\[\]<>|~#&!])")
SHEET_NAME = re.compile(r"[\[\]*?:/\\']")


def md_text(value: object) -> str:
    """One table cell or heading of Markdown: plain text whatever it holds."""
    if value is None:
        return ""
    if isinstance(value, bool | int):
        return str(value)
    text = " ".join(str(neutralise(value)).split())  # line breaks, tabs: one space
    return _MARKUP.sub(r"\\\1", text)


def _md_table(header: list, rows: list) -> list[str]:
    lines = ["| " + " | ".join(md_text(h) for h in header) + " |",
             "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(md_text(c) for c in row) + " |" for row in rows]
    return lines


def _activity_md(activity: dict, labels: dict, level: int) -> list[str]:
    number = activity["ref"][1:]
    kind = labels.get(activity["kind"], activity["kind"])
    kind += f" · {labels.get(activity['type'], activity['type'])}" if activity.get("type") else ""
    answers = (activity.get("results") or {}).get("total") or 0
    lines = ["", f"{'#' * level} {number}\\. {md_text(activity['prompt'])}", "",
             f"*{md_text(kind)} · {md_text(labels['answers_n'].format(n=answers))}*", ""]
    tables = kinds.part_for(activity["kind"]).tables(activity, labels)
    main = [t for t in tables if t.suffix in ("", "paper")]
    for table in main:
        if table.suffix == "paper":
            lines += ["", f"**{md_text(labels['paper_entries'])}**", ""]
        lines += _md_table(table.header, table.rows) if table.rows else [md_text(labels["no_answers"])]
    mean = (activity.get("results") or {}).get("mean")
    if activity.get("type") == "scale" and mean is not None:
        lines += ["", f"{md_text(labels['mean_is'])} {md_text(round(mean, 2))}"]
    return lines


def _when(value: str | None) -> str | None:
    return f"{report.when(value)} (UTC)" if value else None


def session_markdown(doc: dict, level: int = 1) -> str:
    """The minutes of a session: its facts, then each activity's question and results."""
    labels = labels_for(doc["session"]["locale"])
    session, event = doc["session"], doc.get("event") or {}
    lines = [f"{'#' * level} {md_text(session['title'])}", ""]
    facts = [(labels["event"], event.get("title")),
             (labels["place"], session.get("place") or event.get("place")),
             (labels["date"], session.get("date")), (labels["started"], _when(session.get("started_at"))),
             (labels["ended"], _when(session.get("ended_at"))),
             (labels["participants"], session.get("participant_count"))]
    lines += [f"- **{md_text(k)}**: {md_text(v)}" for k, v in facts if v not in (None, "")]
    for activity in doc["activities"]:
        lines += _activity_md(activity, labels, level + 1)
    lines += _pulse_md(doc, labels, level + 1)
    return "\n".join(lines) + "\n"


def _pulse_md(doc: dict, labels: dict, level: int) -> list[str]:
    """The room's pulse, when it was used: a section of its tables (`archived_pulse.tables`)."""
    tables = archived_pulse.tables(doc, labels)
    if not tables:
        return []
    from babel.numbers import format_decimal

    def number(value):  # the pace average written as the session's language writes it
        return format_decimal(value, "0.00", locale=doc["session"]["locale"]) \
            if isinstance(value, float) else value

    lines = ["", f"{'#' * level} {md_text(labels['pulse_title'])}"]
    for title, header, rows in tables:
        cells = [[number(v) for v in row] for row in rows]
        lines += ["", f"**{md_text(title)}**", ""] + _md_table(header, cells)
    return lines


def event_markdown(event_title: str, docs: list[dict]) -> str:
    """The minutes of an event: each session's, one heading level down."""
    parts = [f"# {md_text(event_title)}\n"] + [session_markdown(doc, level=2) for doc in docs]
    return "\n".join(parts)


def _cell(value: object):
    from odf.table import TableCell
    from odf.text import P

    if isinstance(value, bool):
        value = str(value).lower()
    if isinstance(value, int | float):
        cell = TableCell(valuetype="float", value=value)
        cell.addElement(P(text=str(value)))
        return cell
    cell = TableCell(valuetype="string")
    text = "" if value is None else str(neutralise(value))
    if text:
        cell.addElement(P(text=text))
    return cell


def _row(values: list):
    from odf.table import TableRow

    row = TableRow()
    for value in values:
        row.addElement(_cell(value))
    return row


def _sheet(name: str, activity: dict, labels: dict):
    from odf.table import Table

    sheet = Table(name=name)
    sheet.addElement(_row([activity["prompt"]]))
    for table in kinds.part_for(activity["kind"]).tables(activity, labels):
        sheet.addElement(_row([]))
        if table.suffix:
            sheet.addElement(_row([labels.get(table.suffix, table.suffix)]))
        sheet.addElement(_row(table.header))
        for values in table.rows:
            sheet.addElement(_row(values))
    return sheet


def _pulse_sheet(name: str, doc: dict, labels: dict):
    """The room's pulse as one sheet (its tables one under the other), or None when unused."""
    from odf.table import Table

    tables = archived_pulse.tables(doc, labels)
    if not tables:
        return None
    sheet = Table(name=name)
    sheet.addElement(_row([labels["pulse_title"]]))
    for title, header, rows in tables:
        for values in ([], [title], header, *rows):
            sheet.addElement(_row(values))
    return sheet


def _sheet_name(text: str, taken: set[str]) -> str:
    """A sheet name spreadsheets accept: at most 31 characters, none of []*?:/\\', unique."""
    name = SHEET_NAME.sub("-", text)[:31] or "sheet"
    base, n = name, 2
    while name in taken:
        name = f"{base[:27]}-{n}"
        n += 1
    taken.add(name)
    return name


def spreadsheet(docs: list[dict]) -> bytes:
    """An .ods with one sheet per activity of the sessions `docs` (event: prefixed S1, S2...)."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table

    book, taken = OpenDocumentSpreadsheet(), set()
    for index, doc in enumerate(docs, start=1):
        labels = labels_for(doc["session"]["locale"])
        prefix = f"S{index} " if len(docs) > 1 else ""
        for activity in doc["activities"]:
            name = _sheet_name(prefix + activity_stem(activity).rsplit("/", 1)[-1], taken)
            book.spreadsheet.addElement(_sheet(name, activity, labels))
        pulse = _pulse_sheet(_sheet_name(prefix + "pulse", taken), doc, labels)
        if pulse is not None:
            book.spreadsheet.addElement(pulse)
    if not book.spreadsheet.getElementsByType(Table):
        book.spreadsheet.addElement(_sheet_name_only("-", taken))
    out = io.BytesIO()
    book.write(out)
    return out.getvalue()


def _sheet_name_only(name: str, taken: set[str]):
    from odf.table import Table

    return Table(name=_sheet_name(name, taken))


def file_name(title: str, date: str | None, extension: str, event: bool = False) -> str:
    """palabre-2022-04-05-table-ronde.md (palabre-event-... for an event)."""
    return f"palabre-{'event-' if event else ''}{date or 'session'}-{slug(title)}.{extension}"
