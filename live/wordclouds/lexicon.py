"""Word lists for word clouds: stop words and profanity, French and English.

The lists are plain text files under `data/` (one word or phrase per line, `#` comments) so that
an organiser can review them without reading Python. They are loaded once, folded the same way
as entries (case, accents, ligatures), and cached.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from importlib import resources

import regex

# Articles and contractions skipped at the start of a multi-word entry when building its
# grouping key ("le cloud" groups with "cloud", "l'humain" with "humain"). The display text
# keeps them.
LEADING_DETERMINERS = frozenset({
    "le", "la", "les", "l", "un", "une", "des", "du", "de", "d", "au", "aux",
    "the", "a", "an",
})

# Endings of singular/plural forms that only one language's stemmer matches ("community" /
# "communities", "local" / "locaux"): such words are first stemmed in that language.
UNMISTAKABLE_ENDINGS = {"en": ("y",), "fr": ("aux",)}

_WORD = re.compile(r"[^\W_]+")
# One emoji as a reader sees it (a grapheme cluster: "👩‍💻", "🇫🇷", "👍🏽" are one each).
_EMOJI = regex.compile(r"(?=[\p{Extended_Pictographic}\p{Regional_Indicator}])\X")
# A face alone is a reaction, not an answer (Unicode's Emoticons block and ☺ ☹).
_FACES = regex.compile(r"[\U0001F600-\U0001F64F\u263a\u2639]")
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae"})


def fold(text: str) -> str:
    """Return `text` case folded, without accents and with œ/æ spelt out."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_LIGATURES))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """Split `text` into folded words; punctuation, symbols, emoji and underscores separate."""
    return _WORD.findall(fold(text))


def emoji(text: str) -> list[str]:
    """The emoji of `text`, each whole (ZWJ sequences, flags, skin tones), variation selectors dropped."""
    return [cluster.replace("\ufe0f", "") for cluster in _EMOJI.findall(text)]


def is_face(symbol: str) -> bool:
    """Whether an emoji is a face (a reaction rather than an answer)."""
    return bool(_FACES.match(symbol))


def tokens(text: str) -> list[str]:
    """What an entry is counted by: its folded words, or its emoji when it has no word at all."""
    return words(text) or emoji(text)


def _read(name: str) -> list[str]:
    source = resources.files(__package__).joinpath("data", name).read_text(encoding="utf-8")
    lines = (line.split("#", 1)[0].strip() for line in source.splitlines())
    return [line for line in lines if line]


@cache
def stopwords() -> frozenset[str]:
    """French and English stop words, folded."""
    names = ("stopwords-fr.txt", "stopwords-en.txt")
    return frozenset(word for name in names for line in _read(name) for word in words(line))


@cache
def profanity() -> frozenset[str]:
    """French and English profane words and phrases, folded, words separated by one space."""
    names = ("profanity-fr.txt", "profanity-en.txt")
    return frozenset(" ".join(words(line)) for name in names for line in _read(name))
