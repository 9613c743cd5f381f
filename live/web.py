"""Small helpers shared by the doors: the app's store (HTTP, sockets, the CLI), form writes,
error pages.

They know no feature; who may act on a session (capability links, participants' forms) is
`live.sessions.access`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import flash, render_template

from live.errors import DomainError
from live.i18n import message
from live.store import app_store as store  # the doors' name for it (live.store)

T = TypeVar("T")


def write_or_flash(fn: Callable[..., T], *after: Callable[[], None]) -> T | None:
    """Run `fn(db)` in one write; flash the error in the user's language if it is refused."""
    try:
        with store().write() as db:
            result = fn(db)
    except DomainError as exc:
        flash(message(exc.code, **exc.params), "error")
        return None
    for effect in after:
        effect()
    return result


def error_page(code: str, status: int = 400, **params):
    """An error page with a message the user can act on."""
    return render_template("error.html", message=message(code, **params)), status
