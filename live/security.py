"""Who may send what: CSRF tokens, the Origin check, trusted hosts, login throttling, noindex.

- Every state-changing form carries a CSRF token (Flask-WTF's CSRFProtect; the token lives in
  the signed session cookie, so participants need no account and no JavaScript).
- A POST whose `Origin` (or `Referer` when there is no Origin) names another site is refused
  with a 403 page in the user's language, before anything is read or written.
- Trusted hosts: a request naming another host (DNS rebinding) is refused. IP literals are
  always accepted (a rebinding attack needs the attacker's domain name in `Host`, and the
  venue's LAN address may change while the server runs); names must be listed.
- Login attempts are throttled (Flask-Limiter, failed attempts only).
- Pages behind capability links are kept out of search engines (`X-Robots-Tag: noindex`).
- Oversized bodies get a 413 page in the user's language (the rest of the body is drained).
"""

from __future__ import annotations

import functools
import ipaddress
from urllib.parse import urlsplit

from flask import Flask, current_app, render_template, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from markupsafe import Markup, escape
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.sansio.utils import host_is_trusted

from live.i18n import message

csrf = CSRFProtect()
# Failed logins per client address; in memory (per process), see docs/security.md.
limiter = Limiter(key_func=get_remote_address, default_limits=[], storage_uri="memory://",
                  headers_enabled=False)

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]", "::1")
# Headers a reverse proxy adds: with any of them, "this machine" cannot be told apart.
PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto",
                 "X-Real-IP", "X-Client-IP", "True-Client-IP", "CF-Connecting-IP")


def init_app(app: Flask) -> None:
    """Install the checks, in order: Host, upload limits, Origin, then CSRF tokens; the login
    throttle; noindex; the error pages (CSRF, 413, 429) in the user's language."""
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # valid as long as the session cookie
    # The Origin check below covers HTTPS too (and works behind a TLS proxy).
    app.config.setdefault("WTF_CSRF_SSL_STRICT", False)
    # LIVE_TRUSTED_HOSTS lands in Flask's own TRUSTED_HOSTS key: take it over (Flask's check
    # cannot accept every IP literal, see above); "*" turns the check off.
    extra = app.config.get("TRUSTED_HOSTS")
    app.config["TRUSTED_HOSTS"] = None
    app.config["PALABRE_TRUSTED_HOSTS"] = None if extra == "*" else trusted_hosts(app.config, extra)
    app.before_request(_check_host)
    app.before_request(_upload_limit)
    app.before_request(_check_origin)
    csrf.init_app(app)
    limiter.init_app(app)
    app.jinja_env.globals["csrf_field"] = csrf_field
    app.after_request(_noindex)
    app.register_error_handler(CSRFError, _csrf_failed)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(RateLimitExceeded, _too_many)


# --- CSRF ----------------------------------------------------------------------------------

def csrf_field() -> Markup:
    """The hidden field every POST form carries: `{{ csrf_field() }}`."""
    return Markup(f'<input type="hidden" name="csrf_token" value="{escape(generate_csrf())}">')  # noqa: S704


def _csrf_failed(exc):
    return render_template("error.html", message=message("csrf_failed")), 400


# --- Origin ----------------------------------------------------------------------------------

def allowed_origins(config) -> set[str]:
    """`host[:port]` of the origins allowed to post besides the request's own host."""
    hosts = set()
    for url in [config.get("PUBLIC_URL") or "", *str(config.get("ALLOWED_ORIGINS") or "").split(",")]:
        url = url.strip()
        if url:
            hosts.add(urlsplit(url if "//" in url else f"//{url}").netloc.lower())
    return hosts


def socket_origins(config):
    """Engine.IO's origin check for sockets: the origin the request itself names (its `Host`,
    port included, or `X-Forwarded-Host`), plus LIVE_PUBLIC_URL's and LIVE_ALLOWED_ORIGINS'.
    The listed origins are added to the server's own, as for form posts (`_check_origin`)."""

    def allowed(origin, environ=None) -> bool:
        netloc = urlsplit(origin).netloc.lower() if origin and origin != "null" else ""
        if not netloc:
            return False
        environ = environ or {}
        own = {environ.get("HTTP_HOST", "").lower(),
               environ.get("HTTP_X_FORWARDED_HOST", "").split(",")[0].strip().lower()}
        return netloc in own - {""} or netloc in allowed_origins(config)

    return allowed


def _check_origin():
    if request.method not in UNSAFE_METHODS:
        return None
    origin = request.headers.get("Origin")
    if origin is None:
        origin = request.headers.get("Referer")
        if origin is None:
            return None  # not a browser (the CSRF token still has to match)
    netloc = urlsplit(origin).netloc.lower() if origin != "null" else ""
    if netloc and (netloc == request.host.lower() or netloc in allowed_origins(current_app.config)):
        return None
    return render_template("error.html", message=message("cross_site_refused")), 403


