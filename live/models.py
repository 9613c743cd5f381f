"""Imports every table so that Alembic and `create_all` see the whole schema."""

from live.acks import ClientAck  # noqa: F401
from live.archive.model import ArchiveJob, ArchiveSettings, ArchiveState  # noqa: F401
from live.boards.model import BoardVote, Item, ModerationEntry  # noqa: F401
from live.footprint import SessionFootprint  # noqa: F401
from live.polls.model import Option, PaperCount, Vote  # noqa: F401
from live.pulse.model import PulseHand, PulseMark, PulseReaction, PulseSetting  # noqa: F401
from live.sessions.model import (  # noqa: F401
    Activity,
    Event,
    LiveSession,
    Participant,
    SessionLink,
    TimelineEntry,
)
from live.store import Base, Generation  # noqa: F401
from live.wordclouds.model import WordEntry, WordGroupState  # noqa: F401

metadata = Base.metadata
