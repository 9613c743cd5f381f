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
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae"})


def fold(text: str) -> str:
    """Return `text` case folded, without accents and with œ/æ spelt out."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_LIGATURES))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """Split `text` into folded words; punctuation, symbols, emoji and underscores separate."""
    return _WORD.findall(fold(text))


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
