"""WebSocket compression (permessage-deflate, RFC 7692) that keeps nothing per socket.

Every browser offers permessage-deflate. Agreed as eventlet's and gevent's WebSocket servers
agree to it by default, each socket keeps a zlib compressor and a decompressor between messages
(their window and hash tables: about 107 KB per phone, 500 MB for a hall of 5,000). Declined, a
wall of 30 ideas reaches a phone as 7 KB of plain JSON where it was 2 KB compressed.

So compression is agreed without context takeover in either direction
(`server_no_context_takeover; client_no_context_takeover`): each message is compressed on its
own, by a compressor made for it and let go of at once, and the phone compresses each of its
messages on its own too, so the server needs no decompressor between them. Only messages of at
least `MIN_BYTES` are compressed (the snapshot, a wall's list); the small ones (acks, counts) go
as they are, which the RFC allows message by message (the frame's RSV1 bit says which). The
compressor of one message uses a small window (`WINDOW_BITS`) and hash (`MEM_LEVEL`): about
20 KB allocated for a few microseconds, against ~260 KB at zlib's defaults. Any inflater reads
it (a window smaller than the one agreed is always readable).

`middleware` rewrites the browser's offer into the one the server agrees to (eventlet's server
answers with what the offer asks); `install` makes eventlet's and simple-websocket's (gevent)
WebSockets compress as above.
"""

from __future__ import annotations

import zlib

MIN_BYTES = 512  # smaller messages (acks, counts: tens to hundreds of bytes) go uncompressed
WINDOW_BITS = 10  # 1 KB: JSON repeats itself at short range (keys, a wall's column names)
MEM_LEVEL = 5  # zlib's hash (8 by default): 4 KB instead of 64 KB per compressor
CLIENT_WINDOW_BITS = 9  # the phone's window, when it lets the server choose (zlib's smallest)
EXTENSION = "permessage-deflate"
AGREED = f"{EXTENSION}; server_no_context_takeover; client_no_context_takeover"


def compressor():
    """A raw-deflate compressor for one message."""
    return zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -WINDOW_BITS, MEM_LEVEL)


def middleware(wsgi_app):
    """`wsgi_app` with a WebSocket's offer of permessage-deflate replaced by the one the server
    agrees to (without context takeover either way); any other extension offered is declined."""

    def app(environ, start_response):
        offer = environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
        if offer:
            agreed = _agreed(offer)
            if agreed:
                environ["HTTP_SEC_WEBSOCKET_EXTENSIONS"] = agreed
        return wsgi_app(environ, start_response)

    return app


def _agreed(offer: str) -> str | None:
    """The offer the server agrees to for the browser's `offer`: None without permessage-deflate
    in it; the phone's window made small (`CLIENT_WINDOW_BITS`) when its offer lets the server
    choose it (`client_max_window_bits`, as browsers offer): the server's inflater of each of
    its messages then needs 512 bytes of window instead of 32 KB."""
    for part in offer.split(","):
        params = [p.strip().lower() for p in part.split(";")]
        if params[0] == EXTENSION:
            small = any(p.split("=")[0].strip() == "client_max_window_bits" for p in params[1:])
            return AGREED + (f"; client_max_window_bits={CLIENT_WINDOW_BITS}" if small else "")
    return None


def install(mode: str, eventlet_websocket=None) -> None:
    """Compress as above in `mode`'s WebSocket server (idempotent). Under eventlet,
    `eventlet_websocket` is its `eventlet.websocket` module (only `live.runtime` imports the
    async library)."""
    if mode == "eventlet":
        _install_eventlet(eventlet_websocket)
    elif mode == "gevent":
        _install_simple_websocket()


def _install_eventlet(websocket) -> None:
    cls = websocket.RFC6455WebSocket
    if getattr(cls, "_palabre_deflate", False):
        return
    pack = cls._pack_message

    def _pack_message(self, message, masked=False, continuation=False, final=True, control_code=None):
        # (no yield between here and the compressor's use: the flag is this message's)
        self._palabre_small = len(message) < MIN_BYTES
        return pack(self, message, masked=masked, continuation=continuation, final=final,
                    control_code=control_code)

    def _get_permessage_deflate_enc(self):
        if self.extensions.get(EXTENSION) is None or self.client or getattr(self, "_palabre_small", True):
            return None
        return compressor()  # one message's, never kept

    message = cls.Message
    getvalue = message.getvalue

    def getvalue_once(self):
        """A message's text, read once: its inflater (a fresh one per message, ~7 KB) and
        decoders let go of then. The reader keeps the last message it read until the next one
        arrives: each phone's socket kept its inflater between two votes."""
        try:
            return getvalue(self)
        finally:
            self.decompressor = self.decoder = None

    cls._pack_message = _pack_message
    cls._get_permessage_deflate_enc = _get_permessage_deflate_enc
    message.getvalue = getvalue_once
    cls._palabre_deflate = True


def _install_simple_websocket() -> None:
    import simple_websocket.ws
    from wsproto.extensions import PerMessageDeflate
    from wsproto.frame_protocol import Opcode

    if getattr(simple_websocket.ws.PerMessageDeflate, "_palabre_deflate", False):
        return

    class StatelessDeflate(PerMessageDeflate):
        _palabre_deflate = True

        def __init__(self, *args, **kwargs):
            super().__init__(client_no_context_takeover=True, server_no_context_takeover=True)

        def frame_outbound(self, proto, opcode, rsv, data, fin):
            whole = fin and opcode is not Opcode.CONTINUATION and self._compressor is None
            if whole and len(data) < MIN_BYTES:
                return rsv, data  # sent as it is (RSV1 clear): allowed message by message
            if self._compressor is None and opcode is not Opcode.CONTINUATION:
                self._compressor = compressor()
            rsv, data = super().frame_outbound(proto, opcode, rsv, data, fin)
            if fin:
                self._compressor = None
            return rsv, data

    simple_websocket.ws.PerMessageDeflate = StatelessDeflate
