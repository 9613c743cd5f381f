"""One definition of valid: every value that comes from outside is checked here, once.

Forms, socket events and the archive importer call the same functions, so a value that one
door refuses every door refuses, with the same error code (`DomainError`, turned into a message
in the user's language at the edge). Each rule is one function; each limit one constant, which
`docs/archive.schema.json` repeats (`tests/test_validation.py` checks that they agree).

Two ways in:
- `poll_definition`, `wordcloud_settings`, `board_settings`, `poll_choice`, `text`...: what a
  form or a socket sent (strings from forms are accepted where a form can only send strings);
  they return the value in its stored form.
- `stored_settings`, `stored_text`: what an archive claims was stored. Valid only if it is
  exactly what the first kind would have stored (a fixed point): an archive the UI could not
  have produced is refused.

No Flask, no sockets, no database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from live.errors import MAX_ID, DomainError, is_id
from live.text import TextError, clean

# --- limits (docs/archive.schema.json repeats them) -----------------------------------------

# MAX_ID (live.errors): the largest database id (and item id kept in settings).
TITLE_LENGTH = 200  # events and sessions
PLACE_LENGTH = 200
PROMPT_LENGTH = 300  # an activity's question
NAME_LENGTH = 40  # a participant's or a moderator's name

POLL_TYPES = ("single", "multiple", "scale", "ranking")
MAX_OPTIONS = 12
OPTION_LENGTH = 120
MAX_SCALE = 10
DEFAULT_SCALE = 5
SCALE_LABEL_LENGTH = 40
PAPER_TYPES = ("single", "multiple", "scale")  # a ranking on paper makes no count to add
MAX_PAPER_ENTRY = 10000  # one paper entry: at most this many votes added or taken back
MAX_PAPER_TOTAL = 100000  # an option's paper total (the database checks it too)

WORDCLOUD_DEFAULTS = {"entries_per_participant": 3, "max_length": 40, "show_on_phones": True,
                      "hold_profanity": True}
MAX_ENTRIES = 10
ENTRY_LENGTH_RANGE = (10, 80)
WORD_LENGTH = 200  # grouping keys and spellings in archives

BOARD_KINDS = ("ideas", "questions")
MAX_COLUMNS = 6
COLUMN_LENGTH = 40
MAX_BUDGET = 20
ITEM_LENGTH = 280
SORTS = ("votes", "time")
BOARD_FLAGS = ("premoderation", "stack", "signed", "wall_visible")
BOARD_DISPLAY = ("spotlight", "current")  # item ids the display points at (or None)
# An idea wall's "private first, then reveal": phones and the screen get no one's items (only a
# count) until the results are revealed. Not in the defaults: an absent key means "not private"
# (archives made before this setting keep importing as they were).
PRIVATE = "private"

TIMER_SECONDS = (5, 4 * 3600)  # a timer's length, from five seconds to four hours
TIMER_ADD = 60  # what "+1 min" adds

DETAIL_KEYS = 10  # a timeline entry's detail: a few short values
DETAIL_KEY_LENGTH = 30
DETAIL_VALUE_LENGTH = PROMPT_LENGTH

_INTEGER = re.compile(r"[+-]?[0-9]{1,12}")
_TRUE = ("1", "true", "on", "yes", "oui")
_FALSE = ("", "0", "false", "off", "no", "non")


# --- scalars ----------------------------------------------------------------------------------

def integer(value: object, code: str, low: int, high: int, **params) -> int:
    """An integer in [low, high]; a form's digits are accepted, booleans and floats are not."""
    if isinstance(value, str):
        value = int(value) if _INTEGER.fullmatch(value.strip()) else None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise DomainError(code, **{"low": low, "limit": high, **params})
    return value


def boolean(value: object, code: str = "bad_payload") -> bool:
    """A yes/no: a boolean, or what a checkbox or a query string sends ("on", "1", "true"...)."""
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise DomainError(code)


