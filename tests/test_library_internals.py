"""Canary: the private parts of Palabre's libraries that live/ patches or leans on are still there,
as Palabre uses them (docs/architecture.md, "The libraries' internals Palabre leans on").

Most of these patches step aside when the library looks different ("another python-engineio: its
own way"), or go on working with an attribute that is no longer read: after an upgrade the server
still runs, each phone costs a few KB more, a burst stalls the loop again, and the behaviour
tests, whose bounds are loose, may not notice. Here each internal is looked up in the installed
library, without starting a server or patching this process (eventlet's and gevent's modules are
only imported), and a failure names the patch that needs a look. Where Palabre keeps its own copy
of a library's function (live/outbox.py's WebSocket handler, for instance), the function's
fingerprint (its code, comments and docstring left out) is pinned: when it changes, read the new
version, carry the change over to the copy (or drop the patch), then pin the new fingerprint.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import io
import re
import textwrap
import tokenize

import pytest

LAYOUT = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
          tokenize.ENDMARKER}


def needs(patch: str, what: str, ok: bool) -> None:
    """Fail naming `patch` (a function of live/) and the internal it needs."""
    assert ok, (f"{patch} relies on {what}, which the installed library no longer has (or does "
                f"otherwise): see docs/architecture.md, 'The libraries' internals Palabre leans on'")


def source(obj) -> str:
    return inspect.getsource(obj)


def own(cls, name: str):
    """`cls.name` as the library defines it (not a function Palabre put there in this process)."""
    value = inspect.getattr_static(cls, name)
    function = getattr(value, "__func__", value)
    assert function.__module__.split(".")[0] != "live", f"{cls.__name__}.{name} is patched in this process"
    return function


def fingerprint(function) -> str:
    """A digest of `function`'s code: its docstring, comments and layout left out."""
    text = textwrap.dedent(inspect.getsource(function))
    lines = text.splitlines(keepends=True)
    first = ast.parse(text).body[0].body[0]
    if isinstance(first, ast.Expr) and isinstance(getattr(first.value, "value", None), str):
        del lines[first.lineno - 1:first.end_lineno]
    tokens = tokenize.generate_tokens(io.StringIO("".join(lines)).readline)
    code = " ".join(t.string for t in tokens if t.type not in LAYOUT)
    return hashlib.sha256(code.encode()).hexdigest()[:12]


def pinned(patch: str, function, expected: str) -> None:
    """`function` (a library's, copied or mirrored by `patch`) is the version the copy was made from."""
    found = fingerprint(function)
    assert found == expected, (
        f"{function.__module__}.{function.__qualname__} changed (fingerprint {found}, was {expected}): "
        f"{patch} copies or mirrors it; carry the change over, then pin the new fingerprint here")


def parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def methods_called_on(module_or_class, attribute: str) -> set[str]:
    """The methods the library calls on `self.<attribute>` (or `<anything>.<attribute>`)."""
    return set(re.findall(rf"\.{attribute}\.(\w+)\(", source(module_or_class)))


def sets(function, attribute: str) -> bool:
    """Whether `function` (an `__init__`) assigns `self.<attribute>`."""
    return re.search(rf"self\.{attribute}\s*(:[^=\n]*)?=[^=]", source(function)) is not None


# --- eventlet ----------------------------------------------------------------------------------

def test_eventlet_hub_polls_epoll_through_do_poll():
    """runtime._fair_hub: the default hub on Linux is epolls, whose wait asks `do_poll` for the
    ready sockets, from `hub.poll` (an epoll object): Palabre's do_poll asks for at most 64."""
    import select

    import eventlet.hubs
    from eventlet.hubs import epolls

    patch = "runtime._fair_hub"
    needs(patch, "eventlet.hubs.get_default_hub() being eventlet.hubs.epolls on Linux",
          eventlet.hubs.get_default_hub() is epolls)
    needs(patch, "epolls.Hub.wait calling self.do_poll(seconds)", "self.do_poll(" in source(epolls.Hub.wait))
    needs(patch, "epolls.Hub's `poll` attribute being a select.epoll",
          re.search(r"self\.poll = select\.epoll\(\)", source(epolls.Hub.__init__)) is not None)
    needs(patch, "select.epoll.poll(timeout, maxevents)", hasattr(select, "epoll"))
    pinned(patch, own(epolls.Hub, "do_poll"), "3ceb666bae55")


def test_eventlet_websocket_unmasks_through_apply_mask():
    """runtime._fast_unmask: RFC6455WebSocket._apply_mask(data, mask, length=None, offset=0), a
    static method that the frame reader calls for every frame a phone sends."""
    from eventlet import websocket

    cls, patch = websocket.RFC6455WebSocket, "runtime._fast_unmask"
    needs(patch, "RFC6455WebSocket._apply_mask, a staticmethod",
          isinstance(inspect.getattr_static(cls, "_apply_mask"), staticmethod))
    needs(patch, "_apply_mask(data, mask, length=None, offset=0)",
          parameters(own(cls, "_apply_mask")) == ["data", "mask", "length", "offset"])
    needs(patch, "the frame reader calling self._apply_mask(..., length=, offset=)",
          "self._apply_mask(d, mask, length=dlen, offset=received)" in source(cls))


