"""python-socketio's rooms, with each socket's rooms indexed.

python-socketio finds the rooms of a socket that leaves by scanning every room of the
namespace (after copying their dict), and every socket has a room of its own, every
participant another: with 5,000 phones connected, each disconnection scanned some 10,000 rooms
(0.7 ms of the loop), a hall leaving at once took 3.4 s of CPU and a churning one paid it per
socket. Here each socket's rooms are remembered as it enters them, so that leaving (and
`get_rooms`) looks at its own rooms only. A mixin for the client manager of one process
(`Manager`) and of several (`live.cluster.RedisQueue`).
"""

from __future__ import annotations

import socketio


class RoomIndex:
    """Keeps (namespace, sid) -> the socket's rooms beside python-socketio's `rooms`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.rooms_of: dict[tuple[str, str], set] = {}

    def basic_enter_room(self, sid, namespace, room, eio_sid=None):
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)
        self.rooms_of.setdefault((namespace, sid), set()).add(room)

    def basic_leave_room(self, sid, namespace, room):
        super().basic_leave_room(sid, namespace, room)
        rooms = self.rooms_of.get((namespace, sid))
        if rooms is not None:
            rooms.discard(room)
            if not rooms:
                del self.rooms_of[(namespace, sid)]

    def basic_disconnect(self, sid, namespace, **kwargs):
        """python-socketio's, but leaving only the rooms this socket is in."""
        rooms = self.rooms_of.pop((namespace, sid), set())
        if namespace not in self.rooms:
            return
        for room in rooms:
            super().basic_leave_room(sid, namespace, room)
        self.callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):
            waiting = pending.get(namespace)
            if waiting is not None and sid in waiting:
                waiting.remove(sid)
                if not waiting:
                    del pending[namespace]

    def get_rooms(self, sid, namespace):
        """The rooms a socket is in (its own included, as python-socketio's)."""
        return [room for room in self.rooms_of.get((namespace, sid), ()) if room is not None]


class Manager(RoomIndex, socketio.Manager):
    """The client manager of one process."""
