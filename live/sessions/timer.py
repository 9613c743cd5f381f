"""An activity's timer: started with a length, paused, resumed, a minute added, stopped.

The database keeps the deadline while the timer runs (`timer_ends_at`), never a countdown: a
restarted server, or another process, knows what is left. Paused, it keeps the seconds left
(`timer_left`). Clients count down by themselves from the deadline and the server's clock sent
with each snapshot (`now`), so a phone's clock that is off does not matter and the server pushes
nothing every second. With `timer_autoclose`, the activity closes itself at the deadline:
`expire`, called by the server's timer loop (`live/sessions/deadlines.py`), never by a client.
The states and transitions are in `live/sessions/lifecycle.py` (`TIMER_TRANSITIONS`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session as DB

from live import validation
from live.sessions import lifecycle, service
from live.sessions.model import Activity, LiveSession
from live.store import utcnow

ACTIONS = tuple(lifecycle.TIMER_TRANSITIONS)


def state(activity: Activity) -> str:
    """off, running (past its deadline too: it shows 0:00) or paused."""
    if activity.timer_ends_at is not None:
        return "running"
    if activity.timer_left is not None:
        return "paused"
    return "off"


def millis(moment: datetime) -> int:
    """A moment as milliseconds since the epoch (what browsers count in)."""
    return round(moment.timestamp() * 1000)


def view(activity: Activity) -> dict | None:
    """The timer as clients draw it (None when off): they count down from `ends_at`."""
    current = state(activity)
    if current == "off":
        return None
    ends_at = activity.timer_ends_at
    return {"state": current, "duration": activity.timer_duration,
            "ends_at": millis(ends_at) if ends_at is not None else None,
            "left": activity.timer_left, "autoclose": bool(activity.timer_autoclose)}


def left(activity: Activity, now: datetime) -> float:
    """Seconds left (0 once past the deadline)."""
    if activity.timer_ends_at is not None:
        return max(0.0, (activity.timer_ends_at - now).total_seconds())
    return activity.timer_left or 0.0


def command(db: DB, session: LiveSession, activity: Activity, action: object, seconds: object = None,
            autoclose: object = None, actor: str = "facilitator") -> None:
    """Start (with `seconds`; `autoclose`: close the activity at the deadline), pause, resume,
    add (a minute), or stop the timer of `activity`. Refused on an ended session."""
    lifecycle.require_active(session)
    # One timer command of an activity at a time: its row is read again under a lock held until
    # commit (PostgreSQL runs transactions at once: two "+1 min" read the same deadline, and one
    # minute was lost; SQLite has one writer and ignores FOR UPDATE).
    db.flush()
    db.refresh(activity, with_for_update=True)
    lifecycle.move(lifecycle.TIMER_TRANSITIONS, state(activity), action, lifecycle.TIMER_REFUSALS)
    now = utcnow()
    detail: dict = {}
    if action == "start":
        length = validation.timer_seconds(seconds)
        activity.timer_autoclose = validation.boolean(autoclose)
        activity.timer_duration, activity.timer_left = length, None
        activity.timer_ends_at = now + timedelta(seconds=length)
        detail = {"seconds": length, "autoclose": activity.timer_autoclose}
    elif action == "pause":
        activity.timer_left, activity.timer_ends_at = left(activity, now), None
    elif action == "resume":
        activity.timer_ends_at = now + timedelta(seconds=activity.timer_left or 0)
        activity.timer_left = None
    elif action == "add":
        _add(activity, now, validation.TIMER_ADD)
    else:
        clear(activity)
    # The activity's own version stays: what it shows has not changed (no phone redraws its
    # answer form); the session's version moves with the timeline entry.
    service.record(db, session, f"timer_{action}", actor, activity, **detail)


def _add(activity: Activity, now: datetime, seconds: int) -> None:
    activity.timer_duration = (activity.timer_duration or 0) + seconds
    if activity.timer_ends_at is not None:  # past its deadline: a minute from now
        activity.timer_ends_at = max(activity.timer_ends_at, now) + timedelta(seconds=seconds)
    else:
        activity.timer_left = (activity.timer_left or 0) + seconds


def clear(activity: Activity) -> None:
    """No timer any more (stopped; `service.reset` does the same)."""
    activity.timer_ends_at = activity.timer_left = activity.timer_duration = None
    activity.timer_autoclose = False


def due(db: DB, now: datetime) -> list[int]:
    """The activities whose timer has reached its deadline and must close them."""
    return list(db.scalars(select(Activity.id).join(LiveSession, Activity.session_id == LiveSession.id).where(
        Activity.timer_autoclose.is_(True), Activity.timer_ends_at <= now,
        LiveSession.state.in_(lifecycle.ACTIVE_SESSION_STATES))))


def expire(db: DB, activity_id: int, now: datetime) -> LiveSession | None:
    """Close an activity whose timer ended (once: its auto-close is then spent); its session if
    anything changed. Another process may have done it first: the row is read locked."""
    activity = db.scalars(select(Activity).where(Activity.id == activity_id).with_for_update()).first()
    if activity is None or not activity.timer_autoclose or activity.timer_ends_at is None \
            or activity.timer_ends_at > now or activity.session.state not in lifecycle.ACTIVE_SESSION_STATES:
        return None
    activity.timer_autoclose = False
    session = activity.session
    if activity.state == "open":
        service.close_activity(db, session, activity, "timer")
    else:
        service.record(db, session, "timer_ended", "timer", activity)
    return session
