"""The registry of activity kinds: each feature registers how to view, count and reset its own.

This keeps `live.sessions` (agenda, lifecycle, snapshots) free of imports from the features
built on top of it (polls, word clouds, boards).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

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
    # Facilitator commands of this kind only (e.g. a word cloud's freeze), by name:
    # (db, session, activity, actor) -> None. `live.sessions.service.apply_command` runs them.
    commands: Mapping[str, Callable[[DB, object, object, str], None]] = field(default_factory=dict)
    # (db, activity) -> dict of counts anyone may see, even with results hidden (e.g. entries);
    # merged into the activity's view and into its live aggregates.
    counts: Callable[[DB, object], dict] | None = None
    # (db, activity, include_results, role) -> dict: used instead of `view` when a kind's view
    # depends on who looks (e.g. a board's wall is projected while phones see only the prompt).
    view_for_role: Callable[[DB, object, bool, str], dict] | None = None


_KINDS: dict[str, KindHooks] = {}


def register(kind: str, hooks: KindHooks) -> None:
    """Declare how the agenda handles activities of `kind`."""
    _KINDS[kind] = hooks


def hooks_for(kind: str) -> KindHooks:
    """The hooks of a registered kind."""
    return _KINDS[kind]


def kind_commands() -> set[str]:
    """The names of every kind-specific command."""
    return {name for hooks in _KINDS.values() for name in hooks.commands}


def registered() -> tuple[str, ...]:
    """The kinds available in this build."""
    return tuple(_KINDS)
