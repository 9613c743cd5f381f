"""Capability links (facilitator, moderator, screen): issued, looked up, shown, rotated.

The database never holds a usable token: each link row keeps the SHA-256 of its token, which
is how a request's token is looked up. So that the console and the organiser page can still
show the current links, a token is derived from a random nonce (stored) and the server's
secret key (not in the database): HMAC-SHA256(secret key, nonce). A copy of the database
alone (a backup, a stolen disk, SQL access) opens nothing. A link whose token cannot be
derived again (issued before this scheme, or the secret key changed) is not shown: the
organiser or the facilitator issues a new one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session as DB
from sqlalchemy.orm import object_session

from live.errors import DomainError, NotFound
from live.sessions.model import LINK_ROLES, LiveSession, SessionLink
from live.store import utcnow

ROLES = LINK_ROLES
TOKEN_LENGTH = 43  # 256 bits in URL-safe base64: a capability link cannot be guessed.


def token_hash(token: str) -> str:
    """What the database stores for a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _key(db: DB) -> bytes | None:
    key = db.info.get("link_key")
    return str(key).encode() if key else None


def _derive(key: bytes, nonce: str) -> str:
    digest = hmac.new(key, b"palabre-link\0" + nonce.encode(), "sha256").digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:TOKEN_LENGTH]


def issue(db: DB, live_session: LiveSession, role: str) -> str:
    """Give `role` a new token (the old one stops working now); returns the clear token, also
    left on `live_session.<role>_token` for whoever shows it next."""
    if role not in ROLES:
        raise DomainError("bad_link_role")
    key = _key(db)
    if key:
        nonce = secrets.token_hex(16)
        token = _derive(key, nonce)
    else:  # no secret key (a bare Store: scripts, benchmarks): shown once, never again
        nonce, token = None, secrets.token_urlsafe(32)
    row = db.scalar(select(SessionLink).where(SessionLink.session_id == live_session.id,
                                              SessionLink.role == role))
    if row is None:
        row = SessionLink(session_id=live_session.id, role=role)
        db.add(row)
    row.token_hash, row.nonce, row.issued_at = token_hash(token), nonce, utcnow()
    db.flush()
    setattr(live_session, f"{role}_token", token)
    return token


def issue_all(db: DB, live_session: LiveSession) -> None:
    """The three links of a new session."""
    for role in ROLES:
        issue(db, live_session, role)


def lookup(db: DB, token: object) -> tuple[LiveSession, str]:
    """The session and role a token opens, or NotFound."""
    if not isinstance(token, str) or not 20 <= len(token) <= 64:
        raise NotFound("bad_token")
    row = db.scalar(select(SessionLink).where(SessionLink.token_hash == token_hash(token)))
    if row is None:
        raise NotFound("bad_token")
    return row.session, row.role


def is_current(db: DB, session_id: int, role: str, token: str) -> bool:
    """True while `token` is still the link of `role` in this session (not rotated since)."""
    return db.scalar(select(SessionLink.id).where(
        SessionLink.session_id == session_id, SessionLink.role == role,
        SessionLink.token_hash == token_hash(token))) is not None


def current_tokens(live_session: LiveSession) -> dict[str, str | None]:
    """The clear token of each role when it can be shown (just issued, or derivable with this
    server's secret key and matching the stored hash); None otherwise."""
    db = object_session(live_session)
    if db is None:
        return {role: getattr(live_session, f"{role}_token", None) for role in ROLES}
    key = _key(db)
    tokens: dict[str, str | None] = {}
    rows = {row.role: row for row in db.scalars(
        select(SessionLink).where(SessionLink.session_id == live_session.id))}
    for role in ROLES:
        token = getattr(live_session, f"{role}_token", None)
        row = rows.get(role)
        if token is None and row is not None and row.nonce and key:
            candidate = _derive(key, row.nonce)
            if hmac.compare_digest(token_hash(candidate), row.token_hash):
                token = candidate
        tokens[role] = token
    return tokens
