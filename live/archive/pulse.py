"""The room's pulse in the archive: its part of session.json (pace marks, raised hands, quick
reactions), their checks and restoration on import, their CSV files, and the timeline chart of
the report (the pace average each participant's latest choice gave, hands raised and reactions
per time bucket)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session as DB

from live import validation
from live.archive import kinds
from live.archive.contents import ImportRefused
from live.archive.csvsafe import to_csv
from live.archive.timefmt import parse_time, time_text
from live.pulse import service as pulse
from live.pulse.model import PulseHand, PulseMark, PulseReaction

REACTION_NAMES = tuple(validation.REACTIONS)


def document_part(db: DB, session_id: int, refs) -> dict:
    """`pulse` (every pace choice, always), `pulse_hands` and `pulse_reactions` (when any)."""
    part = {"pulse": [{"at": time_text(m["at"]), "participant": refs.participant(m["participant"]),
                       "pace": m["pace"]} for m in pulse.timeline(db, session_id)]}
    hands = [{"participant": refs.participant(h["participant"]), "ticket": h["ticket"], "name": h["name"],
              "raised_at": time_text(h["raised_at"]), "ended_at": time_text(h["ended_at"]),
              "outcome": h["outcome"]} for h in pulse.hands_timeline(db, session_id)]
    if hands:
        part["pulse_hands"] = hands
    reactions = [{"at": time_text(r["at"]), "participant": refs.participant(r["participant"]),
                  "reaction": r["reaction"]} for r in pulse.reactions_timeline(db, session_id)]
    if reactions:
        part["pulse_reactions"] = reactions
    return part


def check_references(doc: dict, people: set) -> None:
    """Refuse a pulse entry naming an unknown participant, two tickets alike, two hands of one
    participant up at once, or a hand ended without an outcome (or the other way round)."""
    entries = [e for key in ("pulse", "pulse_hands", "pulse_reactions") for e in doc.get(key) or []]
    if any(e["participant"] is not None and e["participant"] not in people for e in entries):
        raise ImportRefused("import_bad_reference", where="pulse")
    hands = doc.get("pulse_hands") or []
    tickets = [h["ticket"] for h in hands]
    up = [h["participant"] for h in hands if h["outcome"] is None]
    if (len(set(tickets)) != len(tickets) or len(set(up)) != len(up)
            or any((h["ended_at"] is None) != (h["outcome"] is None) for h in hands)):
        raise ImportRefused("import_bad_reference", where="pulse_hands")


def restore(db: DB, session_id: int, doc: dict, participant_ids: dict[str, int]) -> None:
    """Insert the archived pulse (entries of purged participants are gone: not restored)."""
    def who(entry):
        return participant_ids.get(entry["participant"]) if entry["participant"] else None

    kinds.insert_rows(db, PulseMark, [
        {"session_id": session_id, "participant_id": who(m), "kind": "pace",
         "value": validation.PACES[m["pace"]], "at": parse_time(m["at"])}
        for m in doc.get("pulse") or [] if who(m)])
    kinds.insert_rows(db, PulseHand, [
        {"session_id": session_id, "participant_id": who(h), "ticket": h["ticket"], "name": h["name"],
         "raised_at": parse_time(h["raised_at"]), "ended_at": parse_time(h["ended_at"]),
         "outcome": h["outcome"]} for h in doc.get("pulse_hands") or [] if who(h)])
    kinds.insert_rows(db, PulseReaction, [
        {"session_id": session_id, "participant_id": who(r), "reaction": r["reaction"],
         "at": parse_time(r["at"])} for r in doc.get("pulse_reactions") or [] if who(r)])


def rows(doc: dict) -> int:
    """How many rows restoring the pulse writes (the import's progress)."""
    return sum(len(doc.get(key) or []) for key in ("pulse", "pulse_hands", "pulse_reactions"))


def csv_files(doc: dict, labels: dict, locale: str) -> dict[str, bytes]:
    """pulse.csv (pace), pulse-hands.csv and pulse-reactions.csv, each when it has rows."""
    files = {}
    if doc.get("pulse"):
        files["pulse.csv"] = to_csv(
            [labels["at"], labels["participant"], labels["pace"]],
            [[m["at"], m["participant"], labels[f"pace_{m['pace']}"]] for m in doc["pulse"]], locale)
    if doc.get("pulse_hands"):
        files["pulse-hands.csv"] = to_csv(
            [labels["hand_ticket"], labels["participant"], labels["display_name"], labels["hand_raised"],
             labels["hand_ended"], labels["hand_outcome"]],
            [[h["ticket"], h["participant"], h["name"], h["raised_at"], h["ended_at"],
              labels[f"hand_{h['outcome']}"] if h["outcome"] else ""] for h in doc["pulse_hands"]], locale)
    if doc.get("pulse_reactions"):
        files["pulse-reactions.csv"] = to_csv(
            [labels["at"], labels["participant"], labels["reaction"]],
            [[r["at"], r["participant"], labels[f"reaction_{r['reaction']}"]]
             for r in doc["pulse_reactions"]], locale)
    return files


def files(doc: dict, labels: dict, locale: str, render, images: dict) -> dict[str, bytes]:
    """The pulse's files of the archive: its CSVs and, when used, its chart drawn by `render`
    (pulse.svg, pulse.png, added to the report's `images`)."""
    out = csv_files(doc, labels, locale)
    spec = chart_spec(doc, labels)
    if spec:
        drawn = render(spec)
        out["pulse.svg"], out["pulse.png"] = drawn["svg"], drawn["png"]
        images["pulse"] = {"svg": "pulse.svg", "png": "pulse.png"}
    return out


def _buckets(times: list[datetime]) -> tuple[datetime, int, int]:
    """The first bucket, the bucket length in minutes and the number of buckets (at most ~40)."""
    start, end = min(times), max(times)
    span = max((end - start).total_seconds() / 60, 1)
    minutes = next(m for m in (1, 2, 5, 10, 15, 30, 60, 120, 240, 1440) if span / m <= 40)
    start = start.replace(second=0, microsecond=0, minute=start.minute - start.minute % minutes
                          if minutes < 60 else 0)
    return start, minutes, int((end - start).total_seconds() // (minutes * 60)) + 1


def _averages(marks: list[tuple[datetime, str, int]], ends: list[datetime]) -> list[float | None]:
    """At the end of each bucket, the average of each participant's latest pace of the last
    `pulse.WINDOW` seconds: what the facilitator saw then."""
    latest: dict = {}
    out, index = [], 0
    for end in ends:
        while index < len(marks) and marks[index][0] < end:
            at, who, value = marks[index]
            latest[who or ("anonymous", index)] = (at, value)
            index += 1
        values = [v for at, v in latest.values() if at >= end - timedelta(seconds=pulse.WINDOW)]
        out.append(round(sum(values) / len(values), 2) if values else None)
    return out


def chart_spec(doc: dict, labels: dict) -> dict | None:
    """The report's pulse timeline, or None when nobody used the pulse."""
    marks = sorted((parse_time(m["at"]), m["participant"] or "", validation.PACES[m["pace"]])
                   for m in doc.get("pulse") or [])
    hands = [parse_time(h["raised_at"]) for h in doc.get("pulse_hands") or []]
    reactions = [parse_time(r["at"]) for r in doc.get("pulse_reactions") or []]
    times = [m[0] for m in marks] + hands + reactions
    if not times:
        return None
    start, minutes, count = _buckets(times)
    step = timedelta(minutes=minutes)
    buckets = [start + step * i for i in range(count)]

    def per_bucket(when: list[datetime]) -> list[int]:
        counts = [0] * count
        for t in when:
            counts[int((t - start) / step)] += 1
        return counts

    return {"chart": "pulse", "name": "pulse", "title": labels["pulse_title"],
            "buckets": [b.replace(tzinfo=None).isoformat() for b in buckets], "minutes": minutes,
            "average": _averages(marks, [b + step for b in buckets]),
            "hands": per_bucket(hands), "reactions": per_bucket(reactions),
            "time_label": labels["time_axis"], "average_label": labels["pace_average"],
            "slow_label": labels["pace_slow"], "ok_label": labels["pace_ok"],
            "fast_label": labels["pace_fast"],
            "hands_label": labels["hands_per_bucket"].format(minutes=minutes),
            "reactions_label": labels["reactions_per_bucket"].format(minutes=minutes)}


def summary(doc: dict, labels: dict) -> dict | None:
    """The report's lines under the chart: hands raised (and how they ended), reactions by kind."""
    hands, reactions = doc.get("pulse_hands") or [], doc.get("pulse_reactions") or []
    if not (hands or reactions or doc.get("pulse")):
        return None
    counts = {name: sum(1 for r in reactions if r["reaction"] == name) for name in REACTION_NAMES}
    return {"hands": len(hands), "spoke": sum(1 for h in hands if h["outcome"] == "spoke"),
            "reactions": [(validation.REACTIONS[name], labels[f"reaction_{name}"], n)
                          for name, n in counts.items() if n],
            "paces": len(doc.get("pulse") or [])}


def tables(doc: dict, labels: dict) -> list[tuple[str, list, list]]:
    """The pulse as tables for the minutes and the spreadsheet, each (title, header, rows) when
    it has rows: the timeline per time bucket (pace average, hands raised, reactions), the hands
    in order (ticket, the name only if the participant gave one, how it ended), the reactions
    counted by kind. No participant reference: the minutes are read by people."""
    out = []
    spec, facts = chart_spec(doc, labels), summary(doc, labels)
    if spec is None or facts is None:
        return out
    out.append((labels["pulse_paces_line"].format(n=facts["paces"]),
                [labels["time_axis"], labels["pace_average"], spec["hands_label"], spec["reactions_label"]],
                [[bucket[11:16], average, hands, reactions] for bucket, average, hands, reactions
                 in zip(spec["buckets"], spec["average"], spec["hands"], spec["reactions"], strict=True)]))
    hands = doc.get("pulse_hands") or []
    if hands:
        out.append((labels["pulse_hands_line"].format(hands=facts["hands"], spoke=facts["spoke"]),
                    [labels["hand_ticket"], labels["display_name"], labels["hand_raised"],
                     labels["hand_ended"], labels["hand_outcome"]],
                    [[h["ticket"], h["name"] or "", h["raised_at"], h["ended_at"] or "",
                      labels[f"hand_{h['outcome']}"] if h["outcome"] else ""] for h in hands]))
    if facts["reactions"]:
        out.append((labels["reaction"], [labels["reaction"], labels["count"]],
                    [[f"{emoji} {label}", n] for emoji, label, n in facts["reactions"]]))
    return out
