"""One-time voting codes handed out at the door: issued, printed, claimed once, revoked, counted.

A session with codes (at least one issued) admits a new participant only with an unused,
unrevoked code; a device already admitted comes back without one. As for capability links
(capabilities.py), the database keeps the SHA-256 of each code, and a nonce from which the code
is derived again with the server's secret key (so the sheet can be printed again); never who
used which code. A code is claimed by one conditional UPDATE (unused and unrevoked -> used): of
two joins racing with the same code, the database lets exactly one change the row.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session as DB

from live.errors import DomainError, NotFound
from live.sessions.model import DoorCode, LiveSession
from live.store import lock_row, utcnow

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud and typed from paper
LENGTH = 8  # 31^8: about 40 bits, and joins are rate limited per address
MAX_CODES = 2000  # per session
MAX_BATCH = 500


def code_hash(code: str) -> str:
    """What the database stores for a code."""
    return hashlib.sha256(code.encode()).hexdigest()


def normalise(code: object) -> str:
    """A code as typed (spaces, dashes, lower case) in its canonical form."""
    if not isinstance(code, str):
        return ""
    return "".join(c for c in code.upper()[:40] if c.isalnum())


def display(code: str) -> str:
    """A code as printed: two groups of four."""
    return f"{code[:4]}-{code[4:]}"


def _derive(key: bytes, nonce: str) -> str:
    digest = hmac.new(key, b"palabre-door\0" + nonce.encode(), "sha256").digest()
    number = int.from_bytes(digest, "big")
    chars = []
    for _ in range(LENGTH):
        number, index = divmod(number, len(ALPHABET))
        chars.append(ALPHABET[index])
    return "".join(chars)


def _key(db: DB) -> bytes | None:
    key = db.info.get("link_key")
    return str(key).encode() if key else None


def required(db: DB, session: LiveSession) -> bool:
    """True when the session admits new participants only with a code."""
    return db.scalar(select(DoorCode.id).where(DoorCode.session_id == session.id).limit(1)) is not None


def issue(db: DB, session: LiveSession, count: object) -> list[tuple[int, str]]:
    """`count` new codes for the session: [(number, clear code)]."""
    if not isinstance(count, int) or not 1 <= count <= MAX_BATCH:
        raise DomainError("bad_code_count", limit=MAX_BATCH)
    # One batch of a session at a time: without the lock, two batches issued in the same instant
    # by two processes read the same last number and the second was refused by its unique number.
    lock_row(db, LiveSession, session.id)
    last = db.scalar(select(func.max(DoorCode.number)).where(DoorCode.session_id == session.id)) or 0
    if last + count > MAX_CODES:
        raise DomainError("too_many_codes", limit=MAX_CODES)
    key, issued = _key(db), []
    for number in range(last + 1, last + count + 1):
        nonce = secrets.token_hex(16) if key else None
        code = _derive(key, nonce) if key else "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        db.add(DoorCode(session_id=session.id, number=number, code_hash=code_hash(code), nonce=nonce))
        issued.append((number, code))
    db.flush()
    return issued


def claim(db: DB, session: LiveSession, code: object) -> None:
    """Use `code` to admit one person; DomainError saying why it cannot be used."""
    clear = normalise(code)
    if not clear:
        raise DomainError("door_code_required")
    hashed = code_hash(clear)
    claimed = db.execute(update(DoorCode).where(
        DoorCode.session_id == session.id, DoorCode.code_hash == hashed,
        DoorCode.used_at.is_(None), DoorCode.revoked_at.is_(None)).values(used_at=utcnow()))
    if claimed.rowcount == 1:
        return
    row = db.scalar(select(DoorCode).where(DoorCode.session_id == session.id,
                                           DoorCode.code_hash == hashed))
    if row is None:
        raise DomainError("door_code_unknown")
    raise DomainError("door_code_revoked" if row.revoked_at else "door_code_used")


def revoke(db: DB, session: LiveSession, number: object) -> None:
    """Revoke the code numbered `number` (lost, or given to someone who left)."""
    row = db.scalar(select(DoorCode).where(DoorCode.session_id == session.id,
                                           DoorCode.number == number))
    if row is None:
        raise NotFound("door_code_not_found")
    # The database decides, as for `claim`: only a code still unused is revoked, so a phone
    # using it at the same instant either got in first (refused here) or finds it revoked.
    revoked = db.execute(update(DoorCode).where(
        DoorCode.id == row.id, DoorCode.used_at.is_(None), DoorCode.revoked_at.is_(None))
        .values(revoked_at=utcnow()).execution_options(synchronize_session=False))
    if revoked.rowcount == 0:
        db.refresh(row)
        if row.used_at is not None:
            raise DomainError("door_code_used")  # the person is in: nothing to take back


def listing(db: DB, session: LiveSession) -> list[dict]:
    """Every code of the session, in order: number, clear code (None when it cannot be derived
    again), state (unused, used or revoked)."""
    key = _key(db)
    rows = []
    for row in db.scalars(select(DoorCode).where(DoorCode.session_id == session.id)
                          .order_by(DoorCode.number)):
        code = None
        if key and row.nonce:
            candidate = _derive(key, row.nonce)
            code = candidate if hmac.compare_digest(code_hash(candidate), row.code_hash) else None
        state = "revoked" if row.revoked_at else "used" if row.used_at else "unused"
        rows.append({"number": row.number, "code": code, "state": state})
    return rows


def counts(db: DB, session_id: int) -> dict[str, int]:
    """How many codes were issued, used and revoked (never by whom); unused = the rest."""
    issued, used, revoked = db.execute(select(
        func.count(DoorCode.id), func.count(DoorCode.used_at), func.count(DoorCode.revoked_at))
        .where(DoorCode.session_id == session_id)).one()
    return {"issued": issued, "used": used, "revoked": revoked,
            "unused": issued - used - revoked}


def restore(db: DB, session_id: int, issued: int, used: int, revoked: int) -> None:
    """Rows carrying an imported archive's counts: their hashes match no code (random), so none
    of them can ever admit anyone."""
    for number in range(1, issued + 1):
        row = DoorCode(session_id=session_id, number=number,
                       code_hash=hashlib.sha256(secrets.token_bytes(32)).hexdigest())
        if number <= used:
            row.used_at = utcnow()
        elif number <= used + revoked:
            row.revoked_at = utcnow()
        db.add(row)
    db.flush()
