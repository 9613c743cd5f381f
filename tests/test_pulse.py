"""The room's pulse: the facilitator's switch, participants' pace (socket and plain form), the
staff's live average (coalesced pushes, nothing to the phones), expiry, and refusals."""

import csv
import io
import json
from datetime import timedelta

from archive_helpers import unzip, validate
from conftest import choose_language, cid, events_named
from support import pushes_settled, wait_for_event

from live.pulse import service
from live.sessions import service as sessions
from live.store import utcnow


def _switch(store, session_id, on=True):
    with store.write() as db:
        service.switch(db, sessions.get_session(db, session_id), on)


def _mark(store, session_id, pace, when, key):
    with store.write() as db:
        s = sessions.get_session(db, session_id)
        person = sessions.join(db, s, key)
        service.mark_pace(db, s, person, pace, now=when)


def test_each_participants_latest_choice_counts_until_it_expires(store, live):
    _switch(store, live["id"])
    now = utcnow()
    _mark(store, live["id"], "fast", now - timedelta(seconds=30), "a")
    _mark(store, live["id"], "slow", now - timedelta(seconds=10), "a")  # a changed their mind
    _mark(store, live["id"], "ok", now - timedelta(seconds=5), "b")
    _mark(store, live["id"], "fast", now - timedelta(seconds=service.WINDOW + 5), "c")  # too old
    with store.read() as db:
        data = service.summary(db, live["id"], now)
        assert data["counts"] == {"slow": 1, "ok": 1, "fast": 0}
        assert (data["voters"], data["average"], data["on"]) == (2, -0.5, True)
        assert len(service.timeline(db, live["id"])) == 4  # every mark stays for the archive
        later = service.summary(db, live["id"], now + timedelta(seconds=service.WINDOW))
        assert (later["voters"], later["average"]) == (0, None)


def test_socket_pace_is_acked_and_the_staff_get_the_average_but_phones_do_not(app, live, phone, staff):
    console, screen = staff("facilitator"), staff("screen")
    sock = phone()
    refused = sock.emit("pace", {"cid": cid(), "pace": "fast"}, callback=True)
    assert refused["ok"] is False and refused["error"]["code"] == "pulse_off"
    ack = console.emit("pulse_switch", {"cid": cid(), "on": True}, callback=True)
    assert ack["ok"] and ack["on"] is True
    state = wait_for_event(sock, "state", lambda v: v["pulse"]["on"])
    assert state["pulse"] == {"on": True, "mine": None, "hand": None}
    ack = sock.emit("pace", {"cid": cid(), "pace": "slow"}, callback=True)
    assert ack["ok"] and ack["pace"] == "slow", ack
    for room in (console, screen):
        pushed = wait_for_event(room, "pulse", lambda p: p["voters"] == 1)
        assert pushed["counts"]["slow"] == 1 and pushed["average"] == -1.0
    bad = sock.emit("pace", {"cid": cid(), "pace": "sideways"}, callback=True)
    assert bad["ok"] is False and bad["error"]["code"] == "bad_pace"
    assert pushes_settled(app)
    assert not events_named(sock, "pulse")  # nothing per participant fanned out to the phones
    assert sock.emit("pulse_switch", {"cid": cid(), "on": False}, callback=True)["ok"] is False


def test_many_paces_make_few_pushes(app, live, phone, staff):
    console = staff("facilitator")
    _switch(store=app.extensions["palabre.store"], session_id=live["id"])
    phones = [phone() for _ in range(6)]
    for n, sock in enumerate(phones * 3):
        assert sock.emit("pace", {"cid": cid(), "pace": ("fast", "ok", "slow")[n % 3]}, callback=True)["ok"]
    assert wait_for_event(console, "pulse", lambda p: p["voters"] == 6, timeout=5)
    assert pushes_settled(app)
    pushes = len(events_named(console, "pulse"))
    assert pushes <= 6, pushes  # coalesced: at most twice a second, not once per choice


def test_plain_forms_switch_and_send_the_pace_without_javascript(app, client, live, store):
    choose_language(client, "en")
    page = client.get(f"/j/{live['code']}").get_data(as_text=True)
    shown, _sep, inert = page.partition('<template id="pulse-tpl">')  # off: only the script's copy
    assert f'action="/j/{live["code"]}/pace"' not in shown and f'action="/j/{live["code"]}/pace"' in inert
    console = app.test_client()
    response = console.post(f"/f/{live['facilitator']}/pulse", data={"on": "true"})
    assert response.status_code == 302
    shown = console.get(f"/f/{live['facilitator']}").get_data(as_text=True)
    assert "Désactiver le sondage du rythme" in shown
    page = client.get(f"/j/{live['code']}").get_data(as_text=True)
    assert f'action="/j/{live["code"]}/pace"' in page and 'value="slow"' in page
    response = client.post(f"/j/{live['code']}/pace", data={"pace": "slow", "cid": cid()},
                           follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "the facilitator sees the room" in text and 'aria-pressed="true">Too slow' in text
    with store.read() as db:
        assert service.summary(db, live["id"])["counts"]["slow"] == 1
    shown = console.get(f"/f/{live['facilitator']}").get_data(as_text=True)
    assert 'data-pulse-n="slow">1<' in shown and 'data-pulse-n="average">-1,00<' in shown
    assert ">Trop lent<" in shown  # the console speaks French here: the number too


def test_the_form_refuses_a_bad_pace_and_speaks_french(app, client, live):
    app.test_client().post(f"/f/{live['facilitator']}/pulse", data={"on": "on"})
    client.set_cookie("plang", "fr")
    page = client.get(f"/j/{live['code']}").get_data(as_text=True)
    assert "Le rythme est…" in page and "Trop lent" in page
    response = client.post(f"/j/{live['code']}/pace", data={"pace": "bof", "cid": cid()},
                           follow_redirects=True)
    assert "Choisissez trop rapide, ça va ou trop lent." in response.get_data(as_text=True)


def test_the_archive_keeps_the_pace_timeline_as_json_and_csv(client, store, live):
    _switch(store, live["id"])
    now = utcnow()
    for key, pace, ago in (("a", "fast", 50), ("b", "ok", 40), ("a", "slow", 30)):
        _mark(store, live["id"], pace, now - timedelta(seconds=ago), key)
    response = client.get(f"/f/{live['facilitator']}/archive.zip")
    files = unzip(response.data)
    doc = json.loads(files["session.json"])
    validate(doc)
    assert [(m["participant"], m["pace"]) for m in doc["pulse"]] == [
        ("p1", "fast"), ("p2", "ok"), ("p1", "slow")]
    rows = list(csv.reader(io.StringIO(files["pulse.csv"].decode("utf-8-sig")), delimiter=";"))
    assert [row[1:] for row in rows[1:]] == [["p1", "trop rapide"], ["p2", "ça va"], ["p1", "trop lent"]]
