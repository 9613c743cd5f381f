"""Shared builders of the archive tests: a realistic session with every poll type."""

from __future__ import annotations

import io
import json
import random
import zipfile
from pathlib import Path

import jsonschema

from live.polls import service as polls
from live.sessions import service as sessions

SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "docs" / "archive.schema.json").read_text())
HOSTILE = ["=HYPERLINK(\"http://example.invalid\",\"clic\")", "+33 6 12 34 56 78", "-2+3",
           "@SUM(A1:A2)", "\t=1+1", "\r=1+1"]


def validate(doc: dict) -> None:
    """Validate a session document against docs/archive.schema.json."""
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(doc)


def unzip(data: bytes) -> dict[str, bytes]:
    """Every member of a ZIP."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    return {name: archive.read(name) for name in archive.namelist()}


def seed_session(store, session_id: int, voters: int = 25, seed: int = 7, end: bool = True) -> dict:
    """Four polls (single with formula-like options, scale, ranking, multiple) and their votes."""
    rng = random.Random(seed)
    with store.write() as db:
        s = sessions.get_session(db, session_id)
        ids = [
            polls.add_poll(db, s, "single", "Avez-vous mesuré l'impact de vos services ?",
                           ["Oui", "Non", "=1+1", "-2+3"]).id,
            polls.add_poll(db, s, "scale", "Le numérique est-il un levier de sobriété ?", None,
                           {"scale_max": 5, "label_low": "Pas du tout", "label_high": "Tout à fait"}).id,
            polls.add_poll(db, s, "ranking", "Classez les leviers", ["Allonger la durée de vie",
                           "Écoconcevoir", "@Former les agents"]).id,
            polls.add_poll(db, s, "multiple", "Quels formats ?", ["Ateliers", "+Défis", "Mesures"],
                           {"max_choices": 2}).id,
        ]
        for a in ids:
            sessions.open_activity(db, s, sessions.get_activity(db, s, a), "facilitator")
        people = [sessions.join(db, s, f"device-{i}") for i in range(voters)]
        sessions.set_display_name(db, people[0], "=cmd|' /C calc'!A0")
        for a in ids:
            activity = sessions.get_activity(db, s, a)
            options = [o.id for o in polls.options_of(db, activity)]
            for person in people:
                if rng.random() < 0.2:
                    continue
                if activity.type == "scale":
                    choice = [rng.randint(1, 5)]
                elif activity.type == "ranking":
                    choice = rng.sample(options, len(options))
                elif activity.type == "multiple":
                    choice = rng.sample(options, rng.randint(1, 2))
                else:
                    choice = [rng.choice(options)]
                polls.vote(db, s, activity, person, choice)
        sessions.reveal(db, s, sessions.get_activity(db, s, ids[0]), True, "facilitator")
        if end:
            sessions.end_session(db, s, "facilitator")
    return {"activities": ids}
