"""The common event of a WebSocket, read and answered without the library's layers.

What a phone sends most is an event of the default namespace with an ack id, in text:
`42<id>["vote",{...}]`. On the library's path each one is read as an Engine.IO `Packet`,
handed to python-engineio's `Socket.receive` and `_trigger_event` (its `run_handler`), to
python-socketio's `_handle_eio_message` (its own `Packet`, decoded), `_handle_event`,
`_handle_event_internal`, `_trigger_event` and `_get_event_handler`, to Flask-SocketIO's
`_handler`, to `CountingSocketIO._handle_event`, and its ack built as a python-socketio
`Packet` (whose constructor walks the whole answer looking for bytes) before it is encoded.

Here the WebSocket's reader (`live.outbox`) reads such a packet once, and when it names an
event registered with `realtime.handler` (and nothing else took that name since), calls that
handler as `CountingSocketIO._handle_event` would (application context, the socket's id) and
queues the same ack text python-socketio would have encoded. Anything else goes the
library's way, untouched and in order: CONNECT and DISCONNECT, acks from the phone, events
without an ack id, other namespaces, binary packets, unknown events, anything that does not
decode or does not have the usual shape, a socket no longer connected to the namespace, and
every packet when python-socketio runs handlers in tasks of their own (`async_handlers`) or
logs at INFO level. The event is still handled in the reader's own green thread, as with
`async_handlers=False` (`LIVE_ASYNC_HANDLERS`), so a socket's events are answered one at a
time in the order they came.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from socketio import packet as sio_packet

_DIGITS = frozenset("0123456789")
MAX_ID_DIGITS = 15  # longer ids (python-socketio reads up to 100 digits) go the library's way

# event name -> the function registered by `realtime.handler` (the one Flask-SocketIO wraps)
targets: dict[str, Callable] = {}
# how to call one: `run(handler, environ, sid, args)` (`realtime.run_in_app_context`)
_runner: list[Callable] = []
enabled = [True]  # False: every packet goes the library's way (a benchmark compares both)


def register(event: str, handler: Callable, run: Callable) -> None:
    """Take `event` on this path: `run(handler, environ, sid, args)` answers it."""
    targets[event] = handler
    _runner[:] = [run]


def _parsed(data: str, loads) -> tuple[int, list] | None:
    """`42<id>[...]`: an Engine.IO MESSAGE holding a Socket.IO EVENT of the default namespace
    (a namespace would follow as "/..."), its ack id in ASCII digits, its JSON array of one
    or two items, the first a string: (ack id, items). None for anything else."""
    end, size = 2, len(data)
    while end < size and data[end] in _DIGITS:
        end += 1
    if end == 2 or end > 2 + MAX_ID_DIGITS or end == size or data[end] != "[":
        return None
    try:
        args = loads(data[end:])
    except Exception:  # noqa: BLE001 - what the library path makes of it is its answer
        return None
    if not 1 <= len(args) <= 2 or type(args[0]) is not str:
        return None
    return int(data[2:end]), args


def reader(sock) -> Callable[[str], bool] | None:
    """For an Engine.IO socket of python-socketio's server: a function that handles one text
    packet read from its WebSocket and says whether it did (False: the library's path must
    read it). None when no packet of this socket can take this path."""
    if not enabled[0] or not targets:
        return None
    eio = sock.server
    sio = getattr(eio.handlers.get("message"), "__self__", None)
    if sio is None or getattr(sio, "async_handlers", True) or not hasattr(sio, "_binary_packet"):
        return None
    if eio.logger.isEnabledFor(logging.INFO) or sio.logger.isEnabledFor(logging.INFO):
        return None  # the library logs each packet: let it
    eio_sid = sock.sid
    manager, environs, pending = sio.manager, sio.environ, sio._binary_packet
    loads, dumps = sio.packet_class.json.loads, sio.packet_class.json.dumps
    run = _runner[0]

    def ack(ack_id: int, answer) -> None:
        # python-socketio's `_handle_event_internal`, then `Packet.encode` of its ACK
        body = [] if answer is None else list(answer) if isinstance(answer, tuple) else [answer]
        try:
            text = dumps(body, separators=(",", ":"))
        except TypeError:  # bytes in the answer (a binary ack) or not JSON: the library's
            sio._send_packet(eio_sid, sio.packet_class(sio_packet.ACK, namespace="/", id=ack_id, data=body))
            return
        eio.send(eio_sid, f"3{ack_id}{text}")

    def handle(data: str) -> bool:
        if eio_sid in pending:  # attachments awaited (never: see live.packets): the library's
            return False
        parsed = _parsed(data, loads)
        if parsed is None:
            return False
        ack_id, args = parsed
        target = targets.get(args[0])
        registered = sio.handlers.get("/", {}).get(args[0])
        if target is None or getattr(registered, "__wrapped__", None) is not target:
            return False  # not ours, or registered anew by someone else
        sid = manager.sid_from_eio_sid(eio_sid, "/")
        if sid is None or not manager.is_connected(sid, "/"):
            return False  # the library's warning, and no ack
        environ = environs.get(eio_sid)
        if not environ:
            return False  # the library's `("", 400)` ack
        try:  # as python-engineio's `run_handler`: whatever is raised is logged, no ack
            ack(ack_id, run(target, environ, sid, args[1:]))
        except BaseException:  # noqa: BLE001 - python-engineio's bare `except:` in `run_handler`
            eio.logger.exception("message handler error")
        return True

    return handle
