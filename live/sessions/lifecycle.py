"""The lifecycles of sessions and activities: their states and allowed transitions, in one place.

A session is `draft` until something is shown or opened (`start` makes it `live`), then `ended`
for good. An activity is `draft`, then `open` (answers accepted), `closed` (kept, may be
reopened); `reset` deletes its answers and puts it back to `draft`. Whether its results are
revealed is a separate flag; a draft whose results were revealed may be reset (to hide them).

Services ask `session_move` / `activity_move` for the state an action leads to; an action not
allowed from the current state raises the `DomainError` of `REFUSALS` (a message in the
user's language, `live/i18n.py`). The database refuses any other state (CHECK constraints,
`live/sessions/model.py`).
"""

from __future__ import annotations

from live.errors import DomainError

SESSION_STATES = ("draft", "live", "ended")
ACTIVITY_STATES = ("draft", "open", "closed")
# The lifecycle state of a draft activity whose results were revealed (stored as "draft").
REVEALED_DRAFT = "draft+revealed"

# action -> {state it may start from: state it leads to}
SESSION_TRANSITIONS: dict[str, dict[str, str]] = {
    "start": {"draft": "live"},
    "end": {"draft": "ended", "live": "ended"},
}
ACTIVITY_TRANSITIONS: dict[str, dict[str, str]] = {
    "open": {"draft": "open", REVEALED_DRAFT: "open", "closed": "open"},
    "close": {"open": "closed"},
    "reset": {"open": "draft", "closed": "draft", REVEALED_DRAFT: "draft"},
}
# The error of an action refused from the current state.
REFUSALS = {
    "start": "session_ended",
    "end": "session_ended",
    "open": "already_open",
    "close": "not_open",
    "reset": "nothing_to_reset",
}
# An activity's timer (live/sessions/timer.py): off, running (a deadline is stored; past it, the
# timer shows 0:00 until stopped or started again) or paused (the seconds left are stored).
TIMER_STATES = ("off", "running", "paused")
TIMER_TRANSITIONS: dict[str, dict[str, str]] = {
    "start": {"off": "running", "running": "running", "paused": "running"},
    "pause": {"running": "paused"},
    "resume": {"paused": "running"},
    "add": {"running": "running", "paused": "paused"},
    "stop": {"running": "off", "paused": "off"},
}
TIMER_REFUSALS = {"pause": "timer_not_running", "resume": "timer_not_paused", "add": "no_timer",
                  "stop": "no_timer"}
# Sessions whose agenda may still be changed and driven (shown, opened, reset...).
ACTIVE_SESSION_STATES = ("draft", "live")


def move(transitions: dict[str, dict[str, str]], state: str, action: str,
         refusals: dict[str, str] = REFUSALS) -> str:
    """The state `action` leads to from `state`, or the action's DomainError."""
    allowed = transitions.get(action) if isinstance(action, str) else None
    if allowed is None:
        raise DomainError("bad_command")
    if state not in allowed:
        raise DomainError(refusals[action])
    return allowed[state]


def can(transitions: dict[str, dict[str, str]], state: str, action: str) -> bool:
    """Whether `action` is allowed from `state`."""
    return state in transitions.get(action, {})


def activity_state(activity) -> str:
    """An activity's lifecycle state: its stored state, or REVEALED_DRAFT."""
    if activity.state == "draft" and activity.revealed:
        return REVEALED_DRAFT
    return activity.state


def session_move(session, action: str) -> str:
    """The state a session goes to on `action` (start, end), or the DomainError."""
    return move(SESSION_TRANSITIONS, session.state, action)


def activity_move(activity, action: str) -> str:
    """The state an activity goes to on `action` (open, close, reset), or the DomainError."""
    return move(ACTIVITY_TRANSITIONS, activity_state(activity), action)


def require_active(session) -> None:
    """Refuse to drive the activities of an ended session."""
    if session.state not in ACTIVE_SESSION_STATES:
        raise DomainError("session_ended")


def check_constraint(column: str, states: tuple[str, ...]) -> str:
    """The SQL of the CHECK constraint that keeps `column` within `states`."""
    return f"{column} IN ({', '.join(repr(state) for state in states)})"
