"""Likely duplicates (rapidfuzz) and the profanity flag of contributions."""

from __future__ import annotations

from collections.abc import Iterable

from live.wordclouds import normalize
from live.wordclouds.lexicon import fold  # how two texts are compared: case and accents folded

# Scores are 0..100; token_set_ratio ignores word order and repeated words.
DUPLICATE_SCORE = 80
MAX_SUGGESTIONS = 40


def duplicates(candidates: Iterable[tuple[int, str]], others: Iterable[tuple[int, str]],
               cutoff: int = DUPLICATE_SCORE) -> list[dict]:
    """Pairs {item, like, score}: each candidate with the items it probably repeats."""
    from rapidfuzz import fuzz, process, utils  # loaded by the first moderation queue (2.4 MB)

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


def is_profane(text: str) -> bool:
    """True when the text contains a word or phrase of the profanity lists (the word clouds'
    lists and folding: one check for every kind of contribution)."""
    return normalize.is_profane(text)