def test_eventlet_websocket_wait_returns_each_message():
    """runtime._empty_message_ends_socket: RFC6455WebSocket.wait() returns the next message (None
    once closed), and python-engineio reads each message through it."""
    from engineio import socket as engineio_socket
    from eventlet import websocket

    patch = "runtime._empty_message_ends_socket"
    needs(patch, "RFC6455WebSocket.wait(self)",
          parameters(own(websocket.RFC6455WebSocket, "wait")) == ["self"])
    needs(patch, "python-engineio reading the WebSocket with ws.wait()",
          "ws.wait()" in source(own(engineio_socket.Socket, "_websocket_handler")))


def test_eventlet_websocket_makes_its_compressor_per_message_through_one_method():
    """wsdeflate._install_eventlet: `_pack_message(message, masked, continuation, final,
    control_code)` asks `_get_permessage_deflate_enc()` for the compressor of each message;
    `self.extensions` and `self.client` say what was agreed; a read message is a `Message` whose
    getvalue() inflates and decodes it with its `decompressor` and `decoder`."""
    from eventlet import websocket

    cls, patch = websocket.RFC6455WebSocket, "wsdeflate._install_eventlet"
    needs(patch, "RFC6455WebSocket._pack_message(message, masked, continuation, final, control_code)",
          parameters(own(cls, "_pack_message")) == ["self", "message", "masked", "continuation", "final",
                                                    "control_code"])
    needs(patch, "_pack_message calling self._get_permessage_deflate_enc()",
          "self._get_permessage_deflate_enc()" in source(own(cls, "_pack_message")))
    needs(patch, "send() packing through self._pack_message",
          "self._pack_message(" in source(own(cls, "send")))
    needs(patch, "_get_permessage_deflate_enc(self)",
          parameters(own(cls, "_get_permessage_deflate_enc")) == ["self"])
    needs(patch, "RFC6455WebSocket.__init__ setting self.extensions and self.client",
          sets(cls.__init__, "extensions") and sets(cls.__init__, "client"))
    message = cls.Message
    needs(patch, "RFC6455WebSocket.Message keeping `decompressor` and `decoder`",
          sets(message.__init__, "decompressor") and sets(message.__init__, "decoder"))
    needs(patch, "Message.getvalue() using them",
          "self.decompressor" in source(own(message, "getvalue"))
          and "self.decoder" in source(message.getvalue))


def test_eventlet_keeps_links_and_lock_waiters_in_lazily_made_deques():
    """runtime._fewer_deques: a green thread's links (`_exit_funcs`, None until the first link)
    and a semaphore's waiters (`_waiters`) are used as append/popleft/remove only (FewItems does
    these); an RFC 6455 WebSocket never reads `_msgs` (the old protocol's), and its send lock is
    `_sendlock`."""
    from eventlet import greenthread, semaphore, websocket

    from live.runtime import FewItems

    patch = "runtime._fewer_deques"
    needs(patch, "GreenThread.__init__ setting self._exit_funcs = None",
          "self._exit_funcs = None" in source(greenthread.GreenThread.__init__))
    needs(patch, "GreenThread.link making _exit_funcs when it is None",
          "if self._exit_funcs is None" in source(own(greenthread.GreenThread, "link")))
    for module, attribute in ((greenthread, "_exit_funcs"), (semaphore, "_waiters")):
        used = methods_called_on(module, attribute)
        needs(patch, f"{module.__name__} using {attribute} as append/popleft/remove only ({used})",
              used and all(hasattr(FewItems, name) for name in used))
    needs(patch, "WebSocket.__init__ making self._msgs and self._sendlock (a Semaphore)",
          sets(websocket.WebSocket.__init__, "_msgs")
          and "self._sendlock = semaphore.Semaphore()" in source(websocket.WebSocket.__init__))
    needs(patch, "RFC6455WebSocket never reading self._msgs",
          "_msgs" not in source(websocket.RFC6455WebSocket))
    needs(patch, "Semaphore.__init__ making self._waiters", sets(semaphore.Semaphore.__init__, "_waiters"))


