"""Poll definitions, votes and tallies."""

import pytest
from conftest import add_poll, command

from live.errors import DomainError
from live.polls import service
from live.polls.model import Vote
from live.sessions import service as sessions


def _vote(store, session_id, activity_id, device, choice):
    with store.write() as db:
        s = sessions.get_session(db, session_id)
        person = sessions.join(db, s, device)
        return service.vote(db, s, sessions.get_activity(db, s, activity_id), person, choice)


def _tally(store, activity_id):
    with store.read() as db:
        return service.tally(db, db.get(sessions.Activity, activity_id))


def _open(store, live, poll_type, options=("A", "B", "C"), **settings):
    activity = add_poll(store, live["id"], poll_type, options, **settings)
    command(store, live["id"], "open", activity)
    return activity


@pytest.mark.parametrize("poll_type, options, settings, code", [
    ("single", ["only one"], {}, "option_count"),
    ("single", ["A", "a"], {}, "duplicate_options"),
    ("single", "A,B", {}, "bad_options"),
    ("multiple", ["A", "B"], {"max_choices": 3}, "bad_max_choices"),
    ("multiple", ["A", "B"], {"max_choices": "lots"}, "bad_max_choices"),
    ("scale", [], {"scale_max": 1}, "bad_scale"),
    ("scale", [], {"scale_max": 11}, "bad_scale"),
    ("ranking", [f"o{i}" for i in range(13)], {}, "option_count"),
    ("vote", ["A", "B"], {}, "bad_poll_type"),
])
def test_bad_definitions_are_refused(store, live, poll_type, options, settings, code):
    with store.write() as db, pytest.raises(DomainError) as exc:
        service.add_poll(db, sessions.get_session(db, live["id"]), poll_type, "Q?", options, settings)
    assert exc.value.code == code


def test_single_choice_tally(store, live):
    activity = _open(store, live, "single")
    ids = _option_ids(store, activity)
    for device, option in [("d1", ids[0]), ("d2", ids[0]), ("d3", ids[2])]:
        _vote(store, live["id"], activity, device, option)
    assert [o["count"] for o in _tally(store, activity)["options"]] == [2, 0, 1]


def _option_ids(store, activity):
    with store.read() as db:
        return [o.id for o in service.options_of(db, db.get(sessions.Activity, activity))]


def test_changing_a_vote_keeps_one_row(store, live):
    activity = _open(store, live, "single")
    a, b, _ = _option_ids(store, activity)
    _vote(store, live["id"], activity, "d1", a)
    _vote(store, live["id"], activity, "d1", b)
    tally = _tally(store, activity)
    assert tally["total"] == 1 and [o["count"] for o in tally["options"]] == [0, 1, 0]
    with store.read() as db:
        vote = db.query(Vote).one()
        assert vote.changes == 1 and vote.updated_at >= vote.created_at


def test_multiple_choice_respects_maximum(store, live):
    activity = _open(store, live, "multiple", max_choices=2)
    a, b, c = _option_ids(store, activity)
    _vote(store, live["id"], activity, "d1", [a, c])
    with pytest.raises(DomainError, match="too_many_choices"):
        _vote(store, live["id"], activity, "d2", [a, b, c])
    assert [o["count"] for o in _tally(store, activity)["options"]] == [1, 0, 1]


def test_scale_tally_and_mean(store, live):
    activity = _open(store, live, "scale", (), scale_max=5, label_low="Pas du tout", label_high="Tout à fait")
    for device, value in [("d1", 1), ("d2", 5), ("d3", 5)]:
        _vote(store, live["id"], activity, device, value)
    tally = _tally(store, activity)
    assert [b["count"] for b in tally["buckets"]] == [1, 0, 0, 0, 2]
    assert tally["mean"] == pytest.approx(11 / 3)


def test_ranking_borda_score(store, live):
    activity = _open(store, live, "ranking")
    a, b, c = _option_ids(store, activity)
    _vote(store, live["id"], activity, "d1", [a, b, c])
    _vote(store, live["id"], activity, "d2", [b, a, c])
    _vote(store, live["id"], activity, "d3", [b, c, a])
    scores = {o["id"]: o["score"] for o in _tally(store, activity)["options"]}
    assert scores == {a: 3, b: 5, c: 1}


def test_the_same_answer_from_several_participants_counts_once_each(store, live):
    """The tally reads each distinct answer once with its number of voters (it is pushed ten
    times a second): identical rankings and identical multiple choices still count per voter."""
    ranking = _open(store, live, "ranking")
    a, b, c = _option_ids(store, ranking)
    for device, order in [("d1", [a, b, c]), ("d2", [b, a, c]), ("d3", [b, c, a]), ("d4", [b, a, c])]:
        _vote(store, live["id"], ranking, device, order)
    tally = _tally(store, ranking)
    assert {o["id"]: o["score"] for o in tally["options"]} == {a: 4, b: 7, c: 1}
    assert tally["total"] == 4


@pytest.mark.parametrize("poll_type, choice, code", [
    ("single", 999999, "unknown_option"),
    ("single", "abc", "bad_choice"),
    ("single", True, "bad_choice"),
    ("single", None, "bad_choice"),
    ("single", [], "empty_choice"),
    ("single", {"x": 1}, "bad_choice"),
    ("multiple", "dup", "duplicate_choice"),
    ("ranking", "partial", "rank_all"),
    ("scale", 0, "choice_out_of_range"),
    ("scale", 6, "choice_out_of_range"),
    ("scale", 2.5, "bad_choice"),
])
def test_bad_votes_are_refused_and_nothing_stored(store, live, poll_type, choice, code):
    activity = _open(store, live, poll_type, () if poll_type == "scale" else ("A", "B", "C"))
    ids = _option_ids(store, activity)
    choice = {"dup": [ids[0], ids[0]] if ids else None, "partial": ids[:2]}.get(choice, choice) \
        if isinstance(choice, str) and choice in ("dup", "partial") else choice
    with pytest.raises(DomainError) as exc:
        _vote(store, live["id"], activity, "d1", choice)
    assert exc.value.code == code
    assert _tally(store, activity)["total"] == 0


def test_vote_on_draft_and_closed_polls_is_refused(store, live):
    activity = add_poll(store, live["id"])
    a = _option_ids(store, activity)[0]
    with pytest.raises(DomainError, match="poll_not_open"):
        _vote(store, live["id"], activity, "d1", a)
    command(store, live["id"], "open", activity)
    command(store, live["id"], "close", activity)
    with pytest.raises(DomainError, match="poll_closed"):
        _vote(store, live["id"], activity, "d1", a)


def test_reset_deletes_votes_and_returns_to_draft(store, live):
    activity = _open(store, live, "single")
    _vote(store, live["id"], activity, "d1", _option_ids(store, activity)[0])
    command(store, live["id"], "reveal", activity)
    command(store, live["id"], "reset", activity)
    with store.read() as db:
        a = db.get(sessions.Activity, activity)
        assert (a.state, a.revealed, service.vote_count(db, a)) == ("draft", False, 0)


def test_poll_with_votes_cannot_be_edited(store, live):
    activity = _open(store, live, "single")
    _vote(store, live["id"], activity, "d1", _option_ids(store, activity)[0])
    with store.write() as db, pytest.raises(DomainError, match="has_answers"):
        s = sessions.get_session(db, live["id"])
        service.update_poll(db, s, sessions.get_activity(db, s, activity), "New?", ["X", "Y"])
