"""Idea walls and Q&A in the service layer: settings, posting, dot votes, moderation, merge."""


import pytest
from conftest import command
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from support import race

from live.boards import service, similar
from live.boards.model import BoardVote, Item, ModerationEntry
from live.errors import DomainError
from live.sessions import service as sessions
from live.sessions.model import Activity
from live.store import Store


def add_board(store, session_id, kind="ideas", open_it=True, **settings):
    """Add an idea wall (or a Q&A), show and open it; return its id."""
    with store.write() as db:
        activity = service.add_board(db, sessions.get_session(db, session_id), kind,
                                     "Comment imaginer un numérique plus sobre ?", settings).id
    if open_it:
        command(store, session_id, "show", activity)
        command(store, session_id, "open", activity)
    return activity


def act(store, session_id, activity_id, fn, *args, device="phone-1", **kwargs):
    """Run a participant operation `fn(db, session, activity, participant, ...)`."""
    with store.write() as db:
        s = sessions.get_session(db, session_id)
        person = sessions.join(db, s, device)
        result = fn(db, s, sessions.get_activity(db, s, activity_id), person, *args, **kwargs)
        return getattr(result, "id", result)


def moderate(store, session_id, activity_id, action, item_ids, **kwargs):
    """Moderate items at their current versions."""
    with store.write() as db:
        s = sessions.get_session(db, session_id)
        activity = sessions.get_activity(db, s, activity_id)
        refs = [{"id": i, "version": db.get(Item, i).version} for i in item_ids]
        if "into" in kwargs:
            kwargs["into"] = {"id": kwargs["into"], "version": db.get(Item, kwargs["into"]).version}
        service.moderate(db, s, activity, action, refs, "moderator", **kwargs)


def item(store, item_id):
    with store.read() as db:
        return db.get(Item, item_id)


def mine(store, activity_id, device):
    with store.read() as db:
        s = db.get(Activity, activity_id).session
        person = sessions.join(db, s, device)
        return service.mine(db, db.get(Activity, activity_id), person.id)


def counts(store, activity_id):
    with store.read() as db:
        return service.vote_counts(db, db.get(Activity, activity_id))


@pytest.mark.parametrize("kind, raw, code", [
    ("ideas", {"columns": []}, "bad_columns"),
    ("ideas", {"columns": [f"c{i}" for i in range(7)]}, "bad_columns"),
    ("ideas", {"columns": ["x" * 41]}, "text_too_long"),
    ("ideas", {"columns": [5]}, "bad_columns"),
    ("ideas", {"budget": 0}, "bad_budget"),
    ("ideas", {"budget": 21}, "bad_budget"),
    ("ideas", {"budget": "lots"}, "bad_budget"),
    ("ideas", {"budget": True}, "bad_budget"),
    ("ideas", {"sort": "random"}, "bad_sort"),
    ("poll", {}, "not_a_board"),
])
def test_bad_settings_are_refused(kind, raw, code):
    with pytest.raises(DomainError) as exc:
        service.check_settings(kind, raw)
    assert exc.value.code == code


def test_defaults_one_column_three_votes_and_premoderation():
    settings = service.check_settings("ideas", {})
    assert len(settings["columns"]) == 1 and settings["budget"] == 3
    assert settings["premoderation"] and not settings["stack"]
    assert service.check_settings("questions", {})["budget"] == 0  # unlimited upvotes, once each


def test_premoderated_idea_is_pending_and_published_once_approved(store, live):
    wall = add_board(store, live["id"], columns=["Constats", "Idées", "Actions"])
    item_id = act(store, live["id"], wall, service.post, "Allonger la durée de vie", 2)
    assert item(store, item_id).status == "pending"
    with store.read() as db:
        assert service.view(db, db.get(Activity, wall), True)["items"] == []
    moderate(store, live["id"], wall, "approve", [item_id])
    with store.read() as db:
        items = service.view(db, db.get(Activity, wall), False)["items"]
    assert [(i["text"], i["column"]) for i in items] == [("Allonger la durée de vie", 2)]
    assert "votes" not in items[0] and "participant" not in str(items[0])


def test_postmoderation_publishes_at_once_but_profanity_waits(store, live):
    wall = add_board(store, live["id"], premoderation=False)
    ok = act(store, live["id"], wall, service.post, "Mutualiser les serveurs")
    rude = act(store, live["id"], wall, service.post, "quel connard ce serveur")
    assert item(store, ok).status == "visible"
    assert (item(store, rude).status, item(store, rude).flagged) == ("pending", True)