def test_engineio_eventlet_driver_takes_palabres_event_and_queue():
    """runtime._lean_eventlet_primitives: python-engineio makes its events and queues from its
    driver's `_async` dict ("event", "queue", "queue_empty"), uses of a queue only what
    GreenQueue has, and GreenQueue and GreenEvent run on eventlet's hub and Event."""
    import eventlet.event
    import eventlet.hubs
    from engineio import base_server, base_socket, server, socket
    from engineio.async_drivers import eventlet as driver
    from eventlet.hubs import epolls
    from eventlet.support import greenlets

    from live.runtime import GreenQueue

    patch = "runtime._lean_eventlet_primitives"
    needs(patch, "engineio.async_drivers.eventlet._async with event, queue, queue_empty",
          isinstance(driver._async, dict) and {"event", "queue", "queue_empty"} <= set(driver._async))
    needs(patch, "BaseServer.create_event/create_queue making self._async['event'/'queue']",
          "self._async['event']" in source(base_server.BaseServer.create_event)
          and "self._async['queue']" in source(base_server.BaseServer.create_queue))
    used = set().union(*(methods_called_on(module, "queue") for module in (base_socket, socket, server)))
    needs(patch, f"python-engineio calling on a socket's queue only what GreenQueue has ({used})",
          used and all(hasattr(GreenQueue, name) for name in used))
    needs(patch, "eventlet.hubs.get_hub and greenlets.getcurrent",
          callable(eventlet.hubs.get_hub) and callable(greenlets.getcurrent))
    needs(patch, "the hub's schedule_call_global(seconds, cb, *args) and switch()",
          parameters(epolls.Hub.schedule_call_global)[:3] == ["self", "seconds", "cb"]
          and callable(epolls.Hub.switch))
    event = eventlet.event.Event
    needs(patch, "eventlet.event.Event's send, ready, reset and wait(timeout)",
          all(hasattr(event, name) for name in ("send", "ready", "reset"))
          and "timeout" in parameters(event.wait))


def test_eventlet_wsgi_makes_its_handler_by_calling_the_protocol():
    """runtime._made_directly, runtime._small_buffers_protocol and runtime._Door: eventlet.wsgi's
    server accepts in a loop on the socket it is given, makes each connection's handler as
    `protocol(conn_state, server)`, which serves the connection from its `__init__`; the handler's
    buffers are `rbufsize`/`wbufsize`; its environ carries `headers_raw` and the
    `eventlet.set_idle` that eventlet's WebSocket calls once its handshake is sent."""
    import eventlet.wsgi
    from eventlet import websocket

    protocol = eventlet.wsgi.HttpProtocol
    needs("runtime.serve", "eventlet.wsgi.server(sock, site, max_size=, protocol=, log_output=, debug=)",
          {"max_size", "protocol", "log_output", "debug"} <= set(parameters(eventlet.wsgi.server)))
    needs("runtime._Door", "eventlet.wsgi.server calling sock.accept() in its loop",
          "sock.accept()" in source(eventlet.wsgi.server))
    needs("runtime._made_directly", "Server.process_request calling self.protocol(conn_state, self)",
          "self.protocol(conn_state, self)" in source(eventlet.wsgi.Server.process_request))
    needs("runtime._made_directly", "HttpProtocol.__init__(conn_state, server) serving the connection",
          parameters(protocol.__init__) == ["self", "conn_state", "server"]
          and "self.handle()" in source(protocol.__init__))
    patch = "runtime._small_buffers_protocol"
    needs(patch, "HttpProtocol.setup making its files with self.rbufsize and self.wbufsize",
          "self.rbufsize" in source(protocol.setup) and "self.wbufsize" in source(protocol.setup))
    environ = source(protocol.get_environ)
    needs(patch, "get_environ setting 'headers_raw' and 'eventlet.set_idle'",
          "env['headers_raw']" in environ and "env['eventlet.set_idle']" in environ)
    needs(patch, "eventlet's WebSocket calling environ['eventlet.set_idle']() once its handshake is sent",
          "environ['eventlet.set_idle']()" in source(websocket.WebSocketWSGI.__call__))


def test_eventlet_state_renewed_after_a_fork_is_where_palabre_looks():
    """runtime.after_fork: the hub lives in `eventlet.hubs._threadlocal.hub`, its epoll in
    `hub.poll`; the thread pool's state is the module globals of `eventlet.tpool` Palabre resets
    (a new global would be carried over from the parent unnoticed)."""
    import eventlet.hubs
    from eventlet import tpool

    patch = "runtime.after_fork"
    needs(patch, "eventlet.hubs._threadlocal holding the hub",
          hasattr(eventlet.hubs, "_threadlocal") and "_threadlocal.hub" in source(eventlet.hubs.get_hub))
    state = {name for name, value in vars(tpool).items()
             if name.startswith("_") and not name.startswith("__") and not inspect.ismodule(value)
             and not callable(value)}
    needs(patch, f"eventlet.tpool's state being the globals it resets ({sorted(state)})",
          state == {"_setup_already", "_threads", "_reqq", "_rspq", "_rsock", "_wsock", "_coro",
                    "_nthreads", "_bytetosend"})


