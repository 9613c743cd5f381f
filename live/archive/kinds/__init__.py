"""How each activity kind enters and leaves an archive.

Why a registry here rather than an `export` hook on `live.activities.KindHooks`: an archive
part is more than one function (the JSON part, its CSV tables, its charts, its report
section, its import and its purge), and all of it is the archive's format — one contract,
described by one JSON Schema in docs/. Keeping it in `live/archive/` keeps that contract in
one place, needs no change in the features (the archive reads their services and tables,
the layering goes downwards), and a kind that has no part yet is still archived through
`generic`: its settings, lifecycle and the live results of its `KindHooks.results`.

Everything after `export` works on the document (session.json), never on the database:
CSVs, charts and the report of an imported or purged session come out exactly as those of
a live one.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import DateTime, delete, insert, select, type_coerce
from sqlalchemy.orm import Session as DB


@dataclass
class Refs:
    """Pseudonymous references of one archive: participant ids → "p1", "p2"..."""

    participants: dict[int, str] = field(default_factory=dict)

    def participant(self, participant_id: int | None) -> str | None:
        """The pseudonym of a participant (None for none or unknown)."""
        return self.participants.get(participant_id) if participant_id is not None else None


@dataclass
class Table:
    """One CSV file: a name suffix ("" for the main table), a header and rows."""

    suffix: str
    header: list[str]
    rows: list[list[object]]


@dataclass(frozen=True)
class ArchiveKind:
    """What one activity kind contributes to archives."""

    # (db, activity, refs) -> kind-specific fields of the activity, including "results".
    export: Callable[[DB, object, Refs], dict]
    # (activity document, labels) -> the CSV tables of the activity.
    tables: Callable[[dict, dict], list[Table]]
    # (activity document, labels) -> chart specs for live.render.charts (may be empty).
    charts: Callable[[dict, dict], list[dict]] = lambda doc, labels: []
    # (db, activity, activity document, participant ids by pseudonym) -> recreate the answers.
    import_: Callable[[DB, object, dict, dict], None] | None = None
    # (db, activity, limit) -> drop or detach at most `limit` participant-level rows and say how
    # many (0: nothing left); called until it returns 0, one short transaction each time
    # (aggregates are frozen before this runs).
    purge: Callable[[DB, object, int], int] | None = None
    # (activity document) -> a document without participant-level rows.
    strip: Callable[[dict], dict] = lambda doc: doc
    # Per-participant timestamps ("answered at") for the participation chart: one per participant
    # counted in `results.total`, so the chart adds up to the report's answers.
    answer_times: Callable[[dict], list[str]] = lambda doc: []


def stored_utc(column):
    """A timestamp column read as stored: naive UTC, for `time_text` (skips making 10^5 of them aware)."""
    return type_coerce(column, DateTime()).label(column.key)


# Rows written per statement on import. An import in the worker commits after each batch
# (`Session.info["checkpoint"]`), so that no transaction holds the database for long (2,000
# rows: about 20 milliseconds).
BATCH_ROWS = 2000


def insert_rows(db: DB, table, rows: list[dict], returning=None) -> list:
    """Insert `rows` in batches of BATCH_ROWS (Core inserts: no ORM work per row); with
    `returning` (a column), its values in the order of `rows`."""
    out: list = []
    target = getattr(table, "__table__", table)
    checkpoint = db.info.get("checkpoint")
    for start in range(0, len(rows), BATCH_ROWS):
        part = rows[start:start + BATCH_ROWS]
        if returning is not None:
            out.extend(db.scalars(insert(target).returning(returning, sort_by_parameter_order=True), part))
        else:
            db.execute(insert(target), part)
        if checkpoint is not None:
            checkpoint(len(part))
    return out


_KINDS: dict[str, ArchiveKind] = {}
# Modules that register an archive part; imported lazily (a missing feature is skipped).
KIND_MODULES = ("live.archive.kinds.poll", "live.archive.kinds.wordcloud", "live.archive.kinds.boards")


def delete_some(db: DB, model, activity_id: int, limit: int) -> int:
    """Delete up to `limit` rows of `model` belonging to the activity (one purge batch); how many."""
    ids = list(db.scalars(select(model.id).where(model.activity_id == activity_id).limit(limit)))
    if ids:
        db.execute(delete(model).where(model.id.in_(ids)))
    return len(ids)


def register(kind: str, part: ArchiveKind) -> None:
    """Declare the archive part of an activity kind."""
    _KINDS[kind] = part


def load() -> None:
    """Import every kind module whose feature exists in this build."""
    for name in KIND_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if not (exc.name or "").startswith("live."):
                raise


def part_for(kind: str) -> ArchiveKind:
    """The archive part of `kind`, or the generic one."""
    load()
    return _KINDS.get(kind, GENERIC)


def _generic_export(db: DB, activity, refs: Refs) -> dict:
    from live import activities

    try:
        results = activities.hooks_for(activity.kind).results(db, activity)
    except KeyError:
        results = {}
    return {"results": _jsonable(results)}


def _jsonable(value):
    import json

    return json.loads(json.dumps(value, default=str))


def _generic_tables(doc: dict, labels: dict) -> list[Table]:
    import json

    results = doc.get("results") or {}
    return [Table("", [labels["field"], labels["value"]],
                  [[key, json.dumps(value, ensure_ascii=False)] for key, value in results.items()])]


GENERIC = ArchiveKind(export=_generic_export, tables=_generic_tables)
