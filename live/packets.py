"""Socket.IO packets as the server reads them, malformed ones included.

python-socketio raises on a packet it cannot decode (bad JSON after the type, an id of more
than 100 digits, an unknown type...), and Engine.IO logs each such exception with a full
traceback: a client sending them in a loop floods the log. `TolerantPacket` reads any
malformed packet, and any packet type Palabre's clients never send (binary events and acks, a
client-side CONNECT_ERROR), as the client leaving: one log line, the connection's namespace
closed, nothing else.
"""

from __future__ import annotations

import logging

from socketio import packet

log = logging.getLogger(__name__)

_ACCEPTED = (packet.CONNECT, packet.DISCONNECT, packet.EVENT, packet.ACK)


class TolerantPacket(packet.Packet):
    """A Socket.IO packet whose decoding never raises (see the module's docstring)."""

    def decode(self, encoded_packet):
        try:
            attachments = super().decode(encoded_packet)
        except (ValueError, TypeError, IndexError, RecursionError) as exc:
            reason = exc.__class__.__name__
        else:
            if self.packet_type in _ACCEPTED and not attachments:
                return attachments
            reason = f"packet type {self.packet_type}"
        log.warning("malformed Socket.IO packet read as a disconnection: %s", reason)
        self.packet_type, self.data, self.id = packet.DISCONNECT, None, None
        if not isinstance(self.namespace, str):
            self.namespace = "/"
        return 0
