"""Socket.IO infrastructure: per-participant rooms, and background loops the app starts and stops."""

from __future__ import annotations

from conftest import cid, events_named
from support import wait_for_event
from test_boards_service import add_board

from live.app import start_background, stop_background
from live.realtime import participant_room, socketio
from live.sessions.model import Participant


def _same_person_twice(app, live):
    """Two sockets of one participant: two tabs of the same browser (one cookie)."""
    browser = app.test_client()
    browser.get(f"/j/{live['code']}")
    return [socketio.test_client(app, auth={"code": live["code"], "lang": "en"}, flask_test_client=browser)
            for _ in range(2)]


def test_a_message_for_one_participant_reaches_all_their_sockets_and_no_one_else(app, phone, staff, store,
                                                                                  live):
    wall = add_board(store, live["id"], columns=["Idées"])
    tab, other_tab = _same_person_twice(app, live)
    neighbour, moderator = phone(), staff("moderator")
    posted = tab.emit("board_post", {"cid": cid(), "activity": wall, "text": "Réparer", "column": 0},
                      callback=True)
    assert posted["ok"] and posted["status"] == "pending"
    neighbour.get_received()
    ack = moderator.emit("board_moderate", {"cid": cid(), "activity": wall, "action": "approve",
                                            "items": [{"id": posted["item"], "version": 1}]}, callback=True)
    assert ack["ok"], ack
    for sock in (tab, other_tab):
        told = wait_for_event(sock, "board_mine", lambda p: any(
            i["id"] == posted["item"] and i["status"] == "approved" for i in p["mine"]["items"]))
        assert told and told["activity"] == wall
    assert events_named(neighbour, "board_mine") == []
    for sock in (tab, other_tab):
        sock.disconnect()


def test_a_participant_socket_joins_its_own_room(app, live, phone, store):
    first, second = phone(), phone()
    with store.read() as db:
        people = [p.id for p in db.query(Participant).order_by(Participant.id)]
    rooms = socketio.server.manager.rooms["/"]
    own = [set(rooms.get(participant_room(live["id"], pid), {})) for pid in people]
    assert len(people) == 2 and all(len(sids) == 1 for sids in own) and own[0] != own[1]
    assert own[0] | own[1] == set(rooms[f"s{live['id']}:participant"])
    first.disconnect()
    second.disconnect()


def test_the_app_starts_and_stops_its_background_loops(app, client):
    broadcaster = app.extensions["palabre.broadcaster"]
    heartbeat = app.extensions["palabre.heartbeat"]
    assert not broadcaster.loop.running
    start_background(app)
    assert broadcaster.loop.running
    assert client.get("/healthz").status_code == 200  # the heartbeat starts on demand
    assert heartbeat.loop.running
    stop_background(app)
    assert broadcaster.loop.wait_stopped(timeout=5) and heartbeat.loop.wait_stopped(timeout=5)
    broadcaster.mark(1, 1)  # a change after shutdown does not start it again
    heartbeat.start()
    assert broadcaster.loop.state == heartbeat.loop.state == "stopped"
    images = app.extensions["palabre.cloud_images"]
    images.schedule(1, 1)
    assert images.pending == set()  # no render scheduled after shutdown