def test_eventlet_green_socket_resolves_through_its_module_names():
    """runtime._resolve_in_threads: with EVENTLET_NO_GREENDNS=yes eventlet.green.socket keeps the
    standard resolvers, as module names that its create_connection calls (Palabre replaces them
    with ones that run in eventlet.tpool)."""
    from eventlet import patcher, tpool
    from eventlet.green import socket as green_socket

    from live.runtime import RESOLVERS

    patch = "runtime._resolve_in_threads"
    needs(patch, "eventlet.green.socket reading EVENTLET_NO_GREENDNS",
          'os.environ.get("EVENTLET_NO_GREENDNS"' in source(green_socket))
    needs(patch, f"eventlet.green.socket's {RESOLVERS}",
          all(hasattr(green_socket, name) for name in RESOLVERS))
    needs(patch, "create_connection calling the module's getaddrinfo",
          re.search(r"[^.]getaddrinfo\(host", source(green_socket.create_connection)) is not None)
    needs(patch, "eventlet.tpool.execute and eventlet.patcher.original",
          callable(tpool.execute) and callable(patcher.original))


# --- gevent, simple-websocket, wsproto -----------------------------------------------------------

def test_engineio_gevent_driver_wraps_simple_websocket():
    """runtime._lean_gevent_websockets: without gevent-websocket installed, python-engineio's gevent
    driver is its SimpleWebSocketWSGI over simple_websocket.Server, whose __call__ Palabre's
    LeanWebSocketWSGI copies (with its own server class); the driver's `_async["websocket"]` is
    what Engine.IO makes its WebSockets with."""
    from engineio.async_drivers import _websocket_wsgi
    from engineio.async_drivers import gevent as driver

    patch = "runtime._lean_gevent_websockets"
    needs(patch, "engineio.async_drivers.gevent.SimpleWebSocketWSGI (gevent-websocket not installed)",
          getattr(driver, "SimpleWebSocketWSGI", None) is _websocket_wsgi.SimpleWebSocketWSGI)
    needs(patch, "the gevent driver's WebSocketWSGI being a SimpleWebSocketWSGI",
          issubclass(driver.WebSocketWSGI, _websocket_wsgi.SimpleWebSocketWSGI)
          and driver._async.get("websocket") is driver.WebSocketWSGI)
    wrapper = _websocket_wsgi.SimpleWebSocketWSGI
    needs(patch, "SimpleWebSocketWSGI.__init__ keeping self.app and self.server_args",
          sets(wrapper.__init__, "app") and sets(wrapper.__init__, "server_args"))
    pinned(patch, own(wrapper, "__call__"), "e7120aacc1f2")
    needs(patch, "SimpleWebSocketWSGI.wait() reading self.ws.receive()",
          "self.ws.receive()" in source(wrapper.wait))


def test_simple_websocket_server_reads_through_handle_events():
    """runtime._lean_websocket_server: simple_websocket.Server has handshake(); its reader thread
    reads the socket and parses what came with `_handle_events()` (True while the connection
    goes on), whose messages wait in `input_buffer`; close(reason, message) sends the close frame
    on `self.sock`; `self.ws` is wsproto's WSConnection."""
    import simple_websocket
    from simple_websocket import ws

    patch = "runtime._lean_websocket_server"
    needs(patch, "simple_websocket.Server.handshake()",
          parameters(own(simple_websocket.Server, "handshake")) == ["self"])
    needs(patch, "simple_websocket.ws.Base._handle_events()",
          parameters(own(ws.Base, "_handle_events")) == ["self"])
    needs(patch, "the reader calling self.connected = self._handle_events() after each read",
          "self.connected = self._handle_events()" in source(ws.Base._thread))
    needs(patch, "Base.__init__ keeping input_buffer, sock and ws",
          all(sets(ws.Base.__init__, name) for name in ("input_buffer", "sock", "ws")))
    needs(patch, "Base.close(reason=None, message=None)",
          parameters(ws.Base.close) == ["self", "reason", "message"])
    needs(patch, "Server.handshake parsing the request with self._handle_events()",
          "self._handle_events()" in source(own(simple_websocket.Server, "handshake")))


def test_wsproto_connection_needs_no_handshake_once_open():
    """runtime._HandshakeDone: once open, wsproto's WSConnection asks its `handshake` for events
    only (none left): a message still goes through both ways with the handshake let go of."""
    from wsproto import ConnectionType, WSConnection
    from wsproto.events import AcceptConnection, Request, TextMessage

    from live.runtime import _HandshakeDone

    client, server = WSConnection(ConnectionType.CLIENT), WSConnection(ConnectionType.SERVER)
    server.receive_data(client.send(Request(host="palabre.test", target="/socket.io/")))
    assert isinstance(next(server.events()), Request)
    client.receive_data(server.send(AcceptConnection()))
    list(client.events())
    needs("runtime._lean_websocket_server", "WSConnection.handshake and .connection once open",
          server.connection is not None and hasattr(server, "handshake"))
    server.handshake = _HandshakeDone()
    server.receive_data(client.send(TextMessage(data="42[\"vote\"]")))
    client.receive_data(server.send(TextMessage(data="43[{}]")))
    received = [event.data for event in server.events()]
    needs("runtime._HandshakeDone", "WSConnection working without its handshake once open",
          received == ['42["vote"]'] and [event.data for event in client.events()] == ["43[{}]"])


