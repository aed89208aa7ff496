"""Credentials by name (e.g. the rotating Xero refresh token), encrypted at rest (see ``cipher.py``).

Values are never logged: the engine hides bound parameters, and nothing here formats a value into a message.
"""

from __future__ import annotations

import hmac

from sqlalchemy import Connection, Engine, delete, select, update

from .cipher import CredentialCipher, is_fernet_token
from .engine import upsert, write_transaction
from .tables import credentials, utcnow


def _stored(conn: Connection, name: str, *, for_update: bool = False) -> str | None:
    query = select(credentials.c.value).where(credentials.c.name == name)
    if for_update:  # PostgreSQL locks the row; SQLite's BEGIN IMMEDIATE already holds the write lock
        query = query.with_for_update()
    return conn.execute(query).scalar_one_or_none()


def get_credential(engine: Engine, cipher: CredentialCipher, name: str) -> str | None:
    cipher.require_key()
    with engine.connect() as conn:
        stored = _stored(conn, name)
    return None if stored is None else cipher.decrypt(name, stored)


def put_credential(
    engine: Engine, cipher: CredentialCipher, name: str, value: str, *, expected: str | None = None
) -> bool:
    """Store ``value`` (encrypted) under ``name`` and commit before returning.

    Without ``expected``: insert or overwrite, returns True. With ``expected``: compare-and-set; returns False
    (and changes nothing) when the stored value is not ``expected`` or there is none. Fernet tokens are
    randomised, so the comparison is on decrypted values, in the writing transaction: the row is read
    ``FOR UPDATE`` on PostgreSQL (a concurrent swapper waits, then reads the committed new value) and under
    ``BEGIN IMMEDIATE`` on SQLite (writers are serialised), so of two workers swapping the same old value only
    one wins.
    """
    token = cipher.encrypt(value)
    now = utcnow()
    with write_transaction(engine) as conn:
        if expected is None:
            row = {"name": name, "value": token, "updated_at": now}
            upsert(conn, credentials, [row], keys=("name",), update=("value", "updated_at"))
            return True
        stored = _stored(conn, name, for_update=True)
        if stored is None or not hmac.compare_digest(cipher.decrypt(name, stored).encode(), expected.encode()):
            return False
        conn.execute(update(credentials).where(credentials.c.name == name).values(value=token, updated_at=now))
        return True


def delete_credential(engine: Engine, name: str) -> bool:
    """Forget the credential ``name`` (no key needed: e.g. after the key was lost); True if there was one."""
    with write_transaction(engine) as conn:
        return conn.execute(delete(credentials).where(credentials.c.name == name)).rowcount == 1


def encrypt_plaintext_rows(engine: Engine, cipher: CredentialCipher) -> int:
    """Re-encrypt the credentials that an older version stored in plain text; returns how many.

    A cheap read first, so that a store without such rows takes no write lock.
    """
    if not cipher.has_key:
        return 0
    with engine.connect() as conn:
        rows = conn.execute(select(credentials.c.name, credentials.c.value)).all()
    plain = sorted(name for name, value in rows if not is_fernet_token(value))
    if not plain:
        return 0
    count = 0
    with write_transaction(engine) as conn:
        for name in plain:
            stored = _stored(conn, name, for_update=True)
            if stored is None or is_fernet_token(stored):
                continue  # gone, or re-encrypted by another process meanwhile
            conn.execute(update(credentials).where(credentials.c.name == name).values(value=cipher.encrypt(stored)))
            count += 1
    if count and engine.dialect.name == "sqlite":
        with engine.connect() as conn:  # best effort: the WAL's copies of the plain-text pages go too
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return count
