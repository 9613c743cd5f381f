"""The registry of activity kinds: each feature registers how to view, count and reset its own.

This keeps `live.sessions` (agenda, lifecycle, snapshots) free of imports from the features
built on top of it (polls, word clouds, boards).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session as DB


@dataclass(frozen=True)
class KindHooks:
    """What a feature tells the agenda about its activity kind."""

    # (db, activity, include_results) -> dict merged into the activity's public view.
    view: Callable[[DB, object, bool], dict]
    # (db, activity) -> dict of live aggregates (counts, results) for screens and facilitators.
    results: Callable[[DB, object], dict]
    # (db, activity, participant_id) -> what this participant has answered, or None.
    mine: Callable[[DB, object, int], object]
    # (db, activity) -> None: delete every answer (reset).
    reset: Callable[[DB, object], None]
    # (db, activity) -> int: how many participants answered.
    answer_count: Callable[[DB, object], int]


_KINDS: dict[str, KindHooks] = {}


def register(kind: str, hooks: KindHooks) -> None:
    """Declare how the agenda handles activities of `kind`."""
    _KINDS[kind] = hooks


def hooks_for(kind: str) -> KindHooks:
    """The hooks of a registered kind."""
    return _KINDS[kind]


def registered() -> tuple[str, ...]:
    """The kinds available in this build."""
    return tuple(_KINDS)
