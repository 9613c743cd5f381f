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


class StorageProblem(DomainError):
    """The database could not take a write for now: `database_busy` (locked by another process)
    or `storage_full` (no room left). Nothing of the write was stored; it may be tried again."""


# The largest row id (PostgreSQL's INTEGER): a larger number never names a row, and must not
# reach the database driver (SQLite refuses integers over 2^63 with an OverflowError).
MAX_ID = 2**31 - 1


def is_id(value: object) -> bool:
    """True if `value` could be a row id: an int (not a bool) between 1 and MAX_ID."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


class StartRefused(RuntimeError):
    """The server cannot start as configured (a message queue it cannot reach, a database driver
    that would block the event loop...): the message says why, for the operator."""
