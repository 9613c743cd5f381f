"""The only module that knows the concrete async library (eventlet or gevent).

Everything else uses `socketio.start_background_task` and `socketio.sleep`.
"""

from __future__ import annotations

import os

_patched: str | None = None


def async_mode() -> str:
    """The async mode chosen by LIVE_ASYNC_MODE (eventlet by default)."""
    return os.environ.get("LIVE_ASYNC_MODE", "eventlet")


def monkey_patch() -> str:
    """Patch the standard library for the chosen async mode; call before any other import."""
    global _patched
    mode = async_mode()
    if _patched is None:
        if mode == "eventlet":
            import eventlet

            eventlet.monkey_patch()
        elif mode == "gevent":
            from gevent import monkey

            monkey.patch_all()
        _patched = mode
    return mode


def serve(app, socketio, host: str, port: int, max_connections: int) -> None:
    """Run the server until interrupted, with the connection cap raised."""
    mode = socketio.async_mode
    kwargs: dict = {"host": host, "port": port, "use_reloader": False, "log_output": False}
    if mode == "eventlet":
        # eventlet.wsgi.server accepts at most 1,024 connections unless max_size is raised.
        kwargs["max_size"] = max_connections
    elif mode == "threading":
        kwargs["allow_unsafe_werkzeug"] = True
    socketio.run(app, **kwargs)


def effective_mode(configured: str) -> str:
    """The async mode to use: the configured one if its library patched this process, else threading.

    The CLI, the test client and plain `flask` commands run unpatched; they must not start an
    event-loop server mode they cannot honour.
    """
    import sys

    if configured == "eventlet" and "eventlet" in sys.modules:
        from eventlet import patcher

        if patcher.is_monkey_patched("socket"):
            return "eventlet"
    if configured == "gevent" and "gevent" in sys.modules:
        from gevent import monkey

        if monkey.is_module_patched("socket"):
            return "gevent"
    return "threading"
