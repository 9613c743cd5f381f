"""Participant identity (a random id in the signed cookie) and the organiser's access."""

from __future__ import annotations

import hmac
import ipaddress
import secrets

from flask import current_app, request, session
from werkzeug.http import parse_cookie


def device_key(create: bool = True) -> str | None:
    """This browser's anonymous participant id, kept in the signed, HttpOnly session cookie."""
    key = session.get("pid")
    if key is None and create:
        key = secrets.token_urlsafe(16)
        session["pid"] = key
        session.permanent = True
    return key


class _Cookies:
    """What a session interface reads of a request: its cookies."""

    __slots__ = ("cookies",)

    def __init__(self, environ: dict):
        self.cookies = parse_cookie(environ.get("HTTP_COOKIE", ""))


def cookie_session(app, environ: dict):
    """The signed session cookie of a request known by its WSGI environ only (a socket's
    `CONNECT`, answered without a request context): decoded by the app's own session interface,
    as Flask does for a request (signature, salt, age and fallback keys checked alike; a cookie
    that fails them reads as an empty session)."""
    return app.session_interface.open_session(app, _Cookies(environ))


def is_local_request() -> bool:
    """True when the request comes from this machine."""
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def admin_password() -> str:
    """The organiser password ("" when none is set)."""
    return str(current_app.config["ADMIN_PASSWORD"] or "")


def local_mode() -> bool:
    """Password-less organiser pages: only when no password is set and the server listens on
    a loopback address (LIVE_HOST), so that nobody else can reach it."""
    from live.security import binds_loopback

    return not admin_password() and binds_loopback(current_app.config)


def organiser_allowed() -> bool:
    """Organiser pages: the password when one is set; without one, this machine only, asked
    by a loopback name, with no proxy in between; otherwise nobody."""
    from live.security import host_is_loopback, proxied

    if admin_password():
        return hmac.compare_digest(str(session.get("organiser", "")), password_mark())
    return local_mode() and is_local_request() and host_is_loopback() and not proxied()


def organiser_globals() -> dict:
    """Template globals: whether an organiser is signed in (with a password)."""
    return {"organiser_signed_in": bool(admin_password()) and organiser_allowed()}


def password_mark() -> str:
    """What a signed-in organiser's cookie holds: derived from the current password, so that
    changing the password ends every earlier organiser session."""
    key = str(current_app.secret_key).encode()
    return hmac.new(key, b"organiser\0" + admin_password().encode(), "sha256").hexdigest()[:32]


def sign_in() -> None:
    """Start an organiser session (a fresh cookie: nothing from before the login is kept)."""
    session.clear()
    session["organiser"] = password_mark()


def sign_out() -> None:
    """End the organiser session of this browser."""
    session.pop("organiser", None)


def check_password(candidate: str) -> bool:
    """Compare the organiser password in constant time."""
    expected = admin_password()
    return bool(expected) and hmac.compare_digest(candidate.encode(), expected.encode())


ORGANISER_PATH = "/admin/"  # every page under it is the organiser's...
OPEN_ENDPOINTS = ("admin.login", "admin.logout")  # ...but these


def organiser_pages_guard():
    """The app's one guard of organiser pages (a `before_request`, after the Host, Origin and
    CSRF checks): any page under /admin/ but the login and logout is `organiser_guard`'s."""
    if request.endpoint is None or request.endpoint in OPEN_ENDPOINTS:
        return None  # no such page (404 as for anyone), or the door in
    if not request.path.startswith(ORGANISER_PATH):
        return None
    return organiser_guard()


def organiser_guard():
    """None when the organiser is allowed, else a redirect to the login form (GET, password
    set) or a 403 page saying what is missing."""
    from flask import abort, redirect, url_for

    from live.i18n import message

    if organiser_allowed():
        return None
    if admin_password():
        if request.method == "GET":
            return redirect(url_for("admin.login"))
        abort(403, description=message("organiser_sign_in"))
    if not local_mode():
        abort(403, description=message("organiser_needs_password"))
    abort(403, description=message("organiser_only"))
