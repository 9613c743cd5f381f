"""The quick start's operations, for the form door: a ready-made activity added (and launched),
its texts in the session's language."""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from live.quickstart import presets
from live.sessions.effects import Effects
from live.sessions.model import LiveSession

# Default prompts (by preset) and words of the ready-made activities, in the session's language.
TEXTS = {
    "yesno": _l("Do you agree?"), "scale": _l("How would you rate it, from 1 to 5?"),
    "abcd": _l("Which answer?"), "word": _l("In one word…"),
    "questions": _l("Your questions to the panel"),
    "yes": _l("Yes"), "no": _l("No"), "not_at_all": _l("Not at all"), "completely": _l("Completely"),
}


def add_preset(db, session: LiveSession, name: object, prompt: object, launch: bool):
    """A ready-made activity added to the agenda (on screen and open with `launch`)."""
    with force_locale(session.locale):
        texts = {key: str(value) for key, value in TEXTS.items()}
    activity = presets.add_preset(db, session, name, prompt, texts, launch)
    return activity, Effects(session.id).changed_state()
