"""Likely duplicates (rapidfuzz) and the profanity flag of contributions."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache

from rapidfuzz import fuzz, process, utils

# Scores are 0..100; token_set_ratio ignores word order and repeated words.
DUPLICATE_SCORE = 80
MAX_SUGGESTIONS = 40
_WORD = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    """Case folded, without accents: how two texts are compared."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("œ", "oe").replace("æ", "ae"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def duplicates(candidates: Iterable[tuple[int, str]], others: Iterable[tuple[int, str]],
               cutoff: int = DUPLICATE_SCORE) -> list[dict]:
    """Pairs {item, like, score}: each candidate with the items it probably repeats."""
    pool = {item_id: fold(text) for item_id, text in others}
    pairs: dict[frozenset, dict] = {}
    for item_id, text in candidates:
        matches = process.extract(fold(text), pool, scorer=fuzz.token_set_ratio,
                                  processor=utils.default_process, score_cutoff=cutoff, limit=5)
        for _, score, other_id in matches:
            key = frozenset((item_id, other_id))
            if other_id != item_id and key not in pairs:
                # Suggest folding the later item into the earlier one.
                newer, older = max(item_id, other_id), min(item_id, other_id)
                pairs[key] = {"item": newer, "like": older, "score": round(score)}
    return sorted(pairs.values(), key=lambda p: -p["score"])[:MAX_SUGGESTIONS]


@cache
def _lexicon_check():
    # The word clouds own the profanity lists; use their check (same lists, same folding).
    try:
        from live.wordclouds.normalize import is_profane as shared_check
    except ImportError:
        shared_check = None
    if shared_check is not None:
        return shared_check
    try:
        from live.wordclouds import lexicon
    except ImportError:
        return None
    if hasattr(lexicon, "is_profane"):
        return lexicon.is_profane
    if hasattr(lexicon, "profanity") and hasattr(lexicon, "words"):
        def check(text: str) -> bool:
            words = lexicon.words(text)
            banned = lexicon.profanity()
            return any(" ".join(words[i:j]) in banned
                       for i in range(len(words)) for j in range(i + 1, min(i + 4, len(words)) + 1))
        return check
    return None


_FALLBACK = frozenset({"connard", "connasse", "encule", "salope", "fuck", "shit", "asshole"})


def is_profane(text: str) -> bool:
    """True when the text contains a word or phrase of the profanity lists."""
    check = _lexicon_check()
    if check is not None:
        return bool(check(text))
    return any(word in _FALLBACK for word in _WORD.findall(fold(text)))
