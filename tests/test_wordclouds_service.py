"""Word-cloud entries, caps, grouping after moderation."""

import pytest
from conftest import command
from support import race

from live.errors import DomainError
from live.sessions import service as sessions
from live.sessions.model import Activity
from live.wordclouds import service


@pytest.fixture
def cloud(store, live):
    with store.write() as db:
        activity = service.add_wordcloud(db, sessions.get_session(db, live["id"]), "En un mot ?",
                                         {"entries_per_participant": 2})
        activity_id = activity.id
    command(store, live["id"], "open", activity_id)
    return activity_id


def send(store, live, activity_id, device, text):
    with store.write() as db:
        s = sessions.get_session(db, live["id"])
        person = sessions.join(db, s, device)
        return service.add_entry(db, s, sessions.get_activity(db, s, activity_id), person, text).id


def shown(store, activity_id):
    with store.read() as db:
        return service.cloud(db, db.get(Activity, activity_id))


def test_variants_count_together_and_show_most_frequent_spelling(store, live, cloud):
    for device, text in [("a", "Sobriété"), ("b", "sobriete"), ("c", "sobriété"), ("d", "sobriétés"),
                         ("e", "sobriété")]:
        send(store, live, cloud, device, text)
    assert shown(store, cloud) == {"sobriété": 5}


def test_entry_cap_per_participant_and_withdraw_frees_a_slot(store, live, cloud):
    first = send(store, live, cloud, "a", "local")
    send(store, live, cloud, "a", "low tech")
    with pytest.raises(DomainError, match="too_many_entries"):
        send(store, live, cloud, "a", "frugal")
    with store.write() as db:
        s = sessions.get_session(db, live["id"])
        service.withdraw_entry(db, db.get(Activity, cloud), sessions.join(db, s, "a"), first)
    send(store, live, cloud, "a", "frugal")
    assert set(shown(store, cloud)) == {"low tech", "frugal"}


@pytest.mark.parametrize("text, code", [
    ("   ", "entry_empty"), ("\u200b\u202e", "entry_empty"), ("le", "entry_stopword"),
    ("x" * 41, "entry_too_long"), (42, "entry_type"),
])
def test_bad_entries_are_refused(store, live, cloud, text, code):
    with pytest.raises(DomainError) as exc:
        send(store, live, cloud, "a", text)
    assert exc.value.code == code
    assert shown(store, cloud) == {}


def test_hide_merge_restore(store, live, cloud):
    for device, text in [("a", "IA"), ("b", "intelligence artificielle"), ("c", "IA"), ("d", "spam")]:
        send(store, live, cloud, device, text)

    def moderate(action, key, into=None):
        with store.write() as db:
            s = sessions.get_session(db, live["id"])
            service.moderate(db, s, db.get(Activity, cloud), action, key, into)

    keys = {g.text: g.key for g in _groups(store, cloud)}
    moderate("hide", keys["spam"])
    assert "spam" not in shown(store, cloud)
    moderate("merge", keys["intelligence artificielle"], keys["IA"])
    assert shown(store, cloud) == {"IA": 3}
    moderate("restore", keys["spam"])
    moderate("unmerge", keys["intelligence artificielle"])
    assert shown(store, cloud) == {"IA": 2, "intelligence artificielle": 1, "spam": 1}


def _groups(store, activity_id):
    with store.read() as db:
        return service.groups(db, db.get(Activity, activity_id))


def test_profanity_is_held_until_released(store, live, cloud):
    send(store, live, cloud, "a", "merde")
    send(store, live, cloud, "b", "local")
    assert shown(store, cloud) == {"local": 1}
    held = [g for g in _groups(store, cloud) if g.held]
    assert len(held) == 1
    with store.write() as db:
        s = sessions.get_session(db, live["id"])
        service.moderate(db, s, db.get(Activity, cloud), "release", held[0].key)
    assert shown(store, cloud) == {"merde": 1, "local": 1}