def test_profanity_check_uses_the_word_lists():
    assert similar.is_profane("Quel CONNARD")
    assert not similar.is_profane("Sobriété numérique")


@pytest.mark.parametrize("body, code", [
    ("", "text_empty"), ("   ", "text_empty"), ("x" * 281, "text_too_long"), (None, "text_type"),
    (["a"], "text_type"), ({"$ne": None}, "text_type"),
])
def test_bad_texts_are_refused(store, live, body, code):
    wall = add_board(store, live["id"])
    with pytest.raises(DomainError) as exc:
        act(store, live["id"], wall, service.post, body)
    assert exc.value.code == code


def test_text_is_normalised(store, live):
    wall = add_board(store, live["id"])
    item_id = act(store, live["id"], wall, service.post, "  sobrie\u0301te\u0301 \u202enum\u00e9rique\n ok ")
    assert item(store, item_id).text == "sobriété numérique ok"


@pytest.mark.parametrize("column", [3, -1, "2x", None])
def test_bad_column_is_refused(store, live, column):
    wall = add_board(store, live["id"], columns=["A", "B", "C"])
    if column is None:
        assert item(store, act(store, live["id"], wall, service.post, "ok", column)).column == 0
        return
    with pytest.raises(DomainError) as exc:
        act(store, live["id"], wall, service.post, "idée", column)
    assert exc.value.code == "bad_column"


def test_posting_is_paced_and_capped(store, live):
    wall = add_board(store, live["id"])
    for n in range(service.POSTS_PER_MINUTE):
        act(store, live["id"], wall, service.post, f"idée {n}")
    with pytest.raises(DomainError) as exc:
        act(store, live["id"], wall, service.post, "une de trop")
    assert exc.value.code == "posting_too_fast"
    act(store, live["id"], wall, service.post, "l'autre téléphone", device="phone-2")


def test_signature_only_when_allowed(store, live):
    anonymous = add_board(store, live["id"], signed=False)
    signed = add_board(store, live["id"], signed=True)
    assert item(store, act(store, live["id"], anonymous, service.post, "a", name="Zoé")).author_name is None
    assert item(store, act(store, live["id"], signed, service.post, "b", name="Zoé")).author_name == "Zoé"


def test_author_edits_and_withdraws_only_while_unmoderated(store, live):
    wall = add_board(store, live["id"])
    item_id = act(store, live["id"], wall, service.post, "brouillon")
    act(store, live["id"], wall, service.edit_own, item_id, "version propre")
    assert item(store, item_id).text == "version propre"
    with pytest.raises(DomainError) as exc:
        act(store, live["id"], wall, service.edit_own, item_id, "pas à moi", device="phone-2")
    assert exc.value.code == "item_not_found"
    moderate(store, live["id"], wall, "approve", [item_id])
    for fn, args in ((service.edit_own, ("trop tard",)), (service.withdraw, ())):
        with pytest.raises(DomainError) as exc:
            act(store, live["id"], wall, fn, item_id, *args)
        assert exc.value.code == "already_moderated"
    other = act(store, live["id"], wall, service.post, "à retirer")
    act(store, live["id"], wall, service.withdraw, other)
    assert item(store, other).status == "withdrawn"
    assert [i["id"] for i in mine(store, wall, "phone-1")["items"]] == [item_id]


def _published_ideas(store, live, wall, n):
    ids = [act(store, live["id"], wall, service.post, f"idée {k}", device=f"author-{k}") for k in range(n)]
    moderate(store, live["id"], wall, "approve", ids)
    return ids


def test_dot_voting_spends_and_takes_back_within_budget(store, live):
    wall = add_board(store, live["id"], budget=3)
    ids = _published_ideas(store, live, wall, 4)
    for item_id in ids[:3]:
        act(store, live["id"], wall, service.vote, item_id)
    assert mine(store, wall, "phone-1")["left"] == 0
    with pytest.raises(DomainError) as exc:
        act(store, live["id"], wall, service.vote, ids[3])
    assert exc.value.code == "no_votes_left"
    act(store, live["id"], wall, service.unvote, ids[0])
    assert mine(store, wall, "phone-1")["left"] == 1
    act(store, live["id"], wall, service.vote, ids[3])
    assert counts(store, wall) == {ids[1]: 1, ids[2]: 1, ids[3]: 1}