def test_simple_websocket_compression_is_wsprotos_per_message_deflate():
    """wsdeflate._install_simple_websocket: simple_websocket.ws agrees to compression with a
    `PerMessageDeflate()` named in its module (Palabre's subclass takes its place); wsproto's
    keeps the compressor of a message in `_compressor` between frame_outbound(proto, opcode, rsv,
    data, fin) calls and takes the no-context-takeover flags in its constructor."""
    from simple_websocket import ws
    from wsproto import extensions
    from wsproto.frame_protocol import Opcode

    patch = "wsdeflate._install_simple_websocket"
    needs(patch, "simple_websocket.ws.PerMessageDeflate being wsproto's",
          issubclass(ws.PerMessageDeflate, extensions.PerMessageDeflate))
    needs(patch, "Base._handle_events agreeing with extensions=[PerMessageDeflate()]",
          "extensions=[PerMessageDeflate()]" in source(ws.Base._handle_events))
    deflate = extensions.PerMessageDeflate
    needs(patch, "PerMessageDeflate(client_no_context_takeover=, server_no_context_takeover=)",
          {"client_no_context_takeover", "server_no_context_takeover"} <= set(parameters(deflate.__init__)))
    needs(patch, "frame_outbound(proto, opcode, rsv, data, fin)",
          parameters(own(deflate, "frame_outbound")) == ["self", "proto", "opcode", "rsv", "data", "fin"])
    needs(patch, "the message's compressor kept in self._compressor",
          sets(deflate.__init__, "_compressor")
          and "self._compressor is None" in source(deflate.frame_outbound))
    needs(patch, "wsproto's Opcode.CONTINUATION", hasattr(Opcode, "CONTINUATION"))


def test_gevent_wsgi_handler_takes_a_read_file_and_keeps_the_headers():
    """runtime._small_buffers_handler: pywsgi.WSGIHandler(sock, address, server, rfile=None) reads
    the request through `rfile`, parses its headers into `self.headers`, and has handle() and
    get_environ(); pywsgi.WSGIServer takes a handler_class."""
    from gevent import pywsgi

    handler, patch = pywsgi.WSGIHandler, "runtime._small_buffers_handler"
    needs(patch, "WSGIHandler.__init__(sock, address, server, rfile=None)",
          parameters(handler.__init__) == ["self", "sock", "address", "server", "rfile"])
    needs(patch, "WSGIHandler.handle() and get_environ()",
          parameters(handler.handle) == ["self"] and parameters(handler.get_environ) == ["self"])
    needs(patch, "read_request parsing the headers into self.headers", sets(handler.read_request, "headers"))
    needs(patch, "WSGIServer(handler_class=)", "handler_class" in parameters(pywsgi.WSGIServer.__init__))


def test_gevent_loop_has_the_watchers_palabre_uses():
    """runtime._fair_gevent_hub (`_Turns`), runtime._timer_of_the_loop and runtime._writer_when_needed:
    the loop's prepare() and timer(seconds) watchers (start, active, close), run_callback(fn,
    *args), gevent.hub.Waiter (get, switch) and gevent.spawn_raw. Checked on a loop of its own
    (not the hub of this process)."""
    import gevent
    from gevent.hub import Hub, Waiter

    patch = "runtime._fair_gevent_hub"
    loop = gevent.config.loop(default=False)
    try:
        prepare, timer = loop.prepare(), loop.timer(0.0)
        needs(patch, "loop.prepare() and loop.timer() watchers with start(callback), active and close()",
              all(callable(getattr(watcher, name, None))
                  for watcher in (prepare, timer) for name in ("start", "close"))
              and timer.active is False)
        needs("runtime._writer_when_needed", "loop.run_callback(fn, *args)", callable(loop.run_callback))
        timer.close()
        prepare.close()
    finally:
        loop.destroy()
    needs(patch, "gevent.hub.Waiter's get() and switch(value)",
          callable(Waiter.get) and callable(Waiter.switch))
    needs("runtime._writer_when_needed", "gevent.spawn_raw and Hub.switch", callable(gevent.spawn_raw)
          and callable(Hub.switch))


# --- python-engineio ---------------------------------------------------------------------------

