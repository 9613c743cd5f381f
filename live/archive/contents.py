"""What an imported archive claims was stored, checked by the validators of the forms.

The JSON Schema (docs/archive.schema.json) bounds shapes and sizes; this module asks, field by
field, whether Palabre's own doors (`live.validation`) could have stored that value: settings
per kind, texts exactly as cleaned, option lists, answers within the poll's rules, columns and
dots within the board's settings, timeline details. The first value that no door would have
accepted refuses the whole archive, naming where it is and why, before anything is written.
"""

from __future__ import annotations

from live import validation as v
from live.errors import DomainError


class ImportRefused(DomainError):
    """An archive that will not be imported; `code` says why."""


class Invalid(ImportRefused):
    """A value the UI could not have produced: `where` (a path in session.json) and the reason."""

    def __init__(self, where: str, reason: DomainError):
        super().__init__("import_invalid", where=where[:80], reason=reason.code,
                         reason_params=dict(reason.params))


def _at(where: str, check, *args, **kwargs):
    try:
        return check(*args, **kwargs)
    except DomainError as exc:
        raise Invalid(where, exc) from None


def check_contents(doc: dict) -> None:
    """Refuse (`Invalid`) the first value of a session document that no form could have stored."""
    for part in ("event", "session"):
        _at(f"{part}/title", v.stored_text, doc[part]["title"], "title", v.TITLE_LENGTH)
        _at(f"{part}/place", v.stored_text, doc[part]["place"], "place", v.PLACE_LENGTH, required=False)
    for n, person in enumerate(doc["participants"]):
        if person["display_name"] is not None:
            _at(f"participants/{n}/display_name", v.stored_text, person["display_name"], "name",
                v.NAME_LENGTH)
    for n, hand in enumerate(doc.get("pulse_hands") or []):
        _at(f"pulse_hands/{n}/name", v.stored_text, hand["name"], "name", v.NAME_LENGTH, required=False)
    for n, activity in enumerate(doc["activities"]):
        _check_activity(f"activities/{n}", activity)
    for n, entry in enumerate(doc["timeline"]):
        _at(f"timeline/{n}/detail", v.stored_detail, entry["detail"])


def _check_activity(where: str, activity: dict) -> None:
    _at(f"{where}/prompt", v.stored_text, activity["prompt"], "prompt", v.PROMPT_LENGTH)
    _at(f"{where}/timer", v.stored_timer, activity.get("timer"))
    kind = activity["kind"]
    if kind not in ("poll", "wordcloud", *v.BOARD_KINDS):
        raise ImportRefused("import_unknown_kind", kind=kind[:20])
    options = activity.get("options") or []
    settings = _at(f"{where}/settings", v.stored_settings, kind, activity.get("type"),
                   activity["settings"], len(options))
    if kind == "poll":
        _check_poll(where, activity, settings)
    elif kind == "wordcloud":
        _check_wordcloud(where, activity, settings)
    elif kind in v.BOARD_KINDS:
        _check_board(where, activity, settings)


def _check_poll(where: str, activity: dict, settings: dict) -> None:
    labels = [o["label"] for o in activity["options"]]
    if activity["type"] != "scale":
        for n, label in enumerate(labels):
            _at(f"{where}/options/{n}", v.stored_text, label, "option", v.OPTION_LENGTH)
        _at(f"{where}/options", v.poll_definition, activity["type"], labels, settings)
    elif labels:
        raise Invalid(f"{where}/options", DomainError("bad_options"))
    # Options are numbered in order (o1, o2...): an answer is checked on those numbers.
    if [o["ref"] for o in activity["options"]] != [f"o{n}" for n in range(1, len(labels) + 1)]:
        raise Invalid(f"{where}/options", DomainError("bad_options"))
    position = {f"o{n}": n for n in range(1, len(labels) + 1)}
    ids = set(position.values())
    for n, vote in enumerate(activity["votes"]):
        choice = vote["choice"]
        if activity["type"] != "scale":
            choice = [position.get(c, 0) for c in choice]
        _at(f"{where}/votes/{n}", v.poll_choice, activity["type"], settings, ids, choice)
    _check_paper(where, activity, settings, position)


def _check_paper(where: str, activity: dict, settings: dict, position: dict) -> None:
    """Paper counts by the rule of the form (`validation.paper_entry`), each `total` the running
    sum of its option's counts (so never negative)."""
    totals: dict = {}
    for n, entry in enumerate(activity.get("paper") or []):
        target = entry["option"]
        if isinstance(target, str) == (activity["type"] == "scale"):
            raise Invalid(f"{where}/paper/{n}", DomainError("bad_paper_option"))
        _at(f"{where}/paper/{n}", v.paper_entry, activity["type"], frozenset(position.values()),
            settings.get("scale_max", 0), position.get(target, 0) if isinstance(target, str) else target,
            entry["count"])
        totals[target] = totals.get(target, 0) + entry["count"]
        if totals[target] < 0:
            before = totals[target] - entry["count"]
            raise Invalid(f"{where}/paper/{n}", DomainError("paper_negative", total=before))
        if totals[target] != entry["total"]:
            raise Invalid(f"{where}/paper/{n}", DomainError("paper_total_mismatch"))


def _check_wordcloud(where: str, activity: dict, settings: dict) -> None:
    for n, entry in enumerate(activity["entries"]):
        _at(f"{where}/entries/{n}/text", v.stored_text, entry["text"], "contribution", settings["max_length"])
        _at(f"{where}/entries/{n}/group", v.stored_text, entry["group"], "contribution", v.WORD_LENGTH,
            required=False)
    for n, group in enumerate(activity["groups"]):
        for field in ("key", "text"):
            _at(f"{where}/groups/{n}/{field}", v.stored_text, group[field], "contribution", v.WORD_LENGTH,
                required=False)


def _check_board(where: str, activity: dict, settings: dict) -> None:
    columns = max(1, len(settings["columns"]))
    for n, item in enumerate(activity["items"]):
        at = f"{where}/items/{n}"
        for field in ("text", "original_text"):
            _at(f"{at}/{field}", v.stored_text, item[field], "contribution", v.ITEM_LENGTH)
        _at(f"{at}/author_name", v.stored_text, item["author_name"], "name", v.NAME_LENGTH, required=False)
        _at(f"{at}/column", v.integer, item["column"], "bad_column", 0, columns - 1)
    budget = settings["budget"]
    for n, vote in enumerate(activity["votes"]):
        if vote["slot"] is not None:
            _at(f"{where}/votes/{n}/slot", v.integer, vote["slot"], "bad_budget", 1, budget)
    for n, entry in enumerate(activity["moderation"]):
        _at(f"{where}/moderation/{n}/moderator", v.stored_text, entry["moderator"], "name", v.NAME_LENGTH,
            required=False)
