"""Cleaning of every text that comes from outside (participants, facilitators, organisers).

Rules (architecture brief, security model): Unicode NFC; control, zero-width and
bidi-override characters removed; whitespace collapsed; length capped. Text is always
stored as text and rendered escaped; nothing here produces markup.
"""

from __future__ import annotations

import re
import unicodedata

import regex

# Zero-width and invisible formatting characters, bidi embeddings/overrides/isolates, BOM.
_INVISIBLE = {
    "\u200b", "\u200c", "\u200d", "\u200e", "\u200f",  # zero-width space/joiners, LRM/RLM
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",  # bidi embeddings and overrides
    "\u2060", "\u2061", "\u2062", "\u2063", "\u2064",  # word joiner, invisible operators
    "\u2066", "\u2067", "\u2068", "\u2069",  # bidi isolates
    "\u206a", "\u206b", "\u206c", "\u206d", "\u206e", "\u206f",
    "\ufeff",  # byte order mark / zero-width no-break space
    "\u00ad",  # soft hyphen
    "\u180e",
}
_SPACES = re.compile(r"\s+")
# Combining marks stacked beyond this many on one base character are dropped ("Zalgo" text).
MAX_COMBINING_MARKS = 3


class TextError(ValueError):
    """A text that cannot be accepted; `code` names the reason for a translated message."""

    def __init__(self, code: str, limit: int | None = None):
        super().__init__(code)
        self.code = code
        self.limit = limit


def _keep(ch: str) -> bool:
    if ch in _INVISIBLE:
        return False
    category = unicodedata.category(ch)
    # Cc: control characters (newlines are handled by the caller), Cs: lone surrogates,
    # Co/Cn: private use and unassigned code points.
    return category not in {"Cc", "Cs", "Co", "Cn", "Cf"}


# An emoji and what binds it into one picture: zero-width joiners ("👩‍💻"), variation selectors,
# skin tones and tag characters (the flag of Scotland). Inside such a cluster they are kept.
_CLUSTER = regex.compile(r"\X")
_EMOJI_START = regex.compile(r"[\p{Extended_Pictographic}\p{Regional_Indicator}]")
_BINDERS = re.compile("[\u200d\U000e0020-\U000e007f]")


def _visible(text: str) -> str:
    """`text` without invisible characters, except those binding an emoji's grapheme cluster."""
    if not _BINDERS.search(text):
        return "".join(ch for ch in text if _keep(ch))
    out = []
    for cluster in _CLUSTER.findall(text):
        bound = bool(_EMOJI_START.match(cluster))
        out.append("".join(ch for ch in cluster if _keep(ch) or (bound and _BINDERS.match(ch))))
    return "".join(out)


def _limit_combining(text: str) -> str:
    out: list[str] = []
    run = 0
    for ch in text:
        if unicodedata.combining(ch):
            run += 1
            if run > MAX_COMBINING_MARKS:
                continue
        else:
            run = 0
        out.append(ch)
    return "".join(out)


def clean(value: object, max_length: int, *, multiline: bool = False, required: bool = True) -> str:
    """Return `value` as clean text, or raise TextError('type'|'empty'|'too_long')."""
    if not isinstance(value, str):
        raise TextError("type")
    text = unicodedata.normalize("NFC", value)
    if multiline:
        lines = [_visible(line) for line in text.splitlines()]
        lines = [_SPACES.sub(" ", line).strip() for line in lines]
        text = "\n".join(lines)
        text = re.sub(r"\n{3,}", "\n\n", text).strip()
    else:
        text = _visible("".join(" " if ch in "\t\r\n" else ch for ch in text))
        text = _SPACES.sub(" ", text).strip()
    text = _limit_combining(text)
    if not text:
        if required:
            raise TextError("empty")
        return ""
    if len(text) > max_length:
        raise TextError("too_long", max_length)
    return text


def clean_optional(value: object, max_length: int) -> str | None:
    """Like `clean`, but None or a blank string gives None."""
    if value is None:
        return None
    text = clean(value, max_length, required=False)
    return text or None