def test_engineio_socket_is_served_by_the_methods_palabre_replaces():
    """live/outbox.install, runtime._ping_without_a_task, runtime._websocket_called_directly:
    Engine.IO makes a socket's WebSocket as `_async["websocket"](self._websocket_handler, server)`
    and calls it as a WSGI application; `_websocket_handler(ws)`, whose copy in live/outbox.py
    sends through an Outbox, and `schedule_ping`/`_send_ping`, whose copy is a timer of the loop,
    are the versions the copies were made from."""
    from engineio import base_server, base_socket, socket

    sock = socket.Socket
    upgrade = source(sock._upgrade_websocket)
    needs("runtime._websocket_called_directly", "_upgrade_websocket making the WebSocket from "
          "self.server._async['websocket'](self._websocket_handler, self.server) and calling it",
          re.search(r"self\.server\._async\['websocket'\]\(\s*self\._websocket_handler, self\.server\)",
                    upgrade) is not None and "return ws(environ, start_response)" in upgrade)
    pinned("outbox.install", own(sock, "_websocket_handler"), "adbf73c1b47d")
    needs("outbox.install", "Socket.close(wait, abort, reason) and BaseServer.reason.TRANSPORT_CLOSE",
          parameters(sock.close) == ["self", "wait", "abort", "reason"]
          and hasattr(base_server.BaseServer.reason, "TRANSPORT_CLOSE"))
    needs("outbox.install", "BaseServer.get_queue_empty_exception() and max_http_buffer_size",
          callable(base_server.BaseServer.get_queue_empty_exception)
          and sets(base_server.BaseServer.__init__, "max_http_buffer_size"))
    pinned("runtime._ping_without_a_task", own(sock, "schedule_ping"), "860a88b621a4")
    pinned("runtime._ping_without_a_task", own(sock, "_send_ping"), "1b30d0218cae")
    needs("runtime._ping_without_a_task", "BaseSocket.__init__ setting last_ping, closing, closed",
          all(sets(base_socket.BaseSocket.__init__, name) for name in ("last_ping", "closing", "closed")))


def test_the_event_path_the_reader_answers_for_is_the_one_mirrored():
    """fastpath.reader: the common event (`42<id>[...]`) is read and answered as these do it, from
    the Engine.IO packet to the ack's text (python-engineio's `receive` and `run_handler`,
    python-socketio's dispatch, decoding and ACK encoding, Flask-SocketIO's `on`, whose wrapper
    keeps the registered function in `__wrapped__`); python-socketio keeps `_binary_packet`,
    `environ` and `handlers[namespace][event]`."""
    import flask_socketio
    from engineio import packet as eio_packet
    from engineio import server as eio_server
    from engineio import socket as eio_socket
    from socketio import base_server, server
    from socketio import packet as sio_packet

    patch = "fastpath.reader"
    for cls, name, expected in [
        (eio_socket.Socket, "receive", "a335c69d9691"),
        (eio_server.Server, "_trigger_event", "887393d73056"),
        (eio_server.Server, "send", "505236ebe15b"),
        (eio_packet.Packet, "decode", "1cebb31c4809"),
        (server.Server, "_handle_eio_message", "aca8daff00e2"),
        (server.Server, "_handle_event", "e46ce29e38b6"),
        (server.Server, "_handle_event_internal", "295b34587b00"),
        (server.Server, "_trigger_event", "527e9b09e178"),
        (base_server.BaseServer, "_get_event_handler", "0f7ab6fde25d"),
        (sio_packet.Packet, "encode", "0a6dfcea6495"),
        (sio_packet.Packet, "decode", "37e5bd101ae9"),
        (flask_socketio.SocketIO, "on", "b4e5a0417e69"),
    ]:
        pinned(patch, own(cls, name), expected)
    needs(patch, "BaseServer.__init__ setting _binary_packet, environ, handlers, async_handlers",
          all(sets(base_server.BaseServer.__init__, name)
              for name in ("_binary_packet", "environ", "handlers", "async_handlers")))


def test_engineio_drivers_keep_their_websocket_class_in_async():
    """runtime._websocket_called_directly: both drivers name their WebSocket class in `_async`."""
    import importlib

    from live.runtime import MODES

    for mode in MODES:
        drivers = importlib.import_module(f"engineio.async_drivers.{mode}")._async
        needs("runtime._websocket_called_directly", f"engineio.async_drivers.{mode}._async['websocket']",
              isinstance(drivers, dict) and inspect.isclass(drivers.get("websocket")))


def test_engineio_imports_its_client_libraries_only_if_installed():
    """runtime.without_client_libraries: python-engineio's clients import aiohttp, requests and
    websocket inside `try: ... except ImportError` (a server keeps them out with a None in
    sys.modules); no other client library is imported that way."""
    from engineio import async_client, client

    from live.runtime import CLIENT_LIBRARIES

    guarded = set()
    for module in (client, async_client):
        for node in ast.parse(source(module)).body:
            if isinstance(node, ast.Try) and any(getattr(h.type, "id", "") == "ImportError"
                                                 for h in node.handlers):
                guarded |= {alias.name for stmt in node.body if isinstance(stmt, ast.Import)
                            for alias in stmt.names}
    needs("runtime.without_client_libraries", f"python-engineio's optional client imports being "
          f"{sorted(CLIENT_LIBRARIES)} (found {sorted(guarded)})", guarded == set(CLIENT_LIBRARIES))


