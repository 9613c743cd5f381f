"""Entry point: `app = create_app()` for WSGI servers; `python wsgi.py` runs Palabre."""

if __name__ == "__main__":
    # Patch the standard library for eventlet/gevent before anything else is imported.
    from live import runtime

    runtime.monkey_patch()
    runtime.without_client_libraries()

from live import create_app  # noqa: E402
from live.errors import StartRefused  # noqa: E402


def _build():
    """The application; `python wsgi.py` stops with the reason (status 2) if it cannot start as
    configured (Redis unreachable, a database driver that would block the event loop...)."""
    try:
        return create_app()
    except StartRefused as exc:
        if __name__ != "__main__":
            raise
        import sys

        print(_refused(str(exc)), file=sys.stderr, flush=True)
        sys.exit(2)


def _refused(reason: str) -> str:
    """"Palabre cannot start: ..." in the terminal's language (LANG), from the catalogue."""
    import gettext
    import os
    from pathlib import Path

    lang = "fr" if os.environ.get("LANG", "").lower().startswith("fr") else "en"
    catalogue = gettext.translation("messages", Path(__file__).parent / "translations",
                                    languages=[lang], fallback=True)
    return catalogue.gettext("Palabre cannot start: %(reason)s") % {"reason": reason}


def _whole_number(name: str, lowest: int, highest: int) -> int:
    """The setting `name` (LIVE_<name>) as a whole number within bounds; else the start stops
    saying which setting and what it takes (status 2), not with a traceback."""
    import sys

    value = app.config[name]
    try:
        number = int(str(value).strip())
    except ValueError:
        number = None
    if number is None or not lowest <= number <= highest or isinstance(value, float):
        print(_refused(f"LIVE_{name}={value!r}: a whole number from {lowest} to {highest}"),
              file=sys.stderr, flush=True)
        sys.exit(2)
    return number


def _switch(name: str) -> bool:
    """The setting `name` (LIVE_<name>) as on or off (true/false, 1/0, yes/no, on/off); else
    the start stops saying which setting and what it takes (status 2)."""
    import sys

    value = app.config[name]
    word = str(value).strip().lower()
    if value is True or word in ("1", "true", "yes", "on"):
        return True
    if value is False or value is None or word in ("0", "false", "no", "off", ""):
        return False
    print(_refused(f"LIVE_{name}={value!r}: true or false"), file=sys.stderr, flush=True)
    sys.exit(2)


# Palabre's spawned workers (live/procpool.py) do not import this file again; any other
# process started with "spawn" would, as __mp_main__: it must not build a second application.
app = _build() if __name__ != "__mp_main__" else None

if __name__ == "__main__":
    import os
    import sys

    from live import launcher, runtime
    from live.config import ensure_admin_password
    from live.i18n import message
    from live.netinfo import public_base_url
    from live.realtime import socketio

    config = app.config
    port, processes = _whole_number("PORT", 1, 65535), _whole_number("PROCESSES", 1, 64)
    most = _whole_number("MAX_CONNECTIONS", 1, 1_000_000)
    config["HTTP_TIMEOUT"] = _whole_number("HTTP_TIMEOUT", 1, 3600)
    if processes > 1 and not config["MESSAGE_QUEUE"]:
        print(_refused(f"LIVE_PROCESSES={processes} needs LIVE_MESSAGE_QUEUE (Redis): the processes "
                       "share the room through it"), file=sys.stderr, flush=True)
        sys.exit(2)
    shared = _switch("SHARED_PORT") and processes > 1
    # Bind first: a second server on a taken port stops here, before it starts anything.
    try:
        if shared:  # one port, the processes' sockets in a group steered by client address
            listeners = runtime.listen_shared(config["HOST"], port, processes)
        else:
            listeners = [runtime.listen(config["HOST"], port)
                         for port in launcher.ports(port, processes)]
    except runtime.PortInUse as exc:
        with app.app_context():
            lang = "fr" if os.environ.get("LANG", "").lower().startswith("fr") else "en"
            print(message("port_in_use", lang, port=exc.port), file=sys.stderr, flush=True)
        sys.exit(2)
    except runtime.SharedPortUnavailable as exc:
        print(_refused(f"LIVE_SHARED_PORT: {exc}; start without it, behind nginx "
                       f"(docs/deployment.md)"), file=sys.stderr, flush=True)
        sys.exit(2)
    # One open file per connection: the soft limit is raised to what LIVE_MAX_CONNECTIONS needs
    # (a desktop session gives 1,024); past the hard limit, fewer connections, said here.
    limit, connections = runtime.open_files_for(most)
    if connections < most:
        print(f"Open-file limit {limit}: at most {connections} connections at once (LIVE_MAX_CONNECTIONS "
              f"is {most}); the others wait to be let in. For a larger hall, raise it before starting: "
              f"ulimit -n {most + runtime.SPARE_FILES}", file=sys.stderr, flush=True)
    base = public_base_url(config)
    # Reachable from other machines without LIVE_ADMIN_PASSWORD: the organiser pages get a
    # password all the same (created once, kept private in the instance folder).
    created = ensure_admin_password(app)
    print(f"Palabre is running ({socketio.async_mode}). Participants join at: {base}/", flush=True)
    if shared:
        print(f"{processes} processes, all on port {port} (each client address reaches one of them)",
              flush=True)
    elif processes > 1:
        print(f"{processes} processes, on ports {', '.join(str(s.getsockname()[1]) for s in listeners)} "
              f"(behind nginx: docs/deployment.md)", flush=True)
    if created:
        print(f"Organiser page: http://127.0.0.1:{config['PORT']}/admin/ — password: {created} "
              f"(kept in {app.instance_path}/admin_password; set LIVE_ADMIN_PASSWORD to choose one)",
              flush=True)
    elif config["ADMIN_PASSWORD"]:
        print(f"Organiser page (LIVE_ADMIN_PASSWORD): http://127.0.0.1:{config['PORT']}/admin/",
              flush=True)
    else:
        print(f"Organiser page (this machine only, no password): "
              f"http://127.0.0.1:{config['PORT']}/admin/", flush=True)
    # The application is built: the other processes are forked from it (live/launcher.py).
    family, listener = launcher.fork_servers(app, socketio, listeners)
    from live.archive import worker as archive_worker

    # No worker process at start: a hall of phones needs the memory more. Word clouds render in
    # worker processes started when a cloud is shown or opened (they warm up, fonts loaded,
    # before its first entry) or at its first render; archives build in a worker process
    # started with the first archive (matplotlib and two chart processes: the heaviest), which
    # keeps drawn charts in the instance folder. Each stops after 5 minutes without work
    # (`procpool.reap_idle`, from start_background), multiprocessing's resource tracker with the
    # last, and starts again when needed. All stop with the server (at exit, or when it dies).
    archive_worker.start(config, app.instance_path)
    from live.render.pool import default_pool

    default_pool().idle_seconds = float(config["WORKER_IDLE_SECONDS"])
    from live.app import start_background, stop_background

    start_background(app)  # the broadcaster and the word-cloud renders; stopped on the way out
    from live.wordclouds.images import prepare_shown_clouds

    with app.app_context():
        prepare_shown_clouds()  # a word cloud on screen when the server (re)starts: its workers
    try:
        # Until SIGTERM or SIGINT (Ctrl-C): then no new connection, queued writes committed.
        runtime.serve(app, socketio, listener, connections,
                      out=lambda line: print(line, flush=True))
    finally:
        stop_background(app)
        if family.first:
            launcher.stop_children(family)
    runtime.exit_now(app, 1 if family.lost is not None else 0)