def timer_seconds(value: object) -> int:
    """A timer's length in whole seconds (the console's select, a socket's number)."""
    return integer(value, "bad_timer", *TIMER_SECONDS)


def timer_minutes(value: object) -> int:
    """A timer's length typed in whole minutes (the console's form), in seconds."""
    return integer(value, "bad_timer_minutes", 1, TIMER_SECONDS[1] // 60) * 60


def stored_timer(timer: object) -> dict | None:
    """An archived timer (live/archive/document.py): running (a deadline) or paused (seconds
    left), never both; its length as the console's choices and added minutes could make it."""
    if timer is None:
        return None
    if not isinstance(timer, dict) or (timer.get("ends_at") is None) == (timer.get("left") is None):
        raise DomainError("bad_timer", low=TIMER_SECONDS[0], limit=TIMER_SECONDS[1])
    integer(timer.get("duration"), "bad_timer", TIMER_SECONDS[0], TIMER_SECONDS[1] + 1000 * TIMER_ADD)
    left = timer.get("left")
    if left is not None and (isinstance(left, bool) or not isinstance(left, int | float)
                             or not 0 <= left <= timer["duration"]):
        raise DomainError("bad_timer", low=0, limit=timer["duration"])
    boolean(timer.get("autoclose"), "bad_timer")
    return timer


def identifier(value: object) -> int | None:
    """A database id as sent by a client, or None when it cannot be one (never raises)."""
    return value if is_id(value) else None


def form_identifier(value: object) -> int | None:
    """A database id typed in a form field ("42"), or None when the field holds none."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10:
        return identifier(int(value))
    return None


def text(value: object, field: str, limit: int, *, required: bool = True, multiline: bool = False) -> str:
    """Cleaned text (`live.text.clean`); DomainError("text_empty"|"text_too_long"|"text_type")."""
    try:
        return clean(value, limit, multiline=multiline, required=required)
    except TextError as exc:
        raise DomainError(f"text_{exc.code}", field=field, limit=exc.limit) from None


WIFI_SSID_LENGTH = 32  # IEEE 802.11: an SSID is at most 32 bytes
WIFI_PASSWORD_RANGE = (8, 63)  # WPA passphrases


def wifi(ssid: object, password: object) -> tuple[str, str] | None:
    """A venue's Wi-Fi for a printed card: None when no network name was typed; the password
    is kept as typed (spaces count). DomainError("bad_wifi_ssid"|"bad_wifi_password")."""
    if not isinstance(ssid, str) or not ssid.strip():
        return None
    password = password if isinstance(password, str) else ""
    if len(ssid.encode()) > WIFI_SSID_LENGTH or not ssid.isprintable():
        raise DomainError("bad_wifi_ssid")
    low, high = WIFI_PASSWORD_RANGE
    if password and (not low <= len(password) <= high or not password.isprintable()):
        raise DomainError("bad_wifi_password")
    return ssid, password


def optional_text(value: object, field: str, limit: int) -> str | None:
    """Cleaned text, or None for None or a blank string."""
    if value is None:
        return None
    return text(value, field, limit, required=False) or None


def stored_text(value: object, field: str, limit: int, *, required: bool = True) -> str | None:
    """A text as stored: what `text` returns for it must be the text itself (no control
    characters, no leading or trailing space, NFC, within `limit`)."""
    if value is None and not required:
        return None
    cleaned = text(value, field, limit, required=required)
    if cleaned != value:
        raise DomainError("text_not_clean", field=field)
    return cleaned


# --- polls ------------------------------------------------------------------------------------

def poll_definition(poll_type: object, options: object, settings: object) -> tuple[list[str], dict]:
    """A poll's type, options and settings: the clean option labels and the stored settings."""
    if poll_type not in POLL_TYPES:
        raise DomainError("bad_poll_type")
    settings = settings if isinstance(settings, dict) else {}
    if poll_type == "scale":
        scale_max = settings.get("scale_max")
        scale_max = integer(DEFAULT_SCALE if scale_max in (None, "") else scale_max, "bad_scale", 2,
                            MAX_SCALE)
        low = text(settings.get("label_low") or "", "label_low", SCALE_LABEL_LENGTH, required=False)
        high = text(settings.get("label_high") or "", "label_high", SCALE_LABEL_LENGTH, required=False)
        return [], {"scale_max": scale_max, "label_low": low, "label_high": high}
    if not isinstance(options, list):
        raise DomainError("bad_options")
    if len(options) > 4 * MAX_OPTIONS:  # blank lines are dropped below, but not without end
        raise DomainError("option_count", limit=MAX_OPTIONS)
    labels = [text(o, "option", OPTION_LENGTH, required=False) for o in options]
    labels = [label for label in labels if label]
    if not 2 <= len(labels) <= MAX_OPTIONS:
        raise DomainError("option_count", limit=MAX_OPTIONS)
    if len({label.casefold() for label in labels}) != len(labels):
        raise DomainError("duplicate_options")
    if poll_type != "multiple":
        return labels, {}
    max_choices = settings.get("max_choices")
    max_choices = integer(len(labels) if max_choices in (None, "") else max_choices,
                          "bad_max_choices", 1, len(labels))
    return labels, {"max_choices": max_choices}


def poll_choice(poll_type: str, settings: dict, option_ids: set[int], choice: object) -> list[int]:
    """A participant's answer to a poll, in stored form: [value] for a scale, option ids otherwise."""
    if poll_type == "scale":
        if isinstance(choice, Ranking):
            raise DomainError("bad_choice")
        value = choice[0] if isinstance(choice, list) and len(choice) == 1 else choice
        top = settings["scale_max"]
        value = integer(value, "bad_choice", -MAX_ID, MAX_ID)
        if not 1 <= value <= top:
            raise DomainError("choice_out_of_range", limit=top)
        return [value]
    if isinstance(choice, Ranking):
        if poll_type != "ranking":
            raise DomainError("bad_choice")
        choice = ranking(choice.places, len(option_ids))
    picked = choice if isinstance(choice, list) else [choice]
    if len(picked) > MAX_OPTIONS:
        raise DomainError("bad_choice")
    picked = [integer(c, "bad_choice", -MAX_ID, MAX_ID) for c in picked]
    if not picked:
        raise DomainError("empty_choice")
    if len(set(picked)) != len(picked):
        raise DomainError("duplicate_choice")
    if not set(picked) <= option_ids:
        raise DomainError("unknown_option")
    if poll_type == "single" and len(picked) != 1:
        raise DomainError("one_choice_only")
    if poll_type == "multiple" and len(picked) > settings["max_choices"]:
        raise DomainError("too_many_choices", limit=settings["max_choices"])
    if poll_type == "ranking" and set(picked) != option_ids:
        raise DomainError("rank_all")
    return picked


@dataclass(frozen=True)
class Ranking:
    """A ranking sent as `{option id: place}` (the form without JavaScript)."""

    places: dict


def ranking(places: dict, count: int) -> list[int]:
    """The option ids of a `Ranking`, first place first. Every place from 1 to `count` exactly
    once: no ties, no gaps, nothing out of range."""
    if len(places) != count:
        raise DomainError("bad_ranking", count=count)
    ids = [integer(key, "bad_ranking", 1, MAX_ID, count=count) for key in places]
    ranks = [integer(value, "bad_ranking", 1, count, count=count) for value in places.values()]
    if sorted(ranks) != list(range(1, count + 1)):
        raise DomainError("bad_ranking", count=count)
    return [option for _, option in sorted(zip(ranks, ids, strict=True))]


# --- word clouds ------------------------------------------------------------------------------

def wordcloud_settings(settings: object) -> dict:
    """A word cloud's settings, defaults filled in."""
    given = settings if isinstance(settings, dict) else {}
    merged = {**WORDCLOUD_DEFAULTS,
              **{k: v for k, v in given.items() if k in WORDCLOUD_DEFAULTS and v not in (None, "")}}
    return {
        "entries_per_participant": integer(merged["entries_per_participant"], "bad_entry_count",
                                           1, MAX_ENTRIES),
        "max_length": integer(merged["max_length"], "bad_entry_length", *ENTRY_LENGTH_RANGE),
        "show_on_phones": boolean(merged["show_on_phones"], "bad_settings"),
        "hold_profanity": boolean(merged["hold_profanity"], "bad_settings"),
    }


# --- idea walls and Q&A -----------------------------------------------------------------------

def board_defaults(kind: str, locale: str = "fr") -> dict:
    """The settings of a new idea wall or Q&A."""
    if kind == "questions":
        return {"columns": [], "premoderation": False, "budget": 0, "stack": False,
                "signed": True, "wall_visible": True, "sort": "votes",
                "spotlight": None, "current": None}
    return {"columns": ["Idées" if locale == "fr" else "Ideas"], "premoderation": True,
            "budget": 3, "stack": False, "signed": False, "wall_visible": True, "sort": "votes",
            "spotlight": None, "current": None}


def board_columns(columns: object) -> list[str]:
    """An idea wall's column names: 1 to MAX_COLUMNS, blank lines dropped."""
    if isinstance(columns, str):
        columns = columns.splitlines()
    if not isinstance(columns, list) or len(columns) > 4 * MAX_COLUMNS:
        raise DomainError("bad_columns", limit=MAX_COLUMNS)
    names = []
    for name in columns:
        if not isinstance(name, str):
            raise DomainError("bad_columns", limit=MAX_COLUMNS)
        name = text(name, "column", COLUMN_LENGTH, required=False)
        if name:
            names.append(name)
    if not 1 <= len(names) <= MAX_COLUMNS:
        raise DomainError("bad_columns", limit=MAX_COLUMNS)
    return names


def sort_order(value: object) -> str:
    """How a wall is sorted."""
    if value not in SORTS:
        raise DomainError("bad_sort")
    return value


def board_settings(kind: object, raw: object, base: dict | None = None) -> dict:
    """An idea wall's or Q&A's settings changed by `raw` over `base`, in stored form."""
    if kind not in BOARD_KINDS:
        raise DomainError("not_a_board")
    settings = dict(base or board_defaults(kind))
    raw = raw if isinstance(raw, dict) else {}
    for key in BOARD_FLAGS:
        if key in raw:
            settings[key] = boolean(raw[key], "bad_settings")
    if kind == "ideas" and "columns" in raw:
        settings["columns"] = board_columns(raw["columns"])
    if kind == "ideas" and PRIVATE in raw:
        settings[PRIVATE] = boolean(raw[PRIVATE], "bad_settings")
    if "budget" in raw:
        settings["budget"] = integer(raw["budget"], "bad_budget", 0 if kind == "questions" else 1,
                                     MAX_BUDGET)
    if "sort" in raw:
        settings["sort"] = sort_order(raw["sort"])
    if kind == "questions":
        settings["stack"] = False
    return settings


# --- what an archive claims was stored --------------------------------------------------------

def stored_settings(kind: str, poll_type: str | None, settings: object, option_count: int = 0) -> dict:
    """Settings as an archive holds them; refused unless the UI could have stored exactly these."""
    if not isinstance(settings, dict):
        raise DomainError("bad_settings")
    if kind == "poll":
        options = [f"{n}" for n in range(1, option_count + 1)] if poll_type != "scale" else None
        _, again = poll_definition(poll_type, options, settings)
        runtime: dict = {}
    elif kind == "wordcloud":
        again = wordcloud_settings(settings)
        runtime = {"frozen": _stored_id(settings.get("frozen"), zero=True)} if "frozen" in settings else {}
    elif kind in BOARD_KINDS:
        base = {**board_defaults(kind), **{k: None for k in BOARD_DISPLAY}}
        again = board_settings(kind, {k: v for k, v in settings.items() if k not in BOARD_DISPLAY}, base)
        runtime = {key: _stored_id(settings.get(key)) for key in BOARD_DISPLAY}
        if kind == "questions" and settings.get("columns") != []:
            raise DomainError("bad_columns", limit=MAX_COLUMNS)
    else:
        raise DomainError("bad_settings")
    again = {**again, **runtime}
    if again != settings or any(type(again[k]) is not type(settings[k]) for k in again):
        raise DomainError("bad_settings")
    return again


def _stored_id(value: object, zero: bool = False) -> int | None:
    if value is None or (zero and value == 0 and not isinstance(value, bool)):
        return value
    if identifier(value) is None:
        raise DomainError("bad_settings")
    return value


def stored_detail(detail: object) -> dict | None:
    """A timeline entry's detail: a few short scalar values (what `sessions.record` stores)."""
    if detail is None:
        return None
    if not isinstance(detail, dict) or len(detail) > DETAIL_KEYS:
        raise DomainError("bad_detail")
    for key, value in detail.items():
        if not (isinstance(key, str) and 0 < len(key) <= DETAIL_KEY_LENGTH):
            raise DomainError("bad_detail")
        if isinstance(value, str):
            stored_text(value, "detail", DETAIL_VALUE_LENGTH, required=False)
        elif isinstance(value, int) and not isinstance(value, bool):
            if not 0 <= value <= MAX_ID:
                raise DomainError("bad_detail")
        elif value is not None and not isinstance(value, bool):
            raise DomainError("bad_detail")
    return detail


def paper_entry(poll_type: object, option_ids: frozenset[int], scale_max: int, target: object,
                delta: object) -> tuple[int | None, int | None, int]:
    """A paper count for a poll: (option id, scale value, delta). The delta is a non-zero integer
    within +-MAX_PAPER_ENTRY (negative: a correction); the target an option of the poll, or a
    value of its scale. Rankings (and any other kind) take no paper count."""
    if poll_type not in PAPER_TYPES:
        raise DomainError("paper_not_countable")
    count = integer(delta, "bad_paper_count", -MAX_PAPER_ENTRY, MAX_PAPER_ENTRY)
    if count == 0:
        raise DomainError("bad_paper_count", low=-MAX_PAPER_ENTRY, limit=MAX_PAPER_ENTRY)
    if poll_type == "scale":
        return None, integer(target, "bad_paper_option", 1, scale_max), count
    option = integer(target, "bad_paper_option", 1, 2**31 - 1)
    if option not in option_ids:
        raise DomainError("bad_paper_option")
    return option, None, count


# --- the room's pulse -----------------------------------------------------------------------

PACES = {"slow": -1, "ok": 0, "fast": 1}  # "too slow", "OK", "too fast"


def pace(value: object) -> int:
    """A participant's pace choice: "slow", "ok" or "fast" (the form's and the socket's value)."""
    if isinstance(value, str) and value.strip().lower() in PACES:
        return PACES[value.strip().lower()]
    raise DomainError("bad_pace")


# The quick reactions a phone may send (name -> what the screen shows); the database checks the names.
REACTIONS = {"clap": "👏", "like": "👍", "love": "❤️", "laugh": "😂", "think": "🤔", "question": "❓"}


def reaction(value: object) -> str:
    """A participant's quick reaction: one of `REACTIONS` by name."""
    if isinstance(value, str) and value.strip().lower() in REACTIONS:
        return value.strip().lower()
    raise DomainError("bad_reaction")


def hand_name(value: object) -> str | None:
    """The optional name a participant gives with a raised hand (shown on the console only)."""
    return optional_text(value, "name", NAME_LENGTH)
