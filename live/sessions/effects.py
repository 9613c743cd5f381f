"""What an operation changed, and the one function that tells the rooms about it.

An operation (`live.boards.operations`, `live.wordclouds.operations`...) runs inside a write
transaction and returns, besides its result, an `Effects`: whether what every room sees changed
(a snapshot push), which activities' live counts changed (coalesced pushes), which participants
must be told their own fresh view. Nothing is sent before the commit: then the door (a socket
handler or a form route) calls `apply(effects)`, the one place where changes become pushes. So
both doors send the same pushes for the same operation.

A kind of activity may add to what `apply` does: `on_counts(kind, fn)` (a word cloud renders
its image again), `on_tell(kind, fn)` (a board sends `board_mine` to each participant's room),
`on_command(kind, fn)` (a word cloud shown or opened starts its render workers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import flash

from live.errors import DomainError
from live.i18n import message
from live.sessions import push
from live.web import store

# kind -> what else to do when an activity's counts changed: (session_id, activity_id) -> None
_ON_COUNTS: dict[str, Callable[[int, int], None]] = {}
# kind -> how to tell participants their own view: (session_id, activity_id, people) -> None
_ON_TELL: dict[str, Callable[[int, int, set[int]], None]] = {}
# kind -> what to do when a facilitator command (show, open, reveal...) targeted an activity of
# this kind: (session_id, activity_id) -> None (a word cloud's render workers start now)
_ON_COMMAND: dict[str, Callable[[int, int], None]] = {}
# session part -> how to tell participants their own view of it: (session_id, people) -> None
_ON_TELL_PART: dict[str, Callable[[int, set[int]], None]] = {}


@dataclass
class Effects:
    """What one operation changed in one session (collected inside its transaction)."""

    session_id: int
    state: bool = False  # what rooms see changed: every room gets a fresh snapshot
    presence: bool = False  # a participant joined, connected or left: the counts are pushed (coalesced)
    counts: dict[int, str] = field(default_factory=dict)  # activity id -> kind: live counts changed
    tell: dict[int, tuple[str, set[int]]] = field(default_factory=dict)  # activity -> (kind, people)
    parts: set[str] = field(default_factory=set)  # session parts changed (`views.register_part`)
    told: dict[str, set[int]] = field(default_factory=dict)  # session part -> participants to tell
    commanded: dict[int, str] = field(default_factory=dict)  # activity id -> kind: a command targeted it

    def changed_state(self) -> Effects:
        """Every room must get a fresh snapshot."""
        self.state = True
        return self

    def participant_joined(self) -> Effects:
        """A new participant joined the session."""
        self.presence = True
        return self

    def presence_changed(self) -> Effects:
        """A participant's socket connected or disconnected: the counts are pushed (coalesced)."""
        self.presence = True
        return self

    def changed_pulse(self) -> Effects:
        """The room's pulse changed: its summary is pushed to the staff rooms (coalesced)."""
        self.parts.add("pulse")
        return self

    def tell_part(self, name: str, people) -> Effects:
        """These participants' own view of a session part changed (a raised hand's place)."""
        self.told.setdefault(name, set()).update(people)
        return self

    def changed_queue(self) -> Effects:
        """The join line changed (live/sessions/admission.py): the console's figures are pushed."""
        self.parts.add("admission")
        return self

    def changed_counts(self, activity) -> Effects:
        """The live counts of `activity` changed (pushed coalesced)."""
        self.counts[activity.id] = activity.kind
        return self

    def command_on(self, activity) -> Effects:
        """A facilitator command (show, open, reveal...) targeted `activity`."""
        self.commanded[activity.id] = activity.kind
        return self

    def tell_participants(self, activity, people) -> Effects:
        """These participants' own view of `activity` changed (their items, their dots...)."""
        kind, known = self.tell.setdefault(activity.id, (activity.kind, set()))
        known.update(people)
        return self

    def as_dict(self) -> dict:
        """A plain description (tests compare the two doors with it)."""
        return {"state": self.state, "presence": self.presence, "counts": sorted(self.counts),
                "tell": {activity: sorted(people) for activity, (_kind, people) in self.tell.items()},
                "parts": sorted(self.parts), "told": {name: sorted(p) for name, p in self.told.items()}}


def on_counts(kind: str, fn: Callable[[int, int], None]) -> None:
    """Register what else happens when the counts of an activity of `kind` change."""
    _ON_COUNTS[kind] = fn


def on_tell(kind: str, fn: Callable[[int, int, set[int]], None]) -> None:
    """Register how participants of an activity of `kind` are told their own view."""
    _ON_TELL[kind] = fn


def on_command(kind: str, fn: Callable[[int, int], None]) -> None:
    """Register what else happens when a facilitator command targets an activity of `kind`."""
    _ON_COMMAND[kind] = fn


def on_tell_part(name: str, fn: Callable[[int, set[int]], None]) -> None:
    """Register how participants are told their own view of the session part `name`."""
    _ON_TELL_PART[name] = fn


def apply(effects: Effects | None) -> None:
    """Turn what changed into pushes (after the commit; the only place that does)."""
    if effects is None:
        return
    session_id = effects.session_id
    if effects.state or effects.counts or effects.parts:
        push.shared_changed(session_id)  # the phones' shared snapshot is built anew
    if effects.state:
        push.push_state(session_id)
    if effects.presence:
        push.mark_presence(session_id)
    for name in effects.parts:
        push.mark_part(session_id, name)
    for name, people in effects.told.items():
        if people and name in _ON_TELL_PART:
            _ON_TELL_PART[name](session_id, people)
    for activity_id, kind in effects.counts.items():
        push.mark_dirty(session_id, activity_id)
        if kind in _ON_COUNTS:
            _ON_COUNTS[kind](session_id, activity_id)
    for activity_id, (kind, people) in effects.tell.items():
        if people and kind in _ON_TELL:
            _ON_TELL[kind](session_id, activity_id, people)
    for activity_id, kind in effects.commanded.items():
        if kind in _ON_COMMAND:
            _ON_COMMAND[kind](session_id, activity_id)


def write_and_apply(fn: Callable) -> tuple[object, Effects | None, DomainError | None]:
    """The form door: run `fn(db) -> (result, effects)` in one write, then apply the effects.

    Returns (result, effects, None), or (None, None, the DomainError) when refused (nothing
    stored, nothing pushed). A refusal that still wrote something (a moderation log's trace)
    comes back as the result's business; its effects are applied all the same.
    """
    try:
        with store().write() as db:
            result, effects = fn(db)
    except DomainError as exc:
        return None, None, exc
    apply(effects)
    return result, effects, None


def write_or_flash(fn: Callable):
    """`write_and_apply`, flashing a refusal in the user's language; the result or None."""
    result, _effects, problem = write_and_apply(fn)
    if problem is not None:
        flash(message(problem.code, **problem.params), "error")
        return None
    return result
