"""Lifecycle rules of sessions and activities, enforced by the service layer."""

import pytest
from conftest import add_poll, command
from sqlalchemy import select
from support import race

from live.errors import DomainError
from live.sessions import service
from live.sessions.model import TimelineEntry


def test_join_code_uses_unambiguous_characters(store, live):
    assert len(live["code"]) == service.CODE_LENGTH
    assert not set(live["code"]) & set("0O1IL2Z5S8B")


def test_capability_tokens_are_long_and_distinct(live):
    tokens = {live["facilitator"], live["moderator"], live["screen"]}
    assert len(tokens) == 3
    assert all(len(t) >= 32 for t in tokens)  # 24 random bytes, base64url: 192 bits


@pytest.mark.parametrize("typed", ["{code}", "{lower}", " {code} ", "{spaced}"])
def test_code_is_found_however_typed(store, live, typed):
    code = live["code"]
    text = typed.format(code=code, lower=code.lower(), spaced=code[:3] + "-" + code[3:])
    with store.read() as db:
        assert service.session_by_code(db, text).id == live["id"]


@pytest.mark.parametrize("code", ["", "ZZZZZZ", None, 12, "x" * 500])
def test_unknown_code_is_refused(store, live, code):
    with store.read() as db, pytest.raises(DomainError) as exc:
        service.session_by_code(db, code)
    assert exc.value.code == "unknown_code"


@pytest.mark.parametrize("token", ["", "short", "x" * 40, None, 7])
def test_bad_token_is_refused(store, live, token):
    with store.read() as db, pytest.raises(DomainError) as exc:
        service.session_by_token(db, token)
    assert exc.value.code == "bad_token"


@pytest.mark.parametrize("role", ["facilitator", "moderator", "screen"])
def test_token_grants_its_role(store, live, role):
    with store.read() as db:
        s, granted = service.session_by_token(db, live[role])
    assert (s.id, granted) == (live["id"], role)


def test_open_close_reopen(store, live):
    activity = add_poll(store, live["id"])
    command(store, live["id"], "open", activity)
    with pytest.raises(DomainError, match="already_open"):
        command(store, live["id"], "open", activity)
    command(store, live["id"], "close", activity)
    with pytest.raises(DomainError, match="not_open"):
        command(store, live["id"], "close", activity)
    command(store, live["id"], "open", activity)


def test_reveal_and_hide_are_not_repeated(store, live):
    activity = add_poll(store, live["id"])
    command(store, live["id"], "reveal", activity)
    with pytest.raises(DomainError, match="already_revealed"):
        command(store, live["id"], "reveal", activity)
    command(store, live["id"], "hide", activity)
    with pytest.raises(DomainError, match="already_hidden"):
        command(store, live["id"], "hide", activity)


def test_session_goes_live_on_first_show_and_ends(store, live):
    activity = add_poll(store, live["id"])
    with store.read() as db:
        assert service.get_session(db, live["id"]).state == "draft"
    command(store, live["id"], "show", activity)
    command(store, live["id"], "open", activity)
    command(store, live["id"], "end")
    with store.read() as db:
        s = service.get_session(db, live["id"])
        assert s.state == "ended" and s.started_at and s.ended_at
        assert s.activities[0].state == "closed"
        with pytest.raises(DomainError, match="session_ended"):
            service.session_by_code(db, live["code"])


def test_every_change_is_on_the_timeline_and_bumps_the_version(store, live):
    activity = add_poll(store, live["id"])
    with store.read() as db:
        before = service.get_session(db, live["id"]).version
    for action in ("show", "open", "reveal", "close", "hide", "reset", "banner"):
        command(store, live["id"], action, activity)
    with store.read() as db:
        actions = [e.action for e in db.query(TimelineEntry).order_by(TimelineEntry.id)]
        assert service.get_session(db, live["id"]).version == before + 7
    assert actions[-7:] == ["on_screen", "opened", "revealed", "closed", "hidden", "reset", "banner"]


def test_activity_of_another_session_is_not_found(store, live):
    with store.write() as db:
        other = service.create_session(db, service.get_event(db, 1), "workshop", "Atelier")
        other_id = other.id
    foreign = add_poll(store, other_id)
    with pytest.raises(DomainError, match="activity_not_found"):
        command(store, live["id"], "open", foreign)