# --- python-socketio, Flask-SocketIO ---------------------------------------------------------------

def test_flask_socketio_middleware_and_event_dispatch():
    """realtime._OneEnviron and realtime.CountingSocketIO: Flask-SocketIO's init_app makes its
    `_SocketIOMiddleware` (a python-socketio WSGIApp keeping `flask_app`) by that module name,
    and its handlers run through `_handle_event(handler, message, namespace, sid, *args)`."""
    import flask_socketio
    import socketio

    from live import realtime

    original = realtime._OneEnviron.__mro__[1]
    patch = "realtime._OneEnviron"
    needs(patch, "flask_socketio._SocketIOMiddleware, a socketio.WSGIApp",
          original.__name__ == "_SocketIOMiddleware" and original.__bases__ == (socketio.WSGIApp,))
    needs(patch, "SocketIO.init_app making _SocketIOMiddleware(...) by its module name",
          "_SocketIOMiddleware(" in source(flask_socketio.SocketIO.init_app))
    needs(patch, "_SocketIOMiddleware keeping self.flask_app", sets(original.__init__, "flask_app"))
    pinned(patch, own(original, "__call__"), "49d5cf820090")
    patch = "realtime.CountingSocketIO"
    needs(patch, "SocketIO._handle_event(handler, message, namespace, sid, *args)",
          parameters(own(flask_socketio.SocketIO, "_handle_event"))
          == ["self", "handler", "message", "namespace", "sid", "args"])
    needs(patch, "SocketIO.on running handlers through self._handle_event",
          "self._handle_event(" in source(flask_socketio.SocketIO.on))


def test_socketio_manager_and_server_internals_for_rooms_and_slices():
    """rooms.RoomIndex and realtime._send_in_slices: the client manager's `rooms`
    ([namespace][room][sid] = eio_sid), `callbacks`, `pending_connect`, `pending_disconnect`;
    basic_enter_room/basic_leave_room/basic_disconnect, whose last one RoomIndex copies; the
    server's `_send_eio_packet(eio_sid, eio_pkt)` and `packet_class`."""
    import socketio
    from socketio import base_manager

    manager = base_manager.BaseManager
    patch = "rooms.RoomIndex"
    needs(patch, "BaseManager.__init__ keeping rooms, callbacks, pending_connect, pending_disconnect",
          all(sets(manager.__init__, name)
              for name in ("rooms", "callbacks", "pending_connect", "pending_disconnect")))
    needs(patch, "rooms[namespace][room][sio_sid] = eio_sid",
          "self.rooms[namespace][room][sid] = eio_sid" in source(manager.basic_enter_room))
    needs(patch, "basic_enter_room(sid, namespace, room, eio_sid) and basic_leave_room(sid, namespace, room)",
          parameters(manager.basic_enter_room) == ["self", "sid", "namespace", "room", "eio_sid"]
          and parameters(manager.basic_leave_room) == ["self", "sid", "namespace", "room"])
    pinned(patch, own(manager, "basic_disconnect"), "9b76f635d3cd")
    patch = "realtime._send_in_slices"
    needs(patch, "socketio.Server._send_eio_packet(eio_sid, eio_pkt)",
          parameters(socketio.Server._send_eio_packet) == ["self", "eio_sid", "eio_pkt"])
    needs(patch, "BaseManager.get_participants(namespace, room) giving a room's (sid, eio_sid) items",
          "yield from participants.items()" in source(manager.get_participants))


def test_socketio_packet_decoding_can_be_replaced():
    """packets.TolerantPacket: the server decodes with its serializer class (`packet_class`), whose
    decode(encoded_packet) sets packet_type, namespace, data and id and returns the number of
    binary attachments."""
    import socketio
    from socketio import packet

    from live.packets import TolerantPacket

    patch = "packets.TolerantPacket"
    needs(patch, "socketio.Server(serializer=<a Packet class>).packet_class",
          socketio.Server(serializer=TolerantPacket).packet_class is TolerantPacket)
    needs(patch, "Packet.decode(self, encoded_packet)",
          parameters(packet.Packet.decode) == ["self", "encoded_packet"])
    decoded = packet.Packet()
    attachments = decoded.decode('27["vote",{}]')
    needs(patch, "decode() returning the attachment count, setting packet_type, namespace, data and id",
          attachments == 0 and hasattr(decoded, "namespace")
          and (decoded.packet_type, decoded.data, decoded.id) == (packet.EVENT, ["vote", {}], 7))


