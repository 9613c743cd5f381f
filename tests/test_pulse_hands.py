"""The room's pulse, raised hands and quick reactions: the queue in order on the console, each
phone told its place as the queue moves, the screen told only how many; reactions counted over
the last minutes and limited per participant (its own token bucket); both doors, both languages."""

from conftest import choose_language, cid, events_named
from support import pushes_settled, race, wait_for_event

from live.pulse import service
from live.sessions import service as sessions


def _on(store, session_id):
    with store.write() as db:
        service.switch(db, sessions.get_session(db, session_id), True)


def _hand(sock, up=True, name=None):
    ack = sock.emit("hand", {"cid": cid(), "up": up, "name": name}, callback=True)
    assert ack["ok"], ack
    return ack["hand"]


def test_hands_queue_in_order_and_each_phone_follows_its_place(app, store, live, phone, staff):
    console, screen = staff("facilitator"), staff("screen")
    ann, bob, cat = phone(), phone(), phone()
    refused = ann.emit("hand", {"cid": cid(), "up": True}, callback=True)
    assert refused["error"]["code"] == "pulse_off"
    _on(store, live["id"])
    assert _hand(ann, name="Ann") == {"ticket": 1, "place": 1}
    assert _hand(bob) == {"ticket": 2, "place": 2}
    assert _hand(cat, name="  Cat ") == {"ticket": 3, "place": 3}
    assert _hand(bob) == {"ticket": 2, "place": 2}  # raised again: the same place
    pushed = wait_for_event(console, "pulse", lambda p: p["hands"] == 3)
    assert [(h["ticket"], h["name"]) for h in pushed["queue"]] == [(1, "Ann"), (2, None), (3, "Cat")]
    on_screen = wait_for_event(screen, "pulse", lambda p: p["hands"] == 3)
    assert "queue" not in on_screen  # the projector shows how many, never who
    first = pushed["queue"][0]["hand"]
    assert console.emit("hand_done", {"cid": cid(), "hand": first}, callback=True)["ok"]
    # Bob and Cat move up without asking: each phone gets its own view in its own room.
    assert wait_for_event(bob, "pulse", lambda p: p["hand"] == {"ticket": 2, "place": 1})
    assert wait_for_event(cat, "pulse", lambda p: p["hand"] == {"ticket": 3, "place": 2})
    assert wait_for_event(ann, "pulse", lambda p: p["hand"] is None)
    again = console.emit("hand_done", {"cid": cid(), "hand": first}, callback=True)
    assert again["error"]["code"] == "hand_gone"
    assert _hand(bob, up=False) is None
    assert wait_for_event(cat, "pulse", lambda p: p["hand"] == {"ticket": 3, "place": 1})
    assert ann.emit("hand_done", {"cid": cid(), "hand": first}, callback=True)["ok"] is False  # staff only
    ack = console.emit("hands_clear", {"cid": cid()}, callback=True)
    assert ack["ok"] and ack["cleared"] == 1
    assert wait_for_event(cat, "pulse", lambda p: p["hand"] is None)
    assert wait_for_event(console, "pulse", lambda p: p["hands"] == 0 and p["queue"] == [])
    assert _hand(ann) == {"ticket": 4, "place": 1}  # a new hand, a new number
    with store.read() as db:
        outcomes = [(h["ticket"], h["outcome"]) for h in service.hands_timeline(db, live["id"])]
    assert outcomes == [(1, "spoke"), (2, "lowered"), (3, "cleared"), (4, None)]


def test_one_open_hand_per_participant_is_kept_by_the_database(store, live):
    import pytest
    from sqlalchemy.exc import IntegrityError

    from live.pulse.model import PulseHand

    _on(store, live["id"])
    with store.write() as db:
        person = sessions.join(db, sessions.get_session(db, live["id"]), "k")
        service.raise_hand(db, sessions.get_session(db, live["id"]), person)
        person_id = person.id
    with pytest.raises(IntegrityError), store.write() as db:
        db.add(PulseHand(session_id=live["id"], participant_id=person_id, ticket=9))
        db.flush()


def test_reactions_are_counted_pushed_and_limited_per_participant(app, live, store, phone, staff):
    app.config["REACTION_RATE_PER_10S"] = 3
    _on(store, live["id"])
    console, screen = staff("facilitator"), staff("screen")
    sock, other = phone(), phone()
    acks = [sock.emit("react", {"cid": cid(), "reaction": r}, callback=True)
            for r in ("clap", "clap", "question", "love")]
    assert [a["ok"] for a in acks] == [True, True, True, False]
    assert acks[3]["error"]["code"] == "reactions_too_fast"
    assert acks[0]["reaction"] == "clap"
    # The budget is the participant's own: another phone reacts, and the first may still vote.
    assert other.emit("react", {"cid": cid(), "reaction": "clap"}, callback=True)["ok"]
    assert sock.emit("pace", {"cid": cid(), "pace": "ok"}, callback=True)["ok"]
    bad = other.emit("react", {"cid": cid(), "reaction": "poo"}, callback=True)
    assert bad["error"]["code"] == "bad_reaction"
    for room in (console, screen):
        pushed = wait_for_event(room, "pulse", lambda p: p["reactions"]["clap"] == 3)
        assert pushed["reactions"]["question"] == 1 and pushed["reacted"]["love"] == 0
    assert pushes_settled(app)
    assert not events_named(sock, "pulse")  # reactions are not fanned out to the phones


