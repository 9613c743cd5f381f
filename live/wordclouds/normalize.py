"""Word-cloud entries: validation, grouping of spelling variants, profanity flag.

Pure functions, no Flask, no database. The rules, in the order they apply:

1. An entry is cleaned by `live.text.clean` (NFC, invisible and control characters removed,
   spaces collapsed, length capped). Its cleaned text is what the room may see.
2. For grouping it is then *folded*: case folded, accents removed, œ/æ spelt out, and split into
   words on everything that is not a letter or a digit. So spaces, hyphens, apostrophes,
   punctuation and emoji never separate two entries: "low tech", "Low-Tech" and "lowtech" are one
   item, "🌱 sobriété" counts as "sobriété". An entry with no letter or digit counts by its emoji,
   each a whole grapheme cluster ("🇫🇷", "👩‍💻"; variation selectors aside); one with neither
   ("...", or only faces such as "🙂", reactions rather than answers) is refused as empty; an
   entry made only of stop words ("le", "the", "de la") is refused as a stop word.
3. The grouping key skips leading articles ("le cloud" → "cloud", "l'humain" → "humain"), then
   stems every word with a Snowball stemmer (`snowballstemmer`, French or English) and stems
   once more the compound of those stems with the last word, so "data centers" meets
   "datacenter" and "fractures numériques" meets "fracture numérique". Multi-word entries stay
   whole: the key of "fracture numérique" never meets "numérique" alone.
4. The session's locale picks the stemmer. Both stemmers strip a plural "-s", so most foreign
   entries group as well. The singulars the other stemmer cannot match with their plural are
   recognised by their ending (English "-y", French "-aux") and stemmed in their own language
   first: "community" meets "communities" in a French session, "locaux" meets "local" in an
   English one. A side effect, in a French session, is that English cognates in "-y" meet their
   French word ("energy" / "énergie", "sobriety" / "sobriété"). A final "-s" or "-x" after a
   vowel, which neither stemmer strips ("vidéos", "jeux", "lois", "pneus"), is dropped from every
   stem, so French plurals of words ending in a vowel meet their singular; a singular in "-au"
   takes the stem the French stemmer gives its plural in "-aux" ("tuyau" / "tuyaux"), and
   "-ys" is read as the plural of "-y" ("jury" / "jurys").
5. A group is shown by its label (`label`): its most frequent spelling, case aside, written in
   lower case but for acronyms and inner capitals ("IA", "5G", "OpenStreetMap").

What this groups, and what it keeps apart, is pinned down word by word in
`tests/test_wordcloud_normalize.py` (the grouping table). In short: case, accents, plurals,
French gender and past-participle agreement, a verb with its action noun ("mutualiser" /
"mutualisation", "partager" / "partage"); but not an adjective with its "-ité" noun ("durable" /
"durabilité", "local" / "localité"), nor "numérique" / "numériser". Where the stemmer is too
fine, a moderator merges groups by hand; a group cannot be split, so where in doubt automatic
grouping stays apart: a wrong merge would hide an answer.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import TYPE_CHECKING

from live.text import TextError, clean
from live.wordclouds import lexicon

if TYPE_CHECKING:
    from snowballstemmer.basestemmer import BaseStemmer

MAX_LENGTH = 40
LOCALES = ("fr", "en")
_STEMMER_LANGUAGES = {"fr": "french", "en": "english"}
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})
_REPEATS = re.compile(r"(.)\1{2,}")


class EntryError(TextError):
    """An entry refused from a word cloud; `code` is 'type', 'empty', 'too_long' or 'stopword'."""


@dataclass(frozen=True)
class Entry:
    """One accepted entry: its cleaned text and its folded words."""

    text: str
    words: tuple[str, ...]


@dataclass
class Group:
    """Entries counted together: grouping key, text shown, count and each original spelling."""

    key: str
    text: str
    count: int = 0
    spellings: Counter[str] = field(default_factory=Counter)


def normalize_entry(text: object, max_length: int = MAX_LENGTH) -> Entry:
    """Return `text` as an accepted Entry, or raise EntryError with a code."""
    try:
        cleaned = clean(text, max_length)
    except TextError as error:
        raise EntryError(error.code, error.limit) from None
    folded = tuple(lexicon.words(cleaned))
    if not folded:
        # An entry of emoji only ("🇫🇷", "👩‍💻") counts by its emoji, each whole; faces alone
        # ("🙂") are reactions, refused as empty like punctuation.
        symbols = tuple(lexicon.emoji(cleaned))
        if not symbols or all(lexicon.is_face(symbol) for symbol in symbols):
            raise EntryError("empty")
        return Entry(cleaned, symbols)
    if all(word in lexicon.stopwords() for word in folded):
        raise EntryError("stopword")
    return Entry(cleaned, folded)


def group_key(text: str, locale: str = "fr") -> str:
    """Return the key under which `text` is counted in a session of `locale` ('fr' or 'en')."""
    return _key(tuple(lexicon.tokens(text)), _locale(locale))


def group_entries(entries: Iterable[tuple[str, ...] | str], locale: str = "fr",
                  max_length: int = MAX_LENGTH) -> list[Group]:
    """Group submissions (each a tuple of texts), most counted first; invalid texts are skipped.

    A submission counts at most once per group: a participant who sends "sobriété" and
    "sobriete" together adds one, not two. A group's display text is its most frequent spelling,
    the earliest one on a tie; groups of equal count keep their first-seen order.
    """
    locale = _locale(locale)
    groups: dict[str, Group] = {}
    for submission in entries:
        seen: set[str] = set()
        for text in submission if isinstance(submission, tuple | list) else (submission,):
            try:
                entry = normalize_entry(text, max_length)
            except EntryError:
                continue
            key = _key(entry.words, locale)
            if key in seen:
                continue
            seen.add(key)
            group = groups.setdefault(key, Group(key, entry.text))
            group.count += 1
            group.spellings[entry.text] += 1
    for group in groups.values():
        group.text = label(group.spellings)
    return sorted(groups.values(), key=lambda group: -group.count)


_PARTS = re.compile(r"([\s\-'’]+)")


def label(spellings: Counter[str]) -> str:
    """The text a group is shown by: its most frequent spelling, case aside, in lower case.

    Spellings differing only by case count together ("Partage", "partage" and "PARTAGE" are one
    spelling); of equal counts the earliest wins (a Counter keeps first-seen order). Then each
    word is written in lower case, like every other label of the cloud, unless most entries of
    that spelling write it with a capital past its first letter and it reads as a name or an
    acronym: "IA", "RGPD", "5G", "OpenStreetMap" keep their capitals; "Partage", "SOBRIÉTÉ" and
    "Low-Tech" do not (a capital first letter is usually the phone's, all capitals a shout).
    """
    forms: Counter[str] = Counter()
    for text, count in spellings.items():
        forms[text.lower()] += count
    if not forms:
        return ""
    form = max(forms, key=forms.__getitem__)
    variants: Counter[str] = Counter()
    for text, count in spellings.items():
        if text.lower() == form:
            variants[text] += count
    written = max(variants, key=variants.__getitem__)
    if len(written) != len(form):  # a case mapping that changes length: keep it as typed
        return written
    kept = _PARTS.split(written)
    out = []
    for index, part in enumerate(_PARTS.split(form)):
        cased = Counter(_PARTS.split(text)[index] for text in variants.elements()
                        if len(_PARTS.split(text)) > index)
        best = max(cased, key=cased.__getitem__) if cased else kept[index]
        out.append(best if _keeps_capitals(best) else part)
    return "".join(out)


def _keeps_capitals(word: str) -> bool:
    """An acronym ("IA", "RGPD", "5G", at most 5 letters) or a name with inner capitals ("OpenData")."""
    letters = [ch for ch in word if ch.isalpha()]
    inner = any(ch.isupper() for ch in word[1:])
    if not inner:
        return False
    if all(ch.isupper() for ch in letters):
        return len(letters) <= 5
    return True


def frequencies(groups: Iterable[Group], limit: int = 200) -> dict[str, int]:
    """Return `{display text: count}` of the `limit` most counted groups, for the renderer."""
    ranked = sorted(groups, key=lambda group: -group.count)[:limit]
    return {group.text: group.count for group in ranked}


def is_profane(text: str) -> bool:
    """Tell whether `text` contains a listed profane word or phrase (FR+EN, whole words)."""
    if not isinstance(text, str):
        return False
    tokens = [_light(word) for word in lexicon.words(_REPEATS.sub(r"\1", text.translate(_LEET)))]
    listed = _light_profanity()
    return any(
        " ".join(tokens[start:start + size]) in listed
        for size in (1, 2, 3)
        for start in range(len(tokens) - size + 1)
    )


def _locale(locale: str) -> str:
    return locale if locale in LOCALES else LOCALES[0]


def _key(words: tuple[str, ...], locale: str) -> str:
    if words and not words[0][0].isalnum():  # emoji: counted as they are, nothing to stem
        return " ".join(words)
    start = 0
    while start < len(words) - 1 and words[start] in lexicon.LEADING_DETERMINERS:
        start += 1
    words = tuple(_foreign_stem(word, locale) for word in words[start:])
    if not words:
        return ""
    # "data centers" is keyed as the compound "datacenters" (with "data" stemmed first), so it
    # meets "datacenter"; a plural on any word still folds ("fractures numériques").
    head = "".join(_stem(word, locale) for word in words[:-1])
    return _stem(head + words[-1], locale)


def _foreign_stem(word: str, locale: str) -> str:
    """Stem first in the other language a word whose ending belongs to it ("community" in French)."""
    base = word[:-1] if word.endswith("ys") else word  # "jurys" is the plural of "jury"
    for language, endings in lexicon.UNMISTAKABLE_ENDINGS.items():
        if language != locale and len(base) > 3 and base.endswith(endings):
            return _stem(base, language)
    return word


@cache
def _stemmer(language: str) -> BaseStemmer:
    import snowballstemmer  # loaded by the first word to stem (2.5 MB a server without a cloud keeps)

    return snowballstemmer.stemmer(_STEMMER_LANGUAGES[language])


@lru_cache(maxsize=8192)
def _stem(word: str, language: str) -> str:
    # Accents are gone before stemming (so "donnees" meets "données"); a French feminine
    # participle then ends in "ee", which the French stemmer no longer recognises: give it the
    # masculine ending so that "reconditionnée" meets "reconditionné".
    if word.endswith("ees"):
        word = word[:-3] + "es"
    elif word.endswith("ee"):
        word = word[:-1]
    if word.endswith("ys") and len(word) > 4:  # "jurys", "rugbys": the stemmers read "-ys" apart
        word = word[:-1]
    stem = _stemmer(language).stemWord(word)
    # A plural "-s" or "-x" after a vowel survives both stemmers ("vidéos", "jeux", "lois"):
    # drop it from the stem, which also drops it from the singular's ("français" / "françaises").
    if len(stem) > 3 and stem[-1] in "sx" and stem[-2] in "aeiouy":
        stem = stem[:-1]
    # The French stemmer reads every "-aux" as the plural of "-al" ("locaux" / "local"): a
    # singular in "-au" ("tuyau", "noyau"; not "-eau") takes the same stem as its plural.
    if len(stem) > 3 and stem.endswith("au") and not stem.endswith("eau"):
        stem = stem[:-2] + "al"
    return stem


def _light(word: str) -> str:
    if len(word) > 3 and word[-1] in "sx":
        word = word[:-1]
    return word[:-1] if word.endswith("ee") else word


@cache
def _light_profanity() -> frozenset[str]:
    return frozenset(" ".join(_light(word) for word in phrase.split()) for phrase in lexicon.profanity())
