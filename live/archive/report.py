"""report.html: a standalone report of a session (and of an event), on screen and on A4.

Rendered with Jinja2 directly (no Flask: it runs in the archive worker), in the session's
language, with every image embedded as a data: URI and a Content-Security-Policy that
forbids loading anything from anywhere.
"""

from __future__ import annotations

import base64
from collections import Counter
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from live.archive import pulse as archived_pulse
from live.archive.labels import labels_for

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "archive"
TOP = 10


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["when"] = when
    env.filters["hm"] = hour_minute
    return env


def when(value: str | None) -> str:
    """An archive timestamp for people: 2022-04-05 09:30 (UTC)."""
    if not value:
        return "—"
    return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M")


def hour_minute(value: str | None) -> str:
    """The time of day of an archive timestamp."""
    return datetime.fromisoformat(value).strftime("%H:%M") if value else "—"


def data_uri(name: str, data: bytes) -> str:
    """An embedded image."""
    mime = "image/svg+xml" if name.endswith(".svg") else "image/png"
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


# Item states shown in rankings: published items (answered and pinned are flags on them).
RANKED_STATES = ("approved", "visible")
# Word-cloud moderation is recorded on the session timeline, whoever did it.
WORD_MODERATION = tuple(f"word_{a}" for a in ("hide", "restore", "merge", "unmerge", "release", "hold"))


def ranked_items(doc: dict, kind: str) -> list[dict]:
    """Published ideas (or questions) of a session, most supported first."""
    items = []
    for activity in doc["activities"]:
        if activity["kind"] != kind:
            continue
        for item in activity.get("items", []):
            if item.get("state", "approved") in RANKED_STATES:
                items.append({**item, "activity": activity["prompt"]})
    return sorted(items, key=lambda i: (-(i.get("score") or 0), i.get("created_at") or ""))


def moderation_summary(doc: dict) -> dict[str, int]:
    """How many of each moderation action were taken: word clouds (timeline), boards (their log)."""
    counts: Counter = Counter()
    for entry in doc["timeline"]:
        if entry["action"] in WORD_MODERATION:
            counts[entry["action"]] += 1
    for activity in doc["activities"]:
        for entry in activity.get("moderation", []):
            counts[entry.get("action", "?")] += 1
    return dict(sorted(counts.items()))


def moderation_rows(doc: dict, labels: dict) -> list[tuple[str, int]]:
    """The moderation summary in words, most frequent first."""
    counts = moderation_summary(doc)
    return [(labels.get(f"mod_{action}", action), n)
            for action, n in sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))]


def session_context(doc: dict, files: dict[str, bytes], images: dict) -> dict:
    """What the report template needs."""
    labels = labels_for(doc["session"]["locale"])
    embedded = {ref: data_uri(names["svg"], files[names["svg"]]) for ref, names in images.items()}
    answers = sum((a.get("results") or {}).get("total", 0) or 0 for a in doc["activities"])
    return {"doc": doc, "s": doc["session"], "L": labels, "images": embedded, "answers": answers,
            "ideas": ranked_items(doc, "ideas")[:TOP], "questions": ranked_items(doc, "questions")[:TOP],
            "moderation": moderation_rows(doc, labels), "files": sorted(files),
            "pulse": archived_pulse.summary(doc, labels),
            "generated": labels["generated"].format(at=when(doc["export"]["exported_at"]),
                                                    version=doc["schema_version"])}


def session_report(doc: dict, files: dict[str, bytes], images: dict) -> str:
    """The report of one session as a standalone HTML page."""
    return _env().get_template("report.html").render(**session_context(doc, files, images))


def event_report(context: dict) -> str:
    """The synthesis of an event as a standalone HTML page."""
    return _env().get_template("event_report.html").render(**context)


def readme(doc: dict, names: list[str]) -> str:
    """A plain-text note on what the archive holds, readable without any program."""
    s = doc["session"]
    if s["locale"] == "en":
        intro = ("Palabre session archive\n\n"
                 f"{s['title']} — {doc['event']['title']}\n\n"
                 "session.json       everything, described by archive.schema.json (JSON Schema)\n"
                 "report.html        the report, to open in any browser and print\n"
                 "activities/*.csv   one table per activity (UTF-8, comma-separated)\n"
                 "*.svg, *.png       charts and word clouds\n"
                 "Participants are pseudonymous (p1, p2...): the ids are valid in this archive only.\n")
    else:
        intro = ("Archive de session Palabre\n\n"
                 f"{s['title']} — {doc['event']['title']}\n\n"
                 "session.json       toutes les données, décrites par archive.schema.json (JSON Schema)\n"
                 "report.html        le compte rendu, à ouvrir dans un navigateur et à imprimer\n"
                 "activities/*.csv   un tableau par activité (UTF-8, séparateur point-virgule)\n"
                 "*.svg, *.png       diagrammes et nuages de mots\n"
                 "Les participants sont pseudonymes (p1, p2…) : ces identifiants ne valent que "
                 "dans cette archive.\n")
    return intro + "\n" + "\n".join(names) + "\n"
