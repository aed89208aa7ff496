"""Credentials at rest: encrypted with Fernet under CLINIC_ETL_SECRET_KEY (or the sandbox's key file), on
SQLite and PostgreSQL; legacy plain-text rows re-encrypted; a wrong or missing key is a clear error."""

from __future__ import annotations

import os
import stat
import threading
import traceback
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from clinic_etl.store import CredentialKeyError, StateStore
from clinic_etl.store.cipher import is_fernet_token
from clinic_etl.store.tables import credentials

SECRET = "rt-5f0c1a-very-secret-refresh-token"
NAME = "xero_refresh_token:client-1"


def _raw(store: StateStore, name: str = NAME) -> str | None:
    """The `credentials.value` column as stored, bypassing the store's decryption."""
    with store.engine.connect() as conn:
        return conn.execute(text("SELECT value FROM credentials WHERE name = :n"), {"n": name}).scalar()


def _insert_plaintext(store: StateStore, name: str, value: str) -> None:
    """A row as the previous version wrote it: the value in plain text."""
    with store.engine.begin() as conn:
        conn.execute(credentials.insert().values(name=name, value=value, updated_at=datetime.now(UTC)))


def _sqlite_bytes(store_url: str) -> bytes:
    """Every byte of a SQLite store: the database and its -wal/-shm/-journal files."""
    db = Path(store_url.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in sorted(db.parent.glob(db.name + "*")) if p.is_file())


@pytest.fixture
def other_store(store_url: str, store: StateStore) -> Iterator[StateStore]:
    """The same database opened with a different key (as after CLINIC_ETL_SECRET_KEY was changed)."""
    s = StateStore.open(store_url, secret_key=Fernet.generate_key().decode())
    try:
        yield s
    finally:
        s.dispose()


def test_credential_value_is_encrypted_in_the_column(store: StateStore, secret_key: str) -> None:
    assert store.put_credential(NAME, SECRET) is True
    raw = _raw(store)
    assert raw is not None and SECRET not in raw and is_fernet_token(raw)
    assert Fernet(secret_key.encode()).decrypt(raw.encode()).decode() == SECRET
    assert store.get_credential(NAME) == SECRET
    assert store.put_credential(NAME, SECRET) is True
    assert _raw(store) != raw  # Fernet tokens are randomised: the same value never stores the same bytes
    assert store.get_credential(NAME) == SECRET


def test_credential_value_is_not_in_the_sqlite_files(tmp_path: Path, secret_key: str) -> None:
    url = f"sqlite:///{tmp_path}/state.db"
    with StateStore.open(url, secret_key=secret_key) as store:
        store.put_credential(NAME, SECRET)
        store.put_credential(NAME + ":next", SECRET + "-rotated", expected=None)
        assert store.put_credential(NAME, SECRET + "-2", expected=SECRET) is True
        data = _sqlite_bytes(url)  # the WAL too: the rows may not be checkpointed yet
        assert b"rt-5f0c1a" not in data and b"very-secret" not in data
        assert secret_key.encode() not in data
    data = _sqlite_bytes(url)
    assert b"rt-5f0c1a" not in data and b"very-secret" not in data
    assert NAME.encode() in data  # the name is not secret (and proves the files were read)


def test_compare_and_set_on_encrypted_values(store: StateStore) -> None:
    store.put_credential("rt", "A")
    first = _raw(store, "rt")
    assert store.put_credential("rt", "B", expected="A") is True
    assert store.put_credential("rt", "C", expected="A") is False
    assert store.put_credential("rt", "C", expected=first) is False  # the token is not the value
    assert store.get_credential("rt") == "B"
    assert _raw(store, "rt") != "B" and is_fernet_token(_raw(store, "rt") or "")


