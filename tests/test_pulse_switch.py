"""Switching the room's pulse off lowers every raised hand (switched on again, the queue starts
empty; the phones and the console say so beforehand), and the pace reads in words a room reads
from afar, its average written as each language writes numbers."""

from conftest import choose_language, cid
from support import wait_for_event

from live.pulse import service
from live.sessions import service as sessions


def _switch(sock, on):
    ack = sock.emit("pulse_switch", {"cid": cid(), "on": on}, callback=True)
    assert ack["ok"], ack


def test_switching_off_lowers_every_hand_and_on_again_the_queue_is_empty(store, live, phone, staff):
    console = staff("facilitator")
    ann, bob = phone(), phone()
    _switch(console, True)
    for sock in (ann, bob):
        assert sock.emit("hand", {"cid": cid(), "up": True}, callback=True)["ok"]
    assert wait_for_event(console, "pulse", lambda p: p["hands"] == 2)
    _switch(console, False)
    assert wait_for_event(ann, "pulse", lambda p: p["hand"] is None and p["on"] is False)
    _switch(console, True)
    assert wait_for_event(console, "pulse", lambda p: p["on"] and p["hands"] == 0 and p["queue"] == [])
    with store.read() as db:
        assert service.my_hand(db, live["id"], 1) is None
        assert [h["outcome"] for h in service.hands_timeline(db, live["id"])] == ["cleared", "cleared"]
    ack = bob.emit("hand", {"cid": cid(), "up": True}, callback=True)
    assert ack["hand"] == {"ticket": 3, "place": 1}  # a new hand, a new number, first in line


def _paces(store, session_id, *paces):
    with store.write() as db:
        s = sessions.get_session(db, session_id)
        service.switch(db, s, True)
        for n, pace in enumerate(paces):
            service.mark_pace(db, s, sessions.join(db, s, f"phone-{n}"), pace)


def test_the_pace_in_words_and_numbers_in_both_languages(app, live, store):
    _paces(store, live["id"], "slow", "ok")  # average -0.5: a bit too slow
    viewer = app.test_client()
    french = viewer.get(f"/screen/{live['screen']}?lang=fr").get_data(as_text=True)
    assert ">Un peu trop lent<" in french and 'data-pulse-n="average">-0,50<' in french
    english = viewer.get(f"/screen/{live['screen']}?lang=en").get_data(as_text=True)
    assert ">A bit too slow<" in english and 'data-pulse-n="average">-0.50<' in english
    console = viewer.get(f"/f/{live['facilitator']}?lang=fr").get_data(as_text=True)
    assert ">Un peu trop lent<" in console and "-0,50" in console
    assert "Le désactiver baisse toutes les mains levées." in console
    assert service.gauge(0.1) == "ok" and service.gauge(0.6) == "fast" and service.gauge(-0.3) == "bit_slow"


def test_the_phone_says_hands_are_lowered_when_the_widget_goes_off(client, live, store):
    _paces(store, live["id"])
    page = choose_language(client, "fr").get(f"/j/{live['code']}").get_data(as_text=True)
    assert "Si l'animateur désactive ce module, les mains levées sont baissées." in page.replace("&#39;", "'")
    page = choose_language(client, "en").get(f"/j/{live['code']}").get_data(as_text=True)
    assert "If the facilitator switches this widget off, raised hands are lowered." in page
