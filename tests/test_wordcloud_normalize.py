"""Word-cloud entries: what is refused, what groups together, what stays apart, what is profane."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from live.text import TextError
from live.wordclouds.normalize import (
    EntryError,
    frequencies,
    group_entries,
    group_key,
    is_profane,
    normalize_entry,
)

DATA = Path(__file__).resolve().parent / "data"
BOTH = ("fr", "en")

# THE GROUPING TABLE -----------------------------------------------------------------------------
# Each row: spellings that must count as ONE group, and the session locales where that holds.
SAME = [
    # case, accents, plural
    (BOTH, "sobriété", "sobriete", "Sobriété", "SOBRIÉTÉ", "sobriétés", "Sobriete"),
    (BOTH, "données", "donnees", "Données", "donnée"),
    (BOTH, "réemploi", "ré-emploi", "reemploi", "Réemploi"),
    (BOTH, "territoire", "territoires"),
    (BOTH, "énergie", "énergies", "Energie"),
    (BOTH, "cœur", "coeur", "Cœurs"),
    # spaces, hyphens and no separator are one multi-word item
    (BOTH, "low tech", "low-tech", "Low Tech", "LOW-TECH", "lowtech", "Low-Techs"),
    (BOTH, "éco-conception", "eco conception", "écoconception", "Eco-Conception"),
    (BOTH, "bon sens", "bon-sens", "Bon Sens"),
    (BOTH, "fracture numérique", "fractures numériques", "Fracture-Numérique"),
    (BOTH, "intelligence artificielle", "Intelligence Artificielle"),
    # leading article or elision, punctuation and emoji around the word
    (BOTH, "humain", "humains", "l'humain", "L’humain"),
    (BOTH, "cloud", "le cloud", "the cloud", "Cloud !"),
    (BOTH, "sobriété", "🌱 sobriété", "sobriété !!!", "« sobriété »"),
    # French plural in -aux, in both sessions
    (BOTH, "local", "locaux", "Local"),
    (BOTH, "réseau", "réseaux"),
    # French gender and participle agreement (French stemmer)
    (("fr",), "local", "locale", "locales"),
    (("fr",), "frugal", "frugale", "frugaux", "frugales"),
    (("fr",), "reconditionné", "reconditionnée", "reconditionnés", "reconditionnées"),
    (("fr",), "inclusif", "inclusive", "inclusifs", "inclusives"),
    (("fr",), "collectif", "collective", "collectifs"),
    (BOTH, "vertueux", "vertueuse", "vertueuses"),
    # a verb with its action noun: one idea (French stemmer)
    (("fr",), "mutualiser", "mutualisation", "mutualisations"),
    (("fr",), "partage", "partager", "partages"),
    (("fr",), "sensibiliser", "sensibilisation"),
    (("fr",), "réparer", "réparation", "réparable"),
    # English plurals, in both sessions
    (BOTH, "repair", "repairs", "Repair"),
    (BOTH, "community", "communities"),
    (BOTH, "library", "libraries"),
    (BOTH, "open source", "open-source", "opensource"),
    (BOTH, "right to repair", "rights to repair"),
    (("en",), "data center", "data centers", "datacenter"),
    (("en",), "repair", "repairing"),
    # known over-merges of the Snowball stemmers, kept because they are rare in answers
    (("fr",), "données", "don"),
    (("fr",), "commune", "communication"),
    (("fr",), "energy", "énergie"),  # English "-y" cognates meet their French word
    (("fr",), "sobriety", "sobriété"),
    (BOTH, "sustainable", "sustainability"),  # the English stemmer is coarser than the French
]

# Pairs that must stay TWO groups, and where.
APART = [
    (BOTH, "durable", "durabilité"),  # adjective vs "-ité" noun
    (BOTH, "local", "localité"),
    (BOTH, "utile", "utilité"),
    (BOTH, "simple", "simplicité"),
    (BOTH, "frugal", "frugalité"),
    (BOTH, "accessible", "accessibilité"),
    (BOTH, "responsable", "responsabilité"),
    (BOTH, "numérique", "numériser"),
    (BOTH, "former", "formation"),
    (BOTH, "humain", "humanité"),
    (BOTH, "écologie", "écolo"),
    (BOTH, "libre", "liberté"),
    (BOTH, "sobre", "sobriété"),
    (BOTH, "numérique", "fracture numérique"),  # multi-word items stay whole
    (BOTH, "obsolescence", "obsolescence programmée"),
    (BOTH, "more", "less is more"),
    (BOTH, "IA", "intelligence artificielle"),  # synonyms: a moderator merges them
    (("en",), "sobriety", "sobriété"),
    # limits of the stemmers (a moderator merges these by hand)
    (BOTH, "nouveau", "nouvelle"),
    (BOTH, "public", "publique"),
    (("en",), "inclusif", "inclusive"),  # French gender pairs in an English session
    (("fr",), "data center", "datacenter"),
]


# More rows, kept as data (tests/data/wordcloud-grouping.json): French plurals in -s/-x after
# a vowel, which neither stemmer strips ("vidéos", "jeux", "lois"), and emoji entries.
_MORE = json.loads((DATA / "wordcloud-grouping.json").read_text(encoding="utf-8"))
SAME += [(tuple(locales), *row) for locales, *row in _MORE["same"]]
APART += [(tuple(locales), *row) for locales, *row in _MORE["apart"]]


def _cases(table):
    return [pytest.param(locale, row, id=f"{locale}:{'|'.join(row)}")
            for locales, *row in table for locale in locales]


@pytest.mark.parametrize(("locale", "spellings"), _cases(SAME))
def test_spellings_group_together(locale, spellings):
    assert len({group_key(text, locale) for text in spellings}) == 1
    assert len(group_entries(spellings, locale)) == 1


@pytest.mark.parametrize(("locale", "pair"), _cases(APART))
def test_different_words_stay_apart(locale, pair):
    assert group_key(pair[0], locale) != group_key(pair[1], locale)


# Refusals -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "code"), [
    ("", "empty"), ("   ", "empty"), ("\u200b\u200d", "empty"), ("...", "empty"), ("???", "empty"),
    ("🙂", "empty"), ("🙂😀", "empty"), ("le", "stopword"), ("The", "stopword"), ("de la", "stopword"),
    ("c'est", "stopword"), ("et", "stopword"), ("and", "stopword"), ("À", "stopword"),
    ("x" * 41, "too_long"), (None, "type"), (3, "type"), (["sobriété"], "type"), ({"$ne": None}, "type"),
])
def test_refused_entries_say_why(text, code):
    with pytest.raises(EntryError) as refused:
        normalize_entry(text)
    assert refused.value.code == code


@pytest.mark.parametrize("text", ["moins", "plus", "less", "less is more", "ensemble", "non", "tous",
                                  "5G", "IA", "le cloud", "l'humain", "de la sobriété"])
def test_answers_made_of_short_words_are_accepted(text):
    assert normalize_entry(text).text == text


def test_entry_errors_are_text_errors_with_the_limit():
    with pytest.raises(TextError) as refused:
        normalize_entry("a" * 13, max_length=12)
    assert (refused.value.code, refused.value.limit) == ("too_long", 12)


def test_entry_text_is_cleaned_but_keeps_its_spelling():
    entry = normalize_entry("  Éco-\u200bConception\u202e  ")
    assert entry.text == "Éco-Conception"
    assert entry.words == ("eco", "conception")


def _hostile():
    data = json.loads((DATA / "hostile-inputs.json").read_text(encoding="utf-8"))
    texts = data["markup"] + data["unicode"] + data["spreadsheet"] + data["types"]
    return texts + ["x" * data["sizes"]["long_word_chars"], "mot " * (data["sizes"]["long_text_chars"] // 4)]


@pytest.mark.parametrize("value", _hostile(), ids=repr)
def test_hostile_inputs_are_accepted_or_refused_never_crash(value):
    try:
        entry = normalize_entry(value, max_length=80)
    except EntryError as refused:
        assert refused.code in {"type", "empty", "too_long", "stopword"}
    else:
        assert entry.words and "\u202e" not in entry.text and "\x00" not in entry.text


# Grouping many entries ------------------------------------------------------------------------

def test_a_participant_counts_once_per_group():
    groups = group_entries([("sobriété", "Sobriete", "low tech"), ("sobriété",)])
    assert [(group.text, group.count) for group in groups] == [("sobriété", 2), ("low tech", 1)]


@pytest.mark.parametrize(("entries", "shown"), [
    (["sobriete", "sobriété", "sobriété"], "sobriété"),  # most frequent spelling
    (["Sobriete", "sobriété", "sobriété", "Sobriete"], "sobriete"),  # tie: the earliest, in lower case
])
def test_group_shows_its_most_frequent_spelling(entries, shown):
    (group,) = group_entries(entries)
    assert group.text == shown
    assert group.count == len(entries)


@pytest.mark.parametrize(("entries", "shown"), [
    (["Partage", "partage", "Partage"], "partage"),  # a capital first letter is the phone's
    (["SOBRIÉTÉ", "SOBRIÉTÉ", "sobriete"], "sobriété"),  # shouting is not a spelling
    (["Low-Tech", "low tech", "Low-Tech"], "low-tech"),
    (["IA", "ia", "IA"], "IA"),  # acronyms keep their capitals...
    (["rgpd", "RGPD", "rgpd"], "rgpd"),  # ...when most write them so
    (["5G"], "5G"),
    (["OpenStreetMap", "openstreetmap", "OpenStreetMap"], "OpenStreetMap"),  # inner capitals
    (["Intelligence Artificielle", "intelligence artificielle"], "intelligence artificielle"),
    (["vidéos", "Vidéo", "vidéos"], "vidéos"),
])
def test_labels_follow_one_capitalisation_rule(entries, shown):
    (group,) = group_entries(entries)
    assert group.text == shown


def test_labels_of_a_cloud_share_the_rule():
    texts = {group.text for group in group_entries(_realistic(), "fr")}
    assert {"partage", "local", "inclusion", "mutualisation", "IA"} <= texts
    assert not {"Partage", "Inclusion", "Mutualisation", "Confiance"} & texts


@pytest.mark.parametrize(("text", "words"), [
    ("🇫🇷", ("🇫🇷",)),  # a flag is one emoji, not empty
    ("👩‍💻", ("👩\u200d💻",)),  # a ZWJ sequence stays one emoji (the joiner is kept)
    ("🏴󠁧󠁢󠁳󠁣󠁴󠁿", ("🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",)),
    ("👍🏽", ("👍🏽",)),
    ("❤️", ("❤",)),
])
def test_emoji_entries_are_accepted_whole(text, words):
    entry = normalize_entry(text)
    assert entry.text == text and entry.words == words
    assert group_key(text) == " ".join(words)


def test_a_zwj_emoji_next_to_words_is_kept_whole():
    assert normalize_entry("👩‍💻 numérique").text == "👩\u200d💻 numérique"
    assert group_key("👩‍💻 numérique") == group_key("numérique")


def test_groups_of_equal_count_keep_first_seen_order():
    entries = ["vélo", "arbre", "pain", "arbre", "vélo"]
    assert [group.text for group in group_entries(entries)] == ["vélo", "arbre", "pain"]


def test_invalid_texts_are_skipped_when_grouping():
    groups = group_entries(["le", "...", "", None, "sobriété", "x" * 99])
    assert [group.text for group in groups] == ["sobriété"]


def test_frequencies_keep_the_most_counted_groups():
    groups = group_entries(["pain", "vélo", "vélo", "arbre", "arbre", "arbre"])
    assert frequencies(groups, limit=2) == {"arbre": 3, "vélo": 2}


def _realistic():
    return json.loads((DATA / "wordcloud-entries-fr.json").read_text(encoding="utf-8"))["entries"]


def test_realistic_entries_give_the_groups_a_facilitator_expects():
    groups = group_entries(_realistic(), "fr")
    top = [(group.text, group.count) for group in groups[:5]]
    assert top == [("sobriété", 44), ("réemploi", 18), ("low-tech", 16), ("eco conception", 14),
                   ("local", 11)]
    assert len(groups) == 50
    assert sum(group.count for group in groups) == 309  # 13 refused: stop words, noise, too long


@pytest.mark.parametrize("locale", BOTH)
def test_realistic_noise_never_reaches_the_cloud(locale):
    shown = {group.text for group in group_entries(_realistic(), locale)}
    assert not shown & {"le", "la", "les", "de", "du", "the", "and", "a", "et", "...", "???", "🙂"}
    assert not any(len(text) > 40 for text in shown)


# Profanity ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "merde", "MERDE !", "Putain de cloud", "ta gueule", "connards", "enculée", "bâtard",
    "fuck", "Fuuuuck this", "sh1t", "bullshit", "what a bitch", "FDP",
])
def test_profanity_is_flagged(text):
    assert is_profane(text)


@pytest.mark.parametrize("text", [
    "Scunthorpe", "conception", "connaissance", "cocktail", "dispute", "computer", "bite", "analyse",
    "shiitake", "sobriété", "passe", "merdre", "", None, 42,
])
def test_innocent_words_are_not_flagged(text):
    assert not is_profane(text)