def test_socketio_redis_manager_internals_the_queue_overrides():
    """cluster.RedisQueue: python-socketio's Redis manager publishes with `_publish(data)`, handles
    an emit with `_handle_emit(message)` (the message as `emit` builds it, which publish_emit
    builds too), connects with `_redis_connect()` and listens through
    `_redis_listen_with_retries()`, and keeps `redis`, `pubsub`, `connected`, `channel`, `json`
    and `host_id`."""
    from socketio import pubsub_manager, redis_manager

    patch = "cluster.RedisQueue"
    redis_class, pubsub = redis_manager.RedisManager, pubsub_manager.PubSubManager
    needs(patch, "PubSubManager._handle_emit(message) and RedisManager._publish(data)",
          parameters(pubsub._handle_emit) == ["self", "message"]
          and parameters(own(redis_class, "_publish")) == ["self", "data"])
    needs(patch, "RedisManager._redis_connect() and _listen() iterating self._redis_listen_with_retries()",
          parameters(redis_class._redis_connect) == ["self"]
          and "self._redis_listen_with_retries()" in source(redis_class._listen))
    needs(patch, "RedisManager keeping redis, pubsub and connected",
          all(sets(redis_class.__init__, name) for name in ("redis", "pubsub", "connected")))
    needs(patch, "PubSubManager keeping channel, json and host_id",
          all(sets(pubsub.__init__, name) for name in ("channel", "json", "host_id")))
    emit = source(pubsub.emit)
    needs(patch, "emit's message {method, event, data, binary, namespace, room, skip_sid, callback, host_id}",
          all(f"'{key}':" in emit for key in ("method", "event", "data", "binary", "namespace", "room",
                                             "skip_sid", "callback", "host_id")))


# --- Flask-Babel -----------------------------------------------------------------------------------

def test_flask_babel_keeps_the_requests_locale_in_its_context_namespace():
    """i18n._translations: Flask-Babel keeps what it found for the request in `g._flask_babel` (a
    namespace Palabre adds its cached catalogue to), its locale as `babel_locale`, which
    get_locale() sets and force_locale() and refresh() replace or remove."""
    import flask_babel

    patch = "i18n._translations"
    needs(patch, "flask_babel._get_current_context() returning g._flask_babel, a SimpleNamespace",
          "g._flask_babel = SimpleNamespace()" in source(flask_babel._get_current_context))
    needs(patch, "get_locale() keeping the locale as ctx.babel_locale",
          "ctx.babel_locale = locale" in source(flask_babel.get_locale))
    needs(patch, "force_locale() and refresh() replacing or removing babel_locale",
          "babel_locale" in source(flask_babel.force_locale)
          and "'babel_locale'" in source(flask_babel.refresh))


# --- psycopg -------------------------------------------------------------------------------------

def test_psycopg_waits_through_a_replaceable_module_function():
    """runtime.cooperative_database: psycopg's connections wait through `psycopg.waiting.wait`,
    looked up at each call, which Palabre sets to `wait_select` under eventlet (refusing C's
    `wait_c`)."""
    pytest.importorskip("psycopg")
    from psycopg import connection, waiting

    patch = "runtime.cooperative_database"
    needs(patch, "psycopg.waiting.wait and wait_select",
          callable(waiting.wait) and callable(waiting.wait_select))
    needs(patch, "psycopg's connection calling waiting.wait(...) at each wait",
          "waiting.wait(" in source(connection))


# --- the standard library (Python 3.11) ----------------------------------------------------------

def test_multiprocessing_internals_of_the_worker_pools():
    """procpool: ProcessPoolExecutor's `_broken`, `_processes` and `_executor_manager_thread` (whose
    queues Palabre lets go of), the resource tracker's `_fd`, `_pid` and `_lock`, the finalizer
    registry of named semaphores, and SpawnProcess._Popen."""
    import multiprocessing.context
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures import process as futures_process
    from multiprocessing import resource_tracker, util
    from multiprocessing.synchronize import SemLock

    from live import procpool

    patch = "procpool.ProcessPool"
    needs(patch, "ProcessPoolExecutor's _broken, _processes, _executor_manager_thread",
          all(sets(ProcessPoolExecutor.__init__, name) for name in ("_broken", "_processes",
                                                                   "_executor_manager_thread")))
    needs("procpool._release_stopped", f"_ExecutorManagerThread keeping {procpool._MANAGER_HOLDS}",
          all(sets(futures_process._ExecutorManagerThread.__init__, name)
              for name in procpool._MANAGER_HOLDS))
    tracker = resource_tracker._resource_tracker
    needs("procpool.stop_tracker_if_unused", "resource_tracker._resource_tracker's _fd, _pid, _lock",
          all(hasattr(tracker, name) for name in ("_fd", "_pid", "_lock")))
    needs("procpool._semaphores_alive", "util._finalizer_registry, SemLock._cleanup, Finalize._callback",
          isinstance(util._finalizer_registry, dict) and callable(SemLock._cleanup)
          and sets(util.Finalize.__init__, "_callback"))
    needs("procpool._SpawnProcess", "multiprocessing.context.SpawnProcess._Popen, a staticmethod",
          isinstance(inspect.getattr_static(multiprocessing.context.SpawnProcess, "_Popen"), staticmethod))