def test_one_dot_per_idea_unless_stacking_is_allowed(store, live):
    single = add_board(store, live["id"], budget=3)
    stacked = add_board(store, live["id"], budget=3, stack=True)
    a = _published_ideas(store, live, single, 1)[0]
    b = _published_ideas(store, live, stacked, 1)[0]
    act(store, live["id"], single, service.vote, a)
    with pytest.raises(DomainError) as exc:
        act(store, live["id"], single, service.vote, a)
    assert exc.value.code == "already_voted"
    for _ in range(3):
        act(store, live["id"], stacked, service.vote, b)
    assert counts(store, stacked) == {b: 3}


def test_pending_items_cannot_be_voted(store, live):
    wall = add_board(store, live["id"])
    item_id = act(store, live["id"], wall, service.post, "en attente", device="other")
    with pytest.raises(DomainError) as exc:
        act(store, live["id"], wall, service.vote, item_id)
    assert exc.value.code == "item_not_votable"


def test_the_database_itself_refuses_a_slot_beyond_the_budget_or_taken_twice(store, live):
    wall = add_board(store, live["id"], budget=3)
    item_id = _published_ideas(store, live, wall, 1)[0]
    act(store, live["id"], wall, service.vote, item_id)
    raw = ("INSERT INTO board_votes (activity_id, item_id, participant_id, slot, once_item_id, "
           "created_at) VALUES (:a, :i, :p, :s, NULL, '2022-04-05 10:00:00')")
    with store.read() as db:
        pid = db.scalar(select(BoardVote.participant_id))
    for slot in (1, 0, 21):  # slot 1 is taken; 0 and 21 are outside 1..MAX_BUDGET
        with pytest.raises(IntegrityError):
            with store.write() as db:
                db.execute(text(raw), {"a": wall, "i": item_id, "p": pid, "s": slot})


def test_concurrent_taps_from_two_processes_never_exceed_the_budget(store, live, app):
    # Two Store objects on one database behave like two server processes: no shared Python
    # lock, only the database stands between the taps and an overspent budget. On PostgreSQL
    # both processes' transactions run at once: a tap must never be refused as "already voted"
    # while dots are left (two taps reading the same free slot), so several rounds race.
    wall = add_board(store, live["id"], budget=3, stack=True)
    ids = _published_ideas(store, live, wall, 5)
    other = Store(store.url)
    try:
        for round_ in range(6):
            device = f"tapper-{round_}"
            act(store, live["id"], wall, service.vote, ids[0], device=device)  # the participant exists
            outcomes = _race_taps(store, other, live, wall, ids, device)
            assert outcomes.count("ok") == 2 and set(outcomes) == {"ok", "no_votes_left"}, outcomes
            assert mine(store, wall, device)["left"] == 0
    finally:
        other.dispose()
    with store.read() as db:
        slots = sorted(db.scalars(select(BoardVote.slot)))
    assert slots == sorted([1, 2, 3] * 6)


def _race_taps(store, other, live, wall, ids, device) -> list[str]:
    """Eight taps of one participant released at once, alternately from either store."""
    def tap(db, item_id):
        s = sessions.get_session(db, live["id"])
        service.vote(db, s, sessions.get_activity(db, s, wall), sessions.join(db, s, device), item_id)

    return race([((store, other)[n % 2], lambda db, item_id=ids[n % 5]: tap(db, item_id)) for n in range(8)])


def test_merge_combines_votes_counting_each_participant_once(store, live):
    wall = add_board(store, live["id"], budget=3)
    a, b, c = _published_ideas(store, live, wall, 3)
    for device, targets in {"p1": [a, b], "p2": [b], "p3": [a], "p4": [b, c]}.items():
        for target in targets:
            act(store, live["id"], wall, service.vote, target, device=device)
    moderate(store, live["id"], wall, "merge", [b], into=a)
    assert counts(store, wall) == {a: 4, c: 1}  # p1, p2, p3, p4 — p1 once
    assert mine(store, wall, "p1")["left"] == 2  # p1's dot on b came back
    merged = item(store, b)
    assert (merged.status, merged.merged_into_id) == ("merged", a)
    history = item(store, a).history
    assert history[-1]["merged"] == b and history[-1]["text"] == "idée 1"


def test_merge_in_stacking_mode_keeps_each_participant_once(store, live):
    wall = add_board(store, live["id"], budget=3, stack=True)
    a, b = _published_ideas(store, live, wall, 2)
    for target in (a, b, b):
        act(store, live["id"], wall, service.vote, target, device="p1")
    act(store, live["id"], wall, service.vote, b, device="p2")
    moderate(store, live["id"], wall, "merge", [b], into=a)
    assert counts(store, wall) == {a: 2}
    assert mine(store, wall, "p1")["left"] == 2