# --- Hosts -----------------------------------------------------------------------------------

def trusted_hosts(config, extra=None) -> list[str]:
    """The host names this server answers to besides IP literals: localhost, LIVE_PUBLIC_URL's
    host and LIVE_TRUSTED_HOSTS (comma-separated; ".example.org" also trusts its subdomains)."""
    hosts = ["localhost"]
    url = config.get("PUBLIC_URL") or ""
    if url:
        hosts.append(urlsplit(url if "//" in url else f"//{url}").hostname or "")
    if isinstance(extra, str):
        extra = extra.split(",")
    hosts.extend(str(h).strip() for h in extra or ())
    return sorted({h.lower() for h in hosts if h})


def _host_name(host: str) -> str:
    """`host[:port]` without its port ("[::1]:5000" -> "[::1]")."""
    if host.startswith("["):
        return host[:host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0]


@functools.lru_cache(maxsize=256)
def _is_ip(name: str) -> bool:
    """(Remembered: every socket's connect asks it of the same few host names; parsing one
    was ~1.5 % of a reconnection's CPU.)"""
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


def untrusted_host(host: str | None = None) -> str | None:
    """The host name the request names (or `host`, `host[:port]` as `request.host` gives it)
    when this server does not answer to it, else None."""
    trusted = current_app.config.get("PALABRE_TRUSTED_HOSTS")
    if trusted is None:
        return None
    if host is None:
        host = request.host
    name = _host_name(host)
    if _is_ip(name) or host_is_trusted(host, trusted):
        return None
    return name[:100]


def _check_host():
    name = untrusted_host()
    if name is None:
        return None
    return render_template("error.html", message=message("host_refused", host=name)), 400


# --- Organiser: local mode -------------------------------------------------------------------

def binds_loopback(config) -> bool:
    """True when the server listens on a loopback address only (LIVE_HOST)."""
    host = str(config.get("HOST") or "")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def proxied() -> bool:
    """True when the request came through a reverse proxy (it added a forwarding header)."""
    return any(name in request.headers for name in PROXY_HEADERS)


def host_is_loopback() -> bool:
    """True when the request names this machine by a loopback name (not a LAN or public name)."""
    name = _host_name(request.host).lower()
    return name in LOOPBACK_NAMES or (_is_ip(name) and ipaddress.ip_address(name.strip("[]")).is_loopback)


# --- Errors and headers ----------------------------------------------------------------------

DRAIN_CHUNK = 64 * 1024


def _drain(limit: int) -> None:
    """Read (and drop) the rest of a refused body, so that the browser, still sending, reads
    our 413 page instead of a reset connection. At most max(8 MB, 2 x the limit): beyond, the
    connection is closed on the sender, as before."""
    stream = request.environ.get("wsgi.input")
    declared = request.content_length
    budget = max(8 * 1024 * 1024, 2 * limit)
    if stream is None or (declared is not None and declared > budget):
        return
    left = declared if declared is not None else budget
    try:
        while left > 0:
            chunk = stream.read(min(DRAIN_CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
    except (OSError, ValueError):
        pass


def _too_large(exc):
    limit = request.max_content_length or current_app.config.get("MAX_CONTENT_LENGTH") or 0
    _drain(limit)
    megabytes = max(1, round(limit / (1024 * 1024))) if limit >= 1024 * 1024 else None
    if megabytes:
        text = message("upload_too_large_mb", limit=megabytes)
    else:
        text = message("upload_too_large_kb", limit=max(1, limit // 1024))
    return render_template("error.html", message=text), 413


def _too_many(exc):
    return render_template("error.html", message=message("login_throttled")), 429


def _noindex(response):
    # Capability links (console, moderator, screen), join codes and organiser pages: none of
    # them belongs in a search engine. Only the home page may be indexed.
    if request.endpoint not in ("sessions.home", "static"):
        response.headers.setdefault("X-Robots-Tag", "noindex, nofollow")
    return response


def _upload_limit():
    # Views that accept larger bodies say so (`upload_limit`): the CSRF check reads the form
    # before the view runs, so the limit must be in place before it.
    view = current_app.view_functions.get(request.endpoint or "")
    limit = getattr(view, "max_content_length", None)
    if limit:
        request.max_content_length = limit


def upload_limit(size: int):
    """Decorator: this view accepts bodies up to `size` bytes."""

    def decorate(fn):
        fn.max_content_length = size
        return fn

    return decorate
