"""The timer of an activity (live/sessions/timer.py): started, paused, resumed, a minute added,
stopped, through the socket and the console's plain form; its deadline in the snapshots with the
server's clock; refused on an ended session; closing its activity at the deadline (the server's
loop), also after a restart; in the archive and back."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import realserver
import support
from archive_helpers import unzip, validate
from conftest import add_poll, cid, command, events_named

from live.archive import contents, export, importer
from live.archive.document import without_export_metadata
from live.errors import DomainError
from live.i18n import MESSAGES
from live.sessions import lifecycle, timer
from live.sessions import service as sessions
from live.sessions.model import Activity
from live.store import utcnow


def _timer(sock, action, activity, **extra):
    return sock.emit("timer", {"cid": cid(), "action": action, "activity": activity, **extra}, callback=True)


def _stored(store, activity):
    with store.read() as db:
        a = db.get(Activity, activity)
        return timer.state(a), timer.left(a, utcnow()), a.timer_duration, a.timer_autoclose


def _last_timer(sock):
    """The timer of the activity on screen in the newest view this socket received."""
    views = events_named(sock, "state") + events_named(sock, "snapshot")
    views.sort(key=lambda v: v["version"])
    return views[-1]["current"].get("timer"), views[-1].get("now")


def test_start_pause_resume_add_stop_through_the_socket(app, store, live, staff, phone):
    activity = add_poll(store, live["id"])
    command(store, live["id"], "show", activity)
    facilitator, screen, person = staff("facilitator"), staff("screen"), phone()
    ack = _timer(facilitator, "start", activity, seconds=180, autoclose=True)
    assert ack["ok"], ack
    state, left, duration, autoclose = _stored(store, activity)
    assert (state, duration, autoclose) == ("running", 180, True) and 178 < left <= 180
    # Every room gets the deadline and the server's clock: 180 s apart, whatever their own clock.
    for sock in (screen, person, facilitator):
        shown, now = _last_timer(sock)
        assert shown["state"] == "running" and shown["autoclose"] is True
        assert 178_000 < shown["ends_at"] - now <= 180_000
    assert _timer(facilitator, "pause", activity)["ok"]
    state, left, _, _ = _stored(store, activity)
    assert state == "paused" and 175 < left <= 180
    shown, _ = _last_timer(person)
    assert shown["state"] == "paused" and shown["ends_at"] is None and shown["left"] == pytest.approx(left)
    assert _timer(facilitator, "add", activity)["ok"]  # +1 min, paused
    assert _stored(store, activity)[1] == pytest.approx(left + 60)
    assert _timer(facilitator, "resume", activity)["ok"]
    state, left, duration, _ = _stored(store, activity)
    assert state == "running" and 235 < left <= 240 and duration == 240
    assert _timer(facilitator, "stop", activity)["ok"]
    assert _stored(store, activity)[0] == "off"
    shown, _ = _last_timer(screen)
    assert shown is None


@pytest.mark.parametrize(("steps", "action", "code"), [
    ((), "pause", "timer_not_running"),
    ((), "add", "no_timer"),
    ((), "stop", "no_timer"),
    (("start",), "resume", "timer_not_paused"),
    (("start", "pause"), "pause", "timer_not_running"),
    ((), "jump", "bad_command"),
])
def test_a_timer_command_from_the_wrong_state_is_refused(app, store, live, staff, steps, action, code):
    activity = add_poll(store, live["id"])
    facilitator = staff("facilitator")
    for step in steps:
        assert _timer(facilitator, step, activity, seconds=60)["ok"], step
    before = _stored(store, activity)[0]
    ack = _timer(facilitator, action, activity, seconds=60)
    assert ack["ok"] is False and ack["error"]["code"] == code
    assert ack["error"]["message"] == str(MESSAGES[code])
    assert _stored(store, activity)[0] == before


@pytest.mark.parametrize("seconds", [0, 4, 4 * 3600 + 1, "3 min", None, True, 1.5])
def test_a_bad_length_is_refused(app, store, live, staff, seconds):
    activity = add_poll(store, live["id"])
    ack = _timer(staff("facilitator"), "start", activity, seconds=seconds)
    assert ack["ok"] is False and ack["error"]["code"] == "bad_timer"
    assert _stored(store, activity)[0] == "off"


def test_no_timer_on_an_ended_session_and_none_from_a_phone(app, store, live, staff, phone):
    activity = add_poll(store, live["id"])
    command(store, live["id"], "show", activity)
    person = phone()
    ack = _timer(person, "start", activity, seconds=60)
    assert ack["ok"] is False and ack["error"]["code"] == "forbidden"
    command(store, live["id"], "end")
    ack = _timer(staff("facilitator"), "start", activity, seconds=60)
    assert ack["ok"] is False and ack["error"]["code"] == "session_ended"
    assert _stored(store, activity)[0] == "off"


def test_reset_takes_the_timer_away(app, store, live, staff):
    activity = add_poll(store, live["id"])
    command(store, live["id"], "open", activity)
    assert _timer(staff("facilitator"), "start", activity, seconds=60, autoclose=True)["ok"]
    command(store, live["id"], "reset", activity)
    assert _stored(store, activity) == ("off", 0.0, None, False)


def test_the_console_form_without_javascript(app, client, store, live):
    activity = add_poll(store, live["id"])
    command(store, live["id"], "show", activity)
    page = client.get(f"/f/{live['facilitator']}")
    # Without a timer the console has a link to its form (a light page), which it opens.
    assert b'id="timer-open"' in page.data and b'id="timer-form"' not in page.data
    assert b'id="timer-form"' in client.get(f"/f/{live['facilitator']}?timer=1").data
    answer = client.post(f"/f/{live['facilitator']}/timer",
                         data={"action": "start", "activity": activity, "minutes": "5", "autoclose": "1"})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("?timer=1#timer-form")
    state, left, duration, autoclose = _stored(store, activity)
    assert (state, duration, autoclose) == ("running", 300, True)
    # The pages served show the time left as it stands (a phone without JavaScript too).
    assert b"5:00" in client.get(f"/f/{live['facilitator']}").data or b"4:59" in client.get(
        f"/f/{live['facilitator']}").data
    participant = app.test_client()
    participant.set_cookie("plang", "fr")
    page = participant.get(f"/j/{live['code']}").get_data(as_text=True)
    assert 'id="timer"' in page and "Temps restant" in page
    screen = app.test_client().get(f"/screen/{live['screen']}").get_data(as_text=True)
    assert 'id="timer"' in screen and ("5:00" in screen or "4:59" in screen)
    client.post(f"/f/{live['facilitator']}/timer", data={"action": "start", "activity": activity,
                                                     "minutes": "0"})
    assert _stored(store, activity)[2] == 300  # refused: 1 to 240 minutes
    # A refusal is said in the facilitator's language.
    client.set_cookie("plang", "fr")
    client.post(f"/f/{live['facilitator']}/timer", data={"action": "resume", "activity": activity})
    page = client.get(f"/f/{live['facilitator']}?lang=fr").get_data(as_text=True)
    assert "Le minuteur n’est pas en pause." in page


def test_expire_closes_an_open_activity_once(app, store, live):
    activity = add_poll(store, live["id"])
    command(store, live["id"], "open", activity)
    with store.write() as db:
        s = sessions.get_session(db, live["id"])
        timer.command(db, s, db.get(Activity, activity), "start", 5, True)
        ends = db.get(Activity, activity).timer_ends_at
    with store.read() as db:
        assert timer.due(db, utcnow()) == []  # not yet
        assert timer.due(db, ends) == [activity]
    with store.write() as db:
        assert timer.expire(db, activity, ends) is not None
    with store.write() as db:
        assert timer.expire(db, activity, ends) is None  # spent: a second process does nothing
    with store.read() as db:
        a = db.get(Activity, activity)
        assert a.state == "closed" and a.timer_autoclose is False and timer.due(db, ends) == []
    # Reopened after the deadline, it stays open.
    command(store, live["id"], "open", activity)
    with store.read() as db:
        assert timer.due(db, utcnow()) == []


def test_the_lifecycle_table_names_every_refusal():
    for action, starts in lifecycle.TIMER_TRANSITIONS.items():
        missing = set(lifecycle.TIMER_STATES) - set(starts)
        assert not missing or action in lifecycle.TIMER_REFUSALS
        assert set(starts.values()) <= set(lifecycle.TIMER_STATES)


def test_the_server_clock_comes_with_a_timer_only(app, store, live, staff, phone):
    activity = add_poll(store, live["id"])
    command(store, live["id"], "show", activity)
    person = phone()
    first = events_named(person, "snapshot")[0]
    assert "now" not in first and "timer" not in first["current"]  # no timer: not a byte more
    before = time.time() * 1000
    assert _timer(staff("facilitator"), "start", activity, seconds=60)["ok"]
    _shown, now = _last_timer(person)
    assert before - 1000 <= now <= time.time() * 1000 + 1000


def _start_five_seconds(facilitator, activity):
    ack = facilitator.call("timer", {"cid": realserver.new_cid(), "action": "start", "activity": activity,
                                     "seconds": 5, "autoclose": True}, timeout=15)
    assert ack["ok"], ack


def _deadline(database, activity):
    return support.query(database, "SELECT timer_ends_at, state FROM activities WHERE id = ?", (activity,))[0]


def test_the_activity_closes_itself_at_the_deadline_on_the_real_server(tmp_path):
    setup = realserver.prepare(tmp_path / "timer.db")
    support.open_poll(setup)
    with support.server(setup.database) as srv:
        phone_cookie = realserver.join_cookie(srv.url, setup.code)
        heard = realserver.Listener("state")
        person = realserver.connect(srv.url, {"code": setup.code}, phone_cookie, heard)
        facilitator = realserver.connect(srv.url, {"token": setup.facilitator})
        try:
            _start_five_seconds(facilitator, setup.activity)
            assert heard.wait_for(lambda h: any(
                m["current"]["timer"] for m in h.messages("state")), timeout=10)
            # Closed by the server (no client asked) within a few seconds of its deadline.
            assert heard.wait_for(lambda h: any(
                m["current"]["state"] == "closed" for m in h.messages("state")), timeout=20)
            assert _deadline(setup.database, setup.activity)[1] == "closed"
            # Five seconds of timer cost the phone two pushes: its start and its end (it counts
            # down by itself).
            assert [m["current"]["state"] for m in heard.messages("state")] == ["open", "closed"]
        finally:
            realserver.close_all([person, facilitator])


def test_a_deadline_passed_while_the_server_was_down_closes_on_restart(tmp_path):
    setup = realserver.prepare(tmp_path / "timer.db")
    support.open_poll(setup)
    with support.server(setup.database) as srv:
        facilitator = realserver.connect(srv.url, {"token": setup.facilitator})
        try:
            _start_five_seconds(facilitator, setup.activity)
        finally:
            realserver.close_all([facilitator])
    ends_at, state = _deadline(setup.database, setup.activity)
    assert state == "open" and ends_at  # the deadline is stored, not a countdown
    deadline = datetime.fromisoformat(ends_at).replace(tzinfo=UTC)
    assert support.wait_until(lambda: datetime.now(UTC) > deadline, timeout=15)
    assert _deadline(setup.database, setup.activity)[1] == "open"  # nobody closed it meanwhile
    with support.server(setup.database):
        assert support.wait_until(lambda: _deadline(setup.database, setup.activity)[1] == "closed",
                                  timeout=15)


def test_timers_go_into_the_archive_and_come_back(store, live):
    running, paused, none = (add_poll(store, live["id"]) for _ in range(3))
    command(store, live["id"], "open", running)
    with store.write() as db:
        s = sessions.get_session(db, live["id"])
        timer.command(db, s, db.get(Activity, running), "start", 600, True)
        timer.command(db, s, db.get(Activity, paused), "start", 120, False)
        timer.command(db, s, db.get(Activity, paused), "pause")
        timer.command(db, s, db.get(Activity, paused), "add")
    command(store, live["id"], "end")
    with store.read() as db:
        data, _, first = export.session_zip(db, live["id"])
    validate(first)
    timers = {a["ref"]: a["timer"] for a in first["activities"]}
    assert timers["a1"]["duration"] == 600 and timers["a1"]["autoclose"] is True
    assert timers["a1"]["ends_at"].endswith("Z") and timers["a1"]["left"] is None
    assert timers["a2"]["duration"] == 180 and timers["a2"]["ends_at"] is None
    assert 175 < timers["a2"]["left"] <= 180 and timers["a3"] is None
    assert b"timer_start" in unzip(data)["timeline.csv"]  # the timeline says when it ran
    report = unzip(data)["report.html"].decode()  # the report says it too, in the session's language
    assert "minuteur : 10 min (ferme l’activité à la fin du temps)" in report
    assert "minuteur : 3 min<" in report and report.count('class="timer"') == 2
    docs = importer.read_archive(data)
    with store.write() as db:
        (new_id,) = importer.create_sessions(db, docs)
    with store.read() as db:
        _again_data, _, again = export.session_zip(db, new_id)
        # An imported session is ended: its timer never closes anything.
        assert timer.due(db, utcnow() + timedelta(hours=1)) == []
    assert without_export_metadata(again) == without_export_metadata(first)


@pytest.mark.parametrize("bad", [
    {"duration": 60, "ends_at": None, "left": None, "autoclose": False},  # neither running nor paused
    {"duration": 60, "ends_at": "2026-01-01T10:00:00Z", "left": 3, "autoclose": False},  # both
    {"duration": 60, "ends_at": None, "left": 90, "autoclose": False},  # more left than its length
    {"duration": 2, "ends_at": None, "left": 1, "autoclose": False},  # shorter than the console allows
])
def test_an_archive_with_an_impossible_timer_is_refused(store, live, bad):
    add_poll(store, live["id"])
    command(store, live["id"], "end")
    with store.read() as db:
        _, _, doc = export.session_zip(db, live["id"])
    doc["activities"][0]["timer"] = bad
    with pytest.raises(DomainError) as refused:
        contents.check_contents(doc)
    assert refused.value.code == "import_invalid" and refused.value.params["where"] == "activities/0/timer"
