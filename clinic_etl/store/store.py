"""``StateStore``: the one object the rest of clinic_etl uses to reach the state store."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from sqlalchemy import Engine

from . import credentials as _credentials
from . import engage as _engage
from . import pending as _pending
from . import quarantine as _quarantine
from . import sync_map as _sync_map
from . import writes as _writes
from .cipher import CredentialCipher
from .engine import create_store_engine, normalise_url, safe_url, sqlite_path
from .files import tighten_sqlite
from .locks import pg_lock, sqlite_lock
from .migrate import upgrade
from .records import PendingWrite, QuarantineRecord, SyncRecord


class StateStore:
    """Sync map, Xero writes, quarantine, credentials and the outbound systems' records, on SQLite (default) or
    PostgreSQL.

    ``url`` is a SQLAlchemy URL: ``sqlite:///path`` (parent directories are created) or
    ``postgresql+psycopg://...`` (``postgresql://`` is taken to mean psycopg 3). A PostgreSQL schema is
    chosen with libpq options in the URL, e.g. ``?options=-csearch_path%3Dclinic``.
    ``lock_timeout`` bounds the wait in :meth:`credential_lock` (seconds; None waits forever).

    Credentials are encrypted at rest with Fernet: ``secret_key`` is CLINIC_ETL_SECRET_KEY (a Fernet key); without
    it, ``key_file`` holds the key (generated on first use, mode 0600: the embedded sandbox). With neither the
    store opens, but the credential methods raise :class:`~clinic_etl.store.cipher.CredentialKeyError`.
    A SQLite store's files are created readable by their owner only (0600).
    """

    def __init__(
        self,
        url: str,
        *,
        lock_timeout: float | None = 120.0,
        secret_key: str | None = None,
        key_file: str | os.PathLike[str] | None = None,
    ) -> None:
        self._url = normalise_url(url)
        self._sqlite_path = sqlite_path(self._url)
        self._engine = create_store_engine(self._url)
        try:
            self._cipher = CredentialCipher.from_sources(secret_key, key_file)
        except BaseException:
            self._engine.dispose()
            raise
        self._lock_timeout = lock_timeout
        self._held = threading.local()

    @classmethod
    def open(
        cls, url: str, *, secret_key: str | None = None, key_file: str | os.PathLike[str] | None = None
    ) -> StateStore:
        """Construct, migrate to head and re-encrypt any credential an older version stored in plain text:
        the normal entry point."""
        store = cls(url, secret_key=secret_key, key_file=key_file)
        try:
            store.migrate()
            _credentials.encrypt_plaintext_rows(store._engine, store._cipher)
            if store._sqlite_path is not None:
                tighten_sqlite(store._sqlite_path)  # -wal/-shm left group-readable by an older version
        except BaseException:
            store.dispose()
            raise
        return store

    @property
    def engine(self) -> Engine:
        return self._engine

    def migrate(self) -> None:
        """Alembic upgrade to head: idempotent, serialised across processes (see ``migrate.py``)."""
        upgrade(self._engine)

    def dispose(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.dispose()

    def __repr__(self) -> str:
        return f"StateStore({safe_url(self._url)!r})"

    # -- sync map ---------------------------------------------------------------------------------
    def get_records(
        self, tenant_id: str, entity: str, source_keys: Iterable[str] | None = None
    ) -> dict[str, SyncRecord]:
        return _sync_map.get_records(self._engine, tenant_id, entity, source_keys)

    def get_records_by_number(self, tenant_id: str, entity: str, numbers: Iterable[str]) -> dict[str, list[SyncRecord]]:
        return _sync_map.get_records_by_number(self._engine, tenant_id, entity, numbers)

    def get_records_by_parent(self, tenant_id: str, entity: str, parent_keys: Iterable[str]) -> dict[str, SyncRecord]:
        return _sync_map.get_records_by_parent(self._engine, tenant_id, entity, parent_keys)

    def record(self, records: Iterable[SyncRecord]) -> None:
        _sync_map.record(self._engine, records)

    # -- pending writes ---------------------------------------------------------------------------
    def note_pending(self, writes: Iterable[PendingWrite]) -> None:
        """Note creates about to be sent to Xero (see ``pending.py``)."""
        _pending.note(self._engine, writes)

    def pending(self, tenant_id: str, entity: str | None = None) -> list[PendingWrite]:
        """The creates whose result was never recorded (the process stopped in between)."""
        return _pending.pending(self._engine, tenant_id, entity)

    def clear_pending(self, tenant_id: str, entity: str, source_keys: Iterable[str]) -> None:
        _pending.clear(self._engine, tenant_id, entity, source_keys)

    # -- quarantine -------------------------------------------------------------------------------
    def quarantine(self, rows: Iterable[QuarantineRecord]) -> None:
        _quarantine.quarantine(self._engine, rows)

    def resolve_quarantine(self, source: str, entity: str, source_ids: Iterable[str]) -> int:
        return _quarantine.resolve_quarantine(self._engine, source, entity, source_ids)

    def open_quarantine(self, partition_key: str | None = None) -> list[QuarantineRecord]:
        return _quarantine.open_quarantine(self._engine, partition_key)

    # -- credentials ------------------------------------------------------------------------------
    def get_credential(self, name: str) -> str | None:
        """The decrypted value stored under ``name``, or None. Raises CredentialKeyError without a key, or when
        the key does not decrypt it."""
        return _credentials.get_credential(self._engine, self._cipher, name)

    def put_credential(self, name: str, value: str, *, expected: str | None = None) -> bool:
        """Encrypt and store ``value``; with ``expected``, only if the stored value is ``expected`` (see
        ``credentials.put_credential``). Raises CredentialKeyError without a key."""
        return _credentials.put_credential(self._engine, self._cipher, name, value, expected=expected)

    def delete_credential(self, name: str) -> bool:
        """Forget ``name`` (works without the key, e.g. after it was lost); True if it was there."""
        return _credentials.delete_credential(self._engine, name)

    @contextmanager
    def credential_lock(self, name: str) -> Iterator[None]:
        """Hold an exclusive cross-process lock named ``name`` for the block (re-entrant per thread).

        Use it around read-refresh-store of a rotating token; get/put_credential work inside it and
        commit at once. Raises TimeoutError after ``lock_timeout`` seconds of waiting.
        """
        held: set[str] = self._held.__dict__.setdefault("names", set())
        if name in held:
            yield
            return
        lock: Any
        if self._sqlite_path is not None:
            lock = sqlite_lock(self._sqlite_path, "credential", name, self._lock_timeout)
        else:
            lock = pg_lock(self._engine, "credential", name, self._lock_timeout)
        with lock:
            held.add(name)
            try:
                yield
            finally:
                held.discard(name)

    # -- xero writes ------------------------------------------------------------------------------
    def record_write(self, record: SyncRecord, action: str, run_id: str) -> bool:
        """Record a write Xero received and the sync map record it leaves, in one transaction: True if the write
        is new, False if it was on record already (replayed to a concurrent run, or seen by an earlier attempt).
        See ``writes.record_write``."""
        return _writes.record_write(self._engine, record, action, run_id, lock_timeout=self._lock_timeout)

    def writes(self, run_id: str | None = None, partition_key: str | None = None) -> list[dict[str, Any]]:
        """The ``xero_writes`` rows (of a run, a partition, both, or all) in the order recorded, as dicts."""
        return _writes.write_rows(self._engine, run_id, partition_key)

    # -- outbound systems (clinic_etl.engage) -----------------------------------------------------
    def engage_contacts(
        self, service: str, account: str, source_keys: Iterable[str] | None = None
    ) -> dict[str, _engage.EngageContact]:
        """A marketing system's contacts of source records (of these keys, or all), by source key."""
        return _engage.get_contacts(self._engine, service, account, source_keys)

    def engage_contacts_sharing(
        self, service: str, account: str, email_hashes: Iterable[str], phone_hashes: Iterable[str]
    ) -> list[_engage.EngageContact]:
        """Contacts in the system with one of these e-mail or phone hashes (`engage.personal_hash`)."""
        return _engage.contacts_sharing(self._engine, service, account, email_hashes, phone_hashes)

    def record_engage_contacts(self, records: Iterable[_engage.EngageContact]) -> None:
        _engage.put_contacts(self._engine, records)

    def follow_ups(
        self, service: str, account: str, invoice_keys: Iterable[str] | None = None, status: str | None = None
    ) -> dict[str, _engage.FollowUp]:
        """Follow-ups of invoices (of these keys, or all; of one status, or any), by invoice key."""
        return _engage.get_follow_ups(self._engine, service, account, invoice_keys, status)

    def record_follow_ups(self, records: Iterable[_engage.FollowUp]) -> None:
        _engage.put_follow_ups(self._engine, records)
