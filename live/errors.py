"""Domain errors: raised by services, turned into messages in the user's language at the edge."""

from __future__ import annotations


class DomainError(Exception):
    """A refused operation; `code` picks the message, `params` fill it, `state` is the current state."""

    def __init__(self, code: str, state: dict | None = None, **params):
        super().__init__(code)
        self.code = code
        self.params = params
        self.state = state


class NotFound(DomainError):
    """Something the request names does not exist (or is not visible to the requester)."""


class Forbidden(DomainError):
    """The requester's role may not do this."""