def test_plain_forms_raise_a_hand_react_and_let_the_console_clear(app, client, live, store):
    choose_language(client, "en")
    console = app.test_client()
    console.post(f"/f/{live['facilitator']}/pulse", data={"on": "true"})
    page = client.post(f"/j/{live['code']}/hand", data={"up": "true", "name": "Zoé", "cid": cid()},
                       follow_redirects=True).get_data(as_text=True)
    assert "Your hand is raised: number 1, place 1 in the queue." in page and "Lower my hand" in page
    shown = console.get(f"/f/{live['facilitator']}").get_data(as_text=True)
    assert "<b>#1</b> Zoé" in shown and 'data-pulse-n="hands">1<' in shown
    page = client.post(f"/j/{live['code']}/react", data={"reaction": "clap", "cid": cid()},
                       follow_redirects=True).get_data(as_text=True)
    assert "Reaction sent." in page
    shown = console.get(f"/f/{live['facilitator']}").get_data(as_text=True)
    assert 'data-react-n="clap">1<' in shown
    console.post(f"/f/{live['facilitator']}/hands", data={"clear": "1"})
    page = client.get(f"/j/{live['code']}").get_data(as_text=True)
    assert "d like to speak</button>" in page and "Your hand is raised: number 1" not in page
    client.set_cookie("plang", "fr")
    page = client.post(f"/j/{live['code']}/hand", data={"up": "true", "cid": cid()},
                       follow_redirects=True).get_data(as_text=True)
    assert "Votre main est levée : numéro 2, place 1 dans la file." in page
    with store.read() as db:
        hand = service.queue(db, live["id"])[0]["hand"]
    console.post(f"/f/{live['facilitator']}/hands", data={"hand": str(hand)})
    with store.read() as db:
        assert service.queue(db, live["id"]) == []
    page = client.post(f"/j/{live['code']}/react", data={"reaction": "nope", "cid": cid()},
                       follow_redirects=True).get_data(as_text=True)
    assert "Choisissez une des réactions proposées." in page


def test_hostile_payloads_are_refused_with_a_reason_not_a_server_error(store, live, phone, staff):
    _on(store, live["id"])
    sock, console = phone(), staff("facilitator")
    junk = [None, [], {"x": 1}, "x" * 5000, 1e308, -1, "1; DROP TABLE", "\u202e", True]
    for value in junk:
        for sender, event, payload in (
                (sock, "hand", {"up": value}), (sock, "hand", {"up": True, "name": value}),
                (sock, "react", {"reaction": value}), (console, "hand_done", {"hand": value})):
            ack = sender.emit(event, {"cid": cid(), **payload}, callback=True)
            if ack["ok"]:
                assert event == "hand", (event, payload, ack)  # a name or a yes/no it could read
                continue
            assert ack["error"]["code"] not in ("server_error", "database_busy"), (event, payload, ack)
    assert _hand(sock, up=False) is None


def test_hands_raised_at_once_from_two_processes_all_get_their_own_ticket(store, live):
    # Two Store objects on one database behave like two server processes. On PostgreSQL both
    # processes' transactions run at once: two hands raised in the same instant read the same
    # last ticket, and the second one was refused by the unique ticket number.
    from live.store import Store

    def raise_one(db, device):
        s = sessions.get_session(db, live["id"])
        service.raise_hand(db, s, sessions.join(db, s, device))

    _on(store, live["id"])
    other = Store(store.url)
    try:
        for round_ in range(4):
            devices = [f"r{round_}-{n}" for n in range(8)]
            with store.write() as db:  # the participants exist before the race
                s = sessions.get_session(db, live["id"])
                for device in devices:
                    sessions.join(db, s, device)
            outcomes = race([((store, other)[n % 2], lambda db, device=device: raise_one(db, device))
                             for n, device in enumerate(devices)])
            assert outcomes == ["ok"] * 8, outcomes
    finally:
        other.dispose()
    with store.read() as db:
        tickets = [h["ticket"] for h in service.hands_timeline(db, live["id"])]
    assert sorted(tickets) == list(range(1, 33))