def test_compare_and_set_has_one_winner_between_two_stores(store_url: str, store: StateStore, secret_key: str) -> None:
    """Two engines (as two processes would have) swap the same old value, many times: one wins each round."""
    rival = StateStore.open(store_url, secret_key=secret_key)
    try:
        for round_ in range(10):
            old = f"old-{round_}"
            store.put_credential("rt", old)
            barrier = threading.Barrier(2)

            def swap(s: StateStore, who: str, old: str = old, barrier: threading.Barrier = barrier) -> bool:
                barrier.wait()
                return s.put_credential("rt", f"new-{who}", expected=old)

            with ThreadPoolExecutor(2) as pool:
                results = list(pool.map(swap, [store, rival], ["a", "b"]))
            assert results.count(True) == 1, results
            winner = "a" if results[0] else "b"
            assert store.get_credential("rt") == rival.get_credential("rt") == f"new-{winner}"
            assert is_fernet_token(_raw(store, "rt") or "")
    finally:
        rival.dispose()


def test_legacy_plaintext_row_is_read_then_reencrypted_at_open(store_url: str, store: StateStore, secret_key: str):
    _insert_plaintext(store, NAME, SECRET)
    assert store.get_credential(NAME) == SECRET  # read as its value
    assert _raw(store) == SECRET
    with StateStore.open(store_url, secret_key=secret_key) as reopened:
        raw = _raw(reopened)
        assert raw is not None and SECRET not in raw and is_fernet_token(raw)
        assert reopened.get_credential(NAME) == SECRET
    assert store.get_credential(NAME) == SECRET
    if store_url.startswith("sqlite"):  # the plain text is gone from the files too, not just from the row
        assert SECRET.encode() not in _sqlite_bytes(store_url)


def test_legacy_plaintext_row_is_reencrypted_by_the_next_write(store: StateStore) -> None:
    _insert_plaintext(store, NAME, SECRET)
    _insert_plaintext(store, "other", "plain-other")
    assert store.put_credential(NAME, "rotated", expected="not-it") is False
    assert _raw(store) == SECRET  # a refused compare-and-set changes nothing
    assert store.put_credential(NAME, "rotated", expected=SECRET) is True  # compared on the plain value
    assert is_fernet_token(_raw(store) or "") and store.get_credential(NAME) == "rotated"
    assert store.put_credential("other", "plain-other-2") is True
    assert is_fernet_token(_raw(store, "other") or "") and store.get_credential("other") == "plain-other-2"


def test_a_store_opened_with_another_key_is_a_clear_error(store: StateStore, other_store: StateStore) -> None:
    store.put_credential(NAME, SECRET)
    for attempt in (
        lambda: other_store.get_credential(NAME),
        lambda: other_store.put_credential(NAME, "x", expected=SECRET),
    ):
        with pytest.raises(CredentialKeyError) as info:
            attempt()
        message = str(info.value)
        assert "CLINIC_ETL_SECRET_KEY" in message and "encrypted with another key" in message
        assert "restore the old key, or delete the credential and re-authorise" in message
        assert SECRET not in message and "cryptography" not in message and "InvalidToken" not in message
        shown = "".join(traceback.format_exception(info.value))  # as a log would show it
        assert "cryptography" not in shown and "InvalidToken" not in shown and "InvalidSignature" not in shown
    assert store.get_credential(NAME) == SECRET  # nothing was changed
    assert other_store.delete_credential(NAME) is True  # the way out: delete it and re-authorise
    assert store.get_credential(NAME) is None
    assert other_store.put_credential(NAME, "fresh") is True and other_store.get_credential(NAME) == "fresh"


def test_no_key_and_no_key_file_is_a_clear_error(store_url: str, store: StateStore) -> None:
    store.put_credential(NAME, SECRET)
    with StateStore.open(store_url) as keyless:  # the store still opens, and all but credentials work
        assert keyless.open_quarantine() == []
        for attempt in (
            lambda: keyless.get_credential(NAME),
            lambda: keyless.get_credential("absent"),
            lambda: keyless.put_credential("new", "value"),
            lambda: keyless.put_credential(NAME, "value", expected=SECRET),
        ):
            with pytest.raises(CredentialKeyError) as info:
                attempt()
            message = str(info.value)
            assert message.startswith(
                "CLINIC_ETL_SECRET_KEY is not set: credentials cannot be stored unencrypted; make a key with python -c"
            )
            assert "Fernet.generate_key()" in message
    assert _raw(store, "new") is None
    assert store.get_credential(NAME) == SECRET


