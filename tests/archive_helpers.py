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


WORDS = ["sobriété", "Sobriete", "sobriétés", "réemploi", "low-tech", "Low tech", "local", "frugal",
         "réparabilité", "IA", "intelligence artificielle", "spam spam", "putain", "partage", "=1+1"]
IDEAS = ["Allonger la durée de vie des ordinateurs des écoles", "Mutualiser les serveurs des communes",
         "Former les élus au numérique responsable", "allonger la durée de vie des ordis des écoles",
         "@Publier l'empreinte des services publics", "Créer un Repair Café par canton"]
QUESTIONS = ["Comment mesurer l'impact d'un site web ?", "Quelle place pour l'IA dans la sobriété ?",
             "Les data centers locaux sont-ils plus sobres ?", "+Qui finance le réemploi ?"]


def seed_every_kind(store, session_id: int, people: int = 20, seed: int = 7, end: bool = True) -> dict:
    """The polls of `seed_session`, then a word cloud, an idea wall and a Q&A, each moderated."""
    from live.boards import service as boards
    from live.wordclouds import service as clouds

    polls_ids = seed_session(store, session_id, voters=people, seed=seed, end=False)["activities"]
    rng = random.Random(seed)
    with store.write() as db:
        s = sessions.get_session(db, session_id)
        cloud = clouds.add_wordcloud(db, s, "En un mot : un numérique sobre, c'est… ?",
                                     {"entries_per_participant": 3})
        wall = boards.add_board(db, s, "ideas", "Comment imaginer un numérique plus sobre ?",
                                {"columns": ["Constats", "Idées", "Actions"], "budget": 3,
                                 "premoderation": True})
        qa = boards.add_board(db, s, "questions", "Vos questions aux intervenants", {"signed": True})
        for activity in (cloud, wall, qa):
            sessions.open_activity(db, s, activity, "facilitator")
        persons = [sessions.join(db, s, f"device-{i}") for i in range(people)]
        _seed_wordcloud(db, s, cloud, persons, rng)
        _seed_boards(db, s, wall, qa, persons, rng)
        if end:
            sessions.end_session(db, s, "facilitator")
        ids = {"polls": polls_ids, "wordcloud": cloud.id, "ideas": wall.id, "questions": qa.id}
    return ids


def _seed_wordcloud(db, s, cloud, persons, rng) -> None:
    """Words from every phone; one withdrawn, one hidden, a merge and a release by moderators."""
    from live.wordclouds import service as clouds

    for person in persons:
        for text in rng.sample(WORDS, rng.randint(1, 3)):
            clouds.add_entry(db, s, cloud, person, text)
    mine = clouds.my_entries(db, cloud, persons[0].id)
    clouds.withdraw_entry(db, cloud, persons[0], mine[0]["id"])
    if "=1+1" not in {m["text"] for m in mine}:
        clouds.add_entry(db, s, cloud, persons[0], "=1+1")  # in the freed slot
    keys = {g.text: g.key for g in clouds.groups(db, cloud)}
    by_text = {t.lower(): k for t, k in keys.items()}
    hidden = by_text.get("spam spam") or by_text.get("partage") or list(keys.values())[-1]
    clouds.moderate(db, s, cloud, "hide", hidden)
    if "intelligence artificielle" in by_text and "ia" in by_text:
        clouds.moderate(db, s, cloud, "merge", by_text["intelligence artificielle"], by_text["ia"])
    held = [g.key for g in clouds.groups(db, cloud) if g.held]
    if held:
        clouds.moderate(db, s, cloud, "release", held[0])


def _seed_boards(db, s, wall, qa, persons, rng) -> None:
    """Ideas and questions posted, moderated (approve, reject, edit, merge, pin, hide, answer), voted."""
    from live.boards import service as boards
    from live.boards.model import Item

    items = {}
    for n, text in enumerate(IDEAS):
        items[text] = boards.post(db, s, wall, persons[n % len(persons)], text, column=n % 3)
    for n, text in enumerate(QUESTIONS):
        items[text] = boards.post(db, s, qa, persons[(n + 3) % len(persons)], text,
                                  name="Camille" if n == 0 else None)

    def moderate(activity, action, targets, **kwargs):
        refs = [{"id": i.id, "version": i.version} for i in targets]
        if "into" in kwargs:
            kwargs["into"] = {"id": kwargs["into"].id, "version": kwargs["into"].version}
        boards.moderate(db, s, activity, action, refs, "moderator", moderator="Dominique", **kwargs)

    ideas = [items[t] for t in IDEAS]
    moderate(wall, "approve", ideas[:3] + [ideas[4]])
    moderate(wall, "reject", [ideas[5]])
    moderate(wall, "approve", [ideas[3]])
    moderate(wall, "edit", [ideas[1]], body="Mutualiser les serveurs entre communes")
    published_ideas = [i for i in ideas if db.get(Item, i.id).status == "approved"]
    for person in persons:
        for item in rng.sample(published_ideas, min(2, len(published_ideas))):
            boards.vote(db, s, wall, person, item.id)
    moderate(wall, "merge", [ideas[3]], into=ideas[0])
    moderate(wall, "pin", [ideas[2]])
    questions = [items[t] for t in QUESTIONS]
    for person in persons:
        for item in rng.sample(questions, 2):
            boards.vote(db, s, qa, person, item.id)
    moderate(qa, "hide", [questions[3]])
    moderate(qa, "answer", [questions[0]])