def test_entries_on_closed_cloud_are_refused(store, live, cloud):
    command(store, live["id"], "close", cloud)
    with pytest.raises(DomainError, match="activity_closed"):
        send(store, live, cloud, "a", "local")


def _race_words(store, other, live, cloud, device, word_rate=None) -> list:
    """Four words of one participant sent at once, alternately from either store."""
    def type_one(db, word):
        s = sessions.get_session(db, live["id"])
        service.add_entry(db, s, sessions.get_activity(db, s, cloud), sessions.join(db, s, device), word,
                          word_rate=word_rate)

    return race([((store, other)[n % 2], lambda db, word=f"mot{n}": type_one(db, word)) for n in range(4)])


def test_words_sent_at_once_from_two_processes_fill_the_free_slots(store, live, cloud):
    # Two Store objects on one database behave like two server processes (a phone's socket on
    # one, its offline form post on the other). On PostgreSQL both transactions run at once:
    # two words of one participant read the same free slot, and the second was refused by the
    # database's unique slot instead of taking the next free one.
    from live.store import Store

    other = Store(store.url)
    try:
        for round_ in range(6):
            device = f"typist-{round_}"
            send(store, live, cloud, device, "premier")  # the participant exists, one slot left
            outcomes = _race_words(store, other, live, cloud, device)
            assert sorted(outcomes) == ["ok"] + ["too_many_entries"] * 3, outcomes
    finally:
        other.dispose()


@pytest.fixture
def roomy(store, live):
    """An open word cloud of ten words a participant."""
    with store.write() as db:
        s = sessions.get_session(db, live["id"])
        activity_id = service.add_wordcloud(db, s, "En dix mots ?", {"entries_per_participant": 10}).id
    command(store, live["id"], "open", activity_id)
    return activity_id


def test_words_sent_at_once_from_two_processes_keep_the_word_rate(store, live, roomy):
    # The word rate (so many words sent or taken back per 10 s) across two processes: on
    # PostgreSQL both transactions run at once, the words of one participant sent in the same
    # instant all counted the same words before them, and more than the rate went through.
    from live.store import Store

    other = Store(store.url)
    try:
        for round_ in range(6):
            device = f"hasty-{round_}"
            for word in ("sobriété", "partage"):  # two of the three words of the rate
                send(store, live, roomy, device, word)
            outcomes = _race_words(store, other, live, roomy, device, word_rate=3)
            assert sorted(outcomes) == ["ok"] + ["words_too_fast"] * 3, outcomes
    finally:
        other.dispose()


def test_words_taken_back_at_once_from_two_processes_keep_the_word_rate(store, live, roomy):
    # Taking words back counts in the rate too: four taken back in the same instant through two
    # processes, with one left under the rate, let more than one through on PostgreSQL.
    from datetime import timedelta

    from sqlalchemy import update

    from live.store import Store, utcnow
    from live.wordclouds.model import WordEntry

    def take_back(db, device, entry_id):
        s = sessions.get_session(db, live["id"])
        service.withdraw_entry(db, sessions.get_activity(db, s, roomy), sessions.join(db, s, device),
                               entry_id, word_rate=1)

    other = Store(store.url)
    try:
        for round_ in range(6):
            device = f"regretful-{round_}"
            ids = [send(store, live, roomy, device, word)
                   for word in ("sobriété", "partage", "réemploi", "lenteur")]
            with store.write() as db:  # sent a minute ago: out of the rate's 10 s
                db.execute(update(WordEntry).where(WordEntry.id.in_(ids)).values(
                    created_at=utcnow() - timedelta(minutes=1)))
            outcomes = race([((store, other)[n % 2],
                              lambda db, entry_id=entry_id, device=device: take_back(db, device, entry_id))
                             for n, entry_id in enumerate(ids)])
            assert sorted(outcomes) == ["ok"] + ["words_too_fast"] * 3, outcomes
    finally:
        other.dispose()
