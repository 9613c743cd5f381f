"""Participant identity (a random id in the signed cookie) and the organiser's access."""

from __future__ import annotations

import hmac
import ipaddress
import secrets

from flask import current_app, request, session


def device_key(create: bool = True) -> str | None:
    """This browser's anonymous participant id, kept in the signed, HttpOnly session cookie."""
    key = session.get("pid")
    if key is None and create:
        key = secrets.token_urlsafe(16)
        session["pid"] = key
        session.permanent = True
    return key


def is_local_request() -> bool:
    """True when the request comes from this machine."""
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def organiser_allowed() -> bool:
    """Organiser pages: the password when one is set, otherwise this machine only."""
    if current_app.config["ADMIN_PASSWORD"]:
        return bool(session.get("organiser"))
    return is_local_request()


def check_password(candidate: str) -> bool:
    """Compare the organiser password in constant time."""
    expected = current_app.config["ADMIN_PASSWORD"]
    return bool(expected) and hmac.compare_digest(candidate.encode(), expected.encode())
