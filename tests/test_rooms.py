"""Rooms with each socket's rooms indexed (live/rooms.py): a socket that leaves is in no room
any more (nothing is pushed to it, nothing of it is kept), the others keep theirs and get their
pushes, a rotated link's room is closed; the index never drifts from python-socketio's rooms.
(python-socketio scanned every room of the namespace at each disconnection: quadratic for a
hall leaving or churning.)"""

from __future__ import annotations

from conftest import command, events_named
from support import wait_until

from live.realtime import socketio


def _index_matches_rooms(manager) -> bool:
    from_rooms: dict = {}
    for namespace, rooms in manager.rooms.items():
        for room, members in rooms.items():
            for sid in members:
                from_rooms.setdefault((namespace, sid), set()).add(room)
    return from_rooms == manager.rooms_of


def test_sockets_leave_every_room_they_were_in(app, live, poll, store, phone, staff):
    manager = socketio.server.manager
    phones = [phone() for _ in range(4)]
    screen = staff("screen")
    assert _index_matches_rooms(manager)
    leaving = phones[:2]
    sids = [manager.sid_from_eio_sid(p.eio_sid, "/") for p in leaving]
    for sock in leaving:
        sock.disconnect()
    assert _index_matches_rooms(manager)
    for sid in sids:
        assert sid not in manager.rooms_of and manager.get_rooms(sid, "/") == []
        assert not any(sid in members for members in manager.rooms["/"].values())
    for sock in phones[2:] + [screen]:
        sock.get_received()
    command(store, live["id"], "close", poll)  # a change: everyone still here hears of it
    from live.sessions import effects
    from live.sessions.effects import Effects

    with app.app_context():
        effects.apply(Effects(live["id"]).changed_state())
    assert all(events_named(sock, "state") for sock in phones[2:] + [screen])


def test_a_rotated_link_closes_its_room_and_the_index_follows(client, live, phone, staff):
    manager = socketio.server.manager
    phone()
    screen, facilitator = staff("screen"), staff("facilitator")
    response = client.post(f"/f/{live['facilitator']}/links/screen", headers={"Accept-Language": "en"})
    assert response.status_code == 303
    assert wait_until(lambda: not screen.is_connected(), 1.0)
    assert f"s{live['id']}:screen" not in manager.rooms["/"]  # its room closed
    assert _index_matches_rooms(manager)
    facilitator.disconnect()
    assert _index_matches_rooms(manager)
    assert len(manager.rooms_of) == 1  # the phone's socket only
