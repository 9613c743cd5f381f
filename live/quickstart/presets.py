"""Ready-made activities (yes/no, a 1-5 scale, A/B/C/D, a word cloud, a Q&A) and a session
started now. No Flask, no sockets: the texts come in the session's language from the caller."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session as DB

from live.boards import service as boards
from live.errors import DomainError
from live.polls import service as polls
from live.sessions import service as sessions
from live.sessions.model import Activity, Event, LiveSession
from live.wordclouds import service as clouds


@dataclass(frozen=True)
class Preset:
    """One ready-made activity: its kind (and poll type), and which of its texts are translated."""

    kind: str
    poll_type: str | None = None
    options: tuple[str, ...] = ()  # translation keys (see TEXTS), or labels kept as they are
    settings: dict = field(default_factory=dict)


# The order of the console's buttons.
PRESETS = {
    "yesno": Preset("poll", "single", ("yes", "no")),
    "scale": Preset("poll", "scale", settings={"scale_max": 5, "label_low": "not_at_all",
                                                "label_high": "completely"}),
    "abcd": Preset("poll", "single", ("A", "B", "C", "D")),
    "word": Preset("wordcloud"),
    "questions": Preset("questions"),
}


def add_preset(db: DB, session: LiveSession, name: object, prompt: object, texts: dict[str, str],
               launch: bool) -> Activity:
    """Append a ready-made activity (its default prompt when `prompt` is blank); with `launch`,
    put it on screen and open it at once. `texts`: the preset's words in the session's language
    (keys: each preset's name for its default prompt, and the option keys)."""
    preset = PRESETS.get(name) if isinstance(name, str) else None
    if preset is None:
        raise DomainError("bad_preset")
    if not isinstance(prompt, str) or not prompt.strip():
        prompt = texts[name]
    if preset.kind == "poll":
        options = [texts.get(key, key) for key in preset.options]
        settings = {key: texts.get(value, value) if isinstance(value, str) else value
                    for key, value in preset.settings.items()}
        activity = polls.add_poll(db, session, preset.poll_type, prompt, options or None, settings)
    elif preset.kind == "wordcloud":
        activity = clouds.add_wordcloud(db, session, prompt)
    else:
        activity = boards.add_board(db, session, preset.kind, prompt)
    if launch:
        sessions.apply_command(db, session, "show", activity.id)
        sessions.apply_command(db, session, "open", activity.id)
    return activity


def start_now(db: DB, event_title: str, session_title: str, locale: str, today: date) -> LiveSession:
    """A workshop session in today's event (made with `event_title` the first time)."""
    event = db.scalar(select(Event).where(Event.title == event_title, Event.date == today)
                      .order_by(Event.id.desc()).limit(1))
    if event is None:
        event = sessions.create_event(db, event_title, None, today)
    return sessions.create_session(db, event, "workshop", session_title, None, today, locale)