def test_agenda_reorders_and_deletes(store, live):
    first, second, third = (add_poll(store, live["id"]) for _ in range(3))
    with store.write() as db:
        s = service.get_session(db, live["id"])
        service.move_activity(db, s, service.get_activity(db, s, third), -1)
    with store.read() as db:
        assert [a.id for a in service.get_session(db, live["id"]).activities] == [first, third, second]
    with store.write() as db:
        s = service.get_session(db, live["id"])
        service.delete_activity(db, s, service.get_activity(db, s, first))
    with store.read() as db:
        agenda = service.get_session(db, live["id"]).activities
        assert [(a.id, a.position) for a in agenda] == [(third, 1), (second, 2)]


def test_cannot_move_past_the_ends(store, live):
    only = add_poll(store, live["id"])
    with store.write() as db, pytest.raises(DomainError, match="cannot_move"):
        s = service.get_session(db, live["id"])
        service.move_activity(db, s, service.get_activity(db, s, only), -1)


def test_open_activity_cannot_be_deleted(store, live):
    activity = add_poll(store, live["id"])
    command(store, live["id"], "open", activity)
    with store.write() as db, pytest.raises(DomainError, match="close_first"):
        s = service.get_session(db, live["id"])
        service.delete_activity(db, s, service.get_activity(db, s, activity))


@pytest.mark.parametrize("title", ["", "   ", "\u200b\u202e", None, 42, "x" * 201])
def test_bad_titles_are_refused(store, title):
    with store.write() as db, pytest.raises(DomainError) as exc:
        service.create_event(db, title)
    assert exc.value.code.startswith("text_")


def test_unknown_command_is_refused(store, live):
    with pytest.raises(DomainError, match="bad_command"):
        command(store, live["id"], "explode")


def test_one_device_joining_through_two_processes_at_once_is_one_participant(store, live):
    # Two Store objects on one database behave like two server processes (a phone's socket on
    # one, its form post on the other). On PostgreSQL both transactions run at once: the second
    # insert of the same device met the unique device key and the join failed with a database
    # error; it now finds the participant the other one made.
    from live.store import Store

    def join(db, device):
        return service.join(db, service.get_session(db, live["id"]), device).id

    other = Store(store.url)
    try:
        for round_ in range(6):
            device = f"phone-{round_}"
            found = race([((store, other)[n % 2], lambda db, device=device: join(db, device))
                          for n in range(4)])
            assert len(set(found)) == 1 and isinstance(found[0], int), found
    finally:
        other.dispose()


def test_codes_issued_through_two_processes_at_once_are_numbered_once_each(store, live):
    # Two organiser pages (two server processes) issuing codes in the same instant: on PostgreSQL
    # both transactions read the same last number and the second was refused by the unique
    # number (a database error instead of its codes).
    from live.sessions import doorcodes
    from live.store import Store

    def issue(db):
        return [number for number, _code in doorcodes.issue(db, service.get_session(db, live["id"]), 2)]

    other = Store(store.url)
    try:
        for round_ in range(4):
            numbers = race([((store, other)[n % 2], issue) for n in range(4)])
            assert all(isinstance(got, list) for got in numbers), numbers
            assert sorted(sum(numbers, [])) == list(range(8 * round_ + 1, 8 * round_ + 9)), numbers
    finally:
        other.dispose()


def test_activities_added_through_two_processes_at_once_each_take_their_own_place(store, live):
    # Two consoles (two server processes) adding activities in the same instant: on PostgreSQL
    # both transactions read the same last position and the agenda held two activities at one
    # place (no constraint refuses it), so their order and "move up/down" were undefined.
    from live.polls import service as polls
    from live.sessions.model import Activity
    from live.store import Store

    def add(db):
        polls.add_poll(db, service.get_session(db, live["id"]), "single", "Question ?", ["Oui", "Non"])

    other = Store(store.url)
    try:
        for round_ in range(4):
            assert race([((store, other)[n % 2], add) for n in range(4)]) == ["ok"] * 4
            with store.read() as db:
                places = sorted(db.scalars(select(Activity.position).where(
                    Activity.session_id == live["id"])))
            assert places == list(range(1, 4 * round_ + 5)), places
    finally:
        other.dispose()