def test_an_invalid_secret_key_is_refused_without_showing_it(store_url: str) -> None:
    with pytest.raises(ValueError, match="CLINIC_ETL_SECRET_KEY is not a Fernet key") as info:
        StateStore.open(store_url, secret_key="not-a-key-but-secretish")
    assert "secretish" not in str(info.value)


def test_key_file_is_generated_once_with_mode_0600_and_reused(tmp_path: Path) -> None:
    key_file = tmp_path / "dagster-home" / "clinic-etl" / "secret.key"
    url = f"sqlite:///{tmp_path}/state.db"
    with StateStore.open(url, key_file=str(key_file)) as store:
        store.put_credential(NAME, SECRET)
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    key = key_file.read_bytes()
    Fernet(key.strip())  # a Fernet key
    before = os.stat(key_file)
    with StateStore.open(url, key_file=str(key_file)) as store:  # reused, not replaced
        assert store.get_credential(NAME) == SECRET
    assert key_file.read_bytes() == key and os.stat(key_file).st_ino == before.st_ino
    with StateStore.open(url, secret_key=key.decode().strip()) as store:  # the same key as CLINIC_ETL_SECRET_KEY
        assert store.get_credential(NAME) == SECRET
    assert SECRET.encode() not in _sqlite_bytes(url)


def test_secret_key_wins_over_the_key_file(tmp_path: Path, secret_key: str) -> None:
    key_file = tmp_path / "secret.key"
    with StateStore.open(f"sqlite:///{tmp_path}/state.db", secret_key=secret_key, key_file=str(key_file)) as s:
        s.put_credential(NAME, SECRET)
        assert Fernet(secret_key.encode()).decrypt((_raw(s) or "").encode()).decode() == SECRET
    assert not key_file.exists()


def test_racing_key_file_creators_all_get_the_winners_key(tmp_path: Path) -> None:
    """Stores constructed at once (as by processes starting together) all end up with the one key written."""
    url = f"sqlite:///{tmp_path}/state.db"
    StateStore.open(url).dispose()  # migrated once, so that only the key file is raced for
    for attempt in range(5):
        key_file = tmp_path / f"race-{attempt}" / "secret.key"
        barrier = threading.Barrier(6)

        def construct(_: int, key_file: Path = key_file, barrier: threading.Barrier = barrier) -> StateStore:
            barrier.wait()
            return StateStore(url, key_file=str(key_file))

        with ThreadPoolExecutor(6) as pool:
            stores = list(pool.map(construct, range(6)))
        try:
            assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
            key = Fernet(key_file.read_bytes().strip())
            for i, s in enumerate(stores):
                s.put_credential(f"race-{attempt}-{i}", f"value-{i}")
            for i in range(len(stores)):  # each value written by one store is read by every other one
                raw = _raw(stores[0], f"race-{attempt}-{i}") or ""
                assert key.decrypt(raw.encode()).decode() == f"value-{i}"
                assert {s.get_credential(f"race-{attempt}-{i}") for s in stores} == {f"value-{i}"}
        finally:
            for s in stores:
                s.dispose()


def test_a_key_file_that_holds_no_key_is_a_clear_error(tmp_path: Path) -> None:
    key_file = tmp_path / "secret.key"
    key_file.write_text("garbage-that-is-long-enough-to-not-be-waited-for-at-all\n")
    with pytest.raises(ValueError, match="does not hold a Fernet key") as info:
        StateStore.open(f"sqlite:///{tmp_path}/state.db", key_file=str(key_file))
    assert "garbage" not in str(info.value)