def test_second_moderator_on_the_same_version_gets_changed_meanwhile(store, live):
    wall = add_board(store, live["id"])
    item_id = act(store, live["id"], wall, service.post, "idée")
    seen = item(store, item_id).version
    with store.write() as db:
        s = sessions.get_session(db, live["id"])
        service.moderate(db, s, sessions.get_activity(db, s, wall), "approve",
                         [{"id": item_id, "version": seen}], "moderator")
    with pytest.raises(DomainError) as exc:
        with store.write() as db:
            s = sessions.get_session(db, live["id"])
            service.moderate(db, s, sessions.get_activity(db, s, wall), "reject",
                             [{"id": item_id, "version": seen}], "moderator")
    assert exc.value.code == "changed_meanwhile"
    assert exc.value.state["items"][0]["status"] == "approved"
    assert item(store, item_id).status == "approved"


def test_bulk_action_is_all_or_nothing(store, live):
    wall = add_board(store, live["id"])
    ids = [act(store, live["id"], wall, service.post, f"idée {n}") for n in range(3)]
    stale = [{"id": i, "version": item(store, i).version} for i in ids]
    moderate(store, live["id"], wall, "approve", [ids[1]])
    with pytest.raises(DomainError) as exc:
        with store.write() as db:
            s = sessions.get_session(db, live["id"])
            service.moderate(db, s, sessions.get_activity(db, s, wall), "reject", stale, "moderator")
    assert [i["id"] for i in exc.value.state["items"]] == [ids[1]]
    assert [item(store, i).status for i in ids] == ["pending", "approved", "pending"]


def test_edit_keeps_the_original_and_everything_is_logged(store, live):
    wall = add_board(store, live["id"], columns=["A", "B"])
    item_id = act(store, live["id"], wall, service.post, "idee avec fote")
    moderate(store, live["id"], wall, "edit", [item_id], body="Idée sans faute", moderator="Léa")
    moderate(store, live["id"], wall, "move", [item_id], column=1)
    moderate(store, live["id"], wall, "pin", [item_id])
    moderate(store, live["id"], wall, "approve", [item_id])
    moderate(store, live["id"], wall, "hide", [item_id])
    saved = item(store, item_id)
    assert (saved.text, saved.original_text, saved.column, saved.pinned, saved.status) == (
        "Idée sans faute", "idee avec fote", 1, True, "hidden")
    with store.read() as db:
        log = service.log_entries(db, db.get(Activity, wall))
    assert [e.action for e in log] == ["hide", "approve", "pin", "move", "edit"]
    assert log[-1].before["text"] == "idee avec fote" and log[-1].after["text"] == "Idée sans faute"
    assert log[-1].moderator == "Léa" and log[-1].link == "moderator"


def test_hiding_returns_the_dots(store, live):
    wall = add_board(store, live["id"])
    item_id = _published_ideas(store, live, wall, 1)[0]
    act(store, live["id"], wall, service.vote, item_id)
    moderate(store, live["id"], wall, "hide", [item_id])
    assert mine(store, wall, "phone-1")["left"] == 3
    with store.read() as db:
        results = service.results(db, db.get(Activity, wall))
    assert results["hidden"] == 1 and results["votes"] == {}


@pytest.mark.parametrize("action, status", [("approve", "approved"), ("reject", "rejected"),
                                            ("hide", None), ("unanswer", "pending")])
def test_transitions(store, live, action, status):
    wall = add_board(store, live["id"])
    item_id = act(store, live["id"], wall, service.post, "idée")
    if status is None:
        with pytest.raises(DomainError) as exc:
            moderate(store, live["id"], wall, action, [item_id])
        assert exc.value.code == "not_possible_now"
        return
    if action == "unanswer":
        with pytest.raises(DomainError):
            moderate(store, live["id"], wall, action, [item_id])  # not a Q&A
        return
    moderate(store, live["id"], wall, action, [item_id])
    assert item(store, item_id).status == status


def test_questions_current_answered_and_upvotes(store, live):
    qa = add_board(store, live["id"], "questions")
    q1, q2 = (act(store, live["id"], qa, service.post, f"Question {n} ?", device=f"d{n}") for n in (1, 2))
    for device in ("a", "b", "c"):
        act(store, live["id"], qa, service.vote, q2, device=device)
    with pytest.raises(DomainError):
        act(store, live["id"], qa, service.vote, q2, device="a")
    with store.write() as db:
        s = sessions.get_session(db, live["id"])
        service.set_display(db, s, sessions.get_activity(db, s, qa), "moderator", {"current": q2})
    with store.read() as db:
        data = service.view(db, db.get(Activity, qa), True)
    assert data["current"]["id"] == q2 and data["current"]["votes"] == 3
    assert [i["id"] for i in data["items"]] == [q2, q1]  # top questions first
    moderate(store, live["id"], qa, "answer", [q2])
    with store.read() as db:
        data = service.view(db, db.get(Activity, qa), True)
    assert data["current"] is None and data["items"][0]["answered"]


def test_moderators_may_only_set_the_current_question(store, live):
    wall = add_board(store, live["id"])
    with pytest.raises(DomainError) as exc:
        with store.write() as db:
            s = sessions.get_session(db, live["id"])
            service.set_display(db, s, sessions.get_activity(db, s, wall), "moderator", {"sort": "time"})
    assert exc.value.code == "forbidden"


def test_duplicates_are_suggested(store, live):
    wall = add_board(store, live["id"])
    a = act(store, live["id"], wall, service.post, "Allonger la durée de vie des équipements")
    b = act(store, live["id"], wall, service.post, "allonger la duree de vie des equipements !", device="x")
    act(store, live["id"], wall, service.post, "Former les élus", device="y")
    with store.read() as db:
        pairs = service.moderation_view(db, db.get(Activity, wall))["duplicates"]
    assert [{p["item"], p["like"]} for p in pairs] == [{a, b}]


def test_reset_deletes_items_and_votes_but_keeps_the_log(store, live):
    wall = add_board(store, live["id"])
    item_id = _published_ideas(store, live, wall, 1)[0]
    act(store, live["id"], wall, service.vote, item_id)
    command(store, live["id"], "reset", wall)
    with store.read() as db:
        assert db.scalar(select(func.count(Item.id))) == 0
        assert db.scalar(select(func.count(BoardVote.id))) == 0
        assert db.scalar(select(func.count(ModerationEntry.id))) == 1


def test_closed_board_refuses_posts_and_votes(store, live):
    wall = add_board(store, live["id"])
    command(store, live["id"], "close", wall)
    with pytest.raises(DomainError) as exc:
        act(store, live["id"], wall, service.post, "trop tard")
    assert exc.value.code == "board_closed"


def _race_posts(store, other, live, wall, device) -> list:
    """Four ideas of one participant sent at once, alternately from either store."""
    def post(db, text):
        s = sessions.get_session(db, live["id"])
        service.post(db, s, sessions.get_activity(db, s, wall), sessions.join(db, s, device), text)

    return race([((store, other)[n % 2], lambda db, text=f"{device} {n}": post(db, text)) for n in range(4)])


def _posted(store, live, wall, device, n, minutes_ago=0) -> None:
    """`n` ideas of `device` on the wall, posted `minutes_ago` (60: out of the pace's minute)."""
    from datetime import timedelta

    from live.store import utcnow

    with store.write() as db:
        person = sessions.join(db, sessions.get_session(db, live["id"]), device)
        then = utcnow() - timedelta(minutes=minutes_ago)
        db.add_all(Item(activity_id=wall, participant_id=person.id, column=0, text=f"idée {k}",
                        original_text=f"idée {k}", history=[], status="visible", flagged=False,
                        created_at=then, updated_at=then) for k in range(n))


def test_ideas_sent_at_once_from_two_processes_keep_the_pace_and_the_cap(store, live):
    # Two Store objects on one database behave like two server processes (a phone's socket on
    # one, its offline form on the other). On PostgreSQL both transactions run at once: ideas of
    # one participant sent in the same instant all counted the same ideas before them, and more
    # than the pace (5 a minute) or the cap (30 on a wall) went through.
    wall = add_board(store, live["id"])
    other = Store(store.url)
    try:
        for round_ in range(4):
            device = f"fast-{round_}"
            _posted(store, live, wall, device, service.POSTS_PER_MINUTE - 1)
            outcomes = _race_posts(store, other, live, wall, device)
            assert sorted(outcomes) == ["ok"] + ["posting_too_fast"] * 3, outcomes
        for round_ in range(4):  # one idea left
            device = f"prolific-{round_}"
            _posted(store, live, wall, device, service.MAX_ITEMS_PER_PARTICIPANT - 1, minutes_ago=60)
            outcomes = _race_posts(store, other, live, wall, device)
            assert sorted(outcomes) == ["ok"] + ["too_many_items"] * 3, outcomes
    finally:
        other.dispose()
