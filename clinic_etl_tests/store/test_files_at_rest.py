"""Files at rest: the SQLite state store (and its -wal/-shm and side-car lock files), the key file and the call
budget file are 0600; budget tables and rows are named by a digest, never by (part of) a key."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from clinic_etl.http.limits import CallBudget
from clinic_etl.sources.cliniko.client import ClinikoClient
from clinic_etl.store import StateStore

API_KEY = "MS0xMjM0NTY3ODkwMTIzNDU2Nzg5MC1TdXBlclNlY3JldEtleQ-au2"


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask, under which a file created without an explicit mode is 0644."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _modes(directory: Path) -> dict[str, int]:
    return {p.name: stat.S_IMODE(os.stat(p).st_mode) for p in sorted(directory.rglob("*")) if p.is_file()}


def test_every_file_is_0600_after_open_credential_write_and_budget_acquire(tmp_path: Path, umask_022: None) -> None:
    home = tmp_path / "clinic-etl"
    store = StateStore.open(f"sqlite:///{home}/state.db", key_file=str(home / "secret.key"))
    budget = CallBudget(60, home / "budgets.sqlite")
    try:
        with store.credential_lock("xero_refresh_token:client"):
            assert store.put_credential("xero_refresh_token:client", "rt-1")
        assert store.put_credential("xero_refresh_token:client", "rt-2", expected="rt-1")
        budget.acquire("xero")
        budget.acquire(f"cliniko-au2-{API_KEY}")
        modes = _modes(home)  # while the connections are open: -wal and -shm exist
    finally:
        store.dispose()
    names = set(modes)
    assert {"state.db", "state.db-wal", "state.db-shm", "secret.key", "budgets.sqlite", "budgets.sqlite.lock"} <= names
    assert any(".credential-lock-" in name for name in names)  # the side-car lock file
    assert {"budgets.sqlite-wal", "budgets.sqlite-shm"} <= names
    assert {name: oct(mode) for name, mode in modes.items() if mode != 0o600} == {}
    assert {name: oct(mode) for name, mode in _modes(home).items() if mode != 0o600} == {}


def test_files_an_older_version_left_0644_are_tightened(tmp_path: Path, umask_022: None, secret_key: str) -> None:
    db, budgets = tmp_path / "state.db", tmp_path / "budgets.sqlite"
    for path in (db, budgets, tmp_path / "secret.key"):
        path.touch(mode=0o644)
    (tmp_path / "secret.key").write_bytes(secret_key.encode())
    with StateStore.open(f"sqlite:///{db}", key_file=str(tmp_path / "secret.key")) as store:
        store.put_credential("n", "v")
    CallBudget(60, budgets).acquire("xero")
    assert {name: oct(mode) for name, mode in _modes(tmp_path).items() if mode != 0o600} == {}


def _budget_names(path: Path) -> list[str]:
    """Every name in the budget file: tables, indexes, and the item names stored in the tables' rows."""
    with closing(sqlite3.connect(path)) as conn:
        schema = conn.execute("SELECT type, name FROM sqlite_master").fetchall()
        names = [name for _, name in schema]
        for kind, table in schema:
            if kind == "table":
                names += [row[0] for row in conn.execute(f'SELECT DISTINCT name FROM "{table}"')]
    return names


def test_budget_tables_and_rows_hold_no_part_of_the_budget_key(tmp_path: Path) -> None:
    path = tmp_path / "budgets.sqlite"
    key = "cliniko-au2-SuperSecretKeyXYZ"
    budget = CallBudget(60, path)
    budget.acquire(key)
    budget.acquire(key)
    names = _budget_names(path)
    assert any(name.startswith("budget_") for name in names)
    for name in names:
        # no 3-character piece of the key (beyond the fixed "budget" prefix, which is hex-free) appears
        tail = name.removeprefix("idx_").removeprefix("budget_").lower()
        assert not any(key.lower()[i : i + 3] in tail for i in range(len(key) - 2)), name
    CallBudget(60, path).acquire(key)  # another process's budget object: the same table
    assert len([n for n in _budget_names(path) if n.startswith("budget_")]) == 1


def test_budget_tables_named_after_a_key_by_an_older_version_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "budgets.sqlite"
    legacy = "budget_cliniko_au2_cretKe"  # as named before: the API key's last 6 characters
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("PRAGMA journal_mode=WAL")  # as pyrate-limiter left it
        conn.execute(f"CREATE TABLE '{legacy}' (name VARCHAR, item_timestamp INTEGER)")
        conn.execute(f"INSERT INTO '{legacy}' VALUES ('cliniko-au2-cretKe', 1)")
    CallBudget(60, path).acquire("cliniko-au2-x")
    names = _budget_names(path)
    assert legacy not in names and not any("cretKe" in n for n in names)
    assert b"cretKe" not in b"".join(p.read_bytes() for p in tmp_path.glob("budgets.sqlite*"))


def test_the_cliniko_budget_key_holds_a_digest_of_the_api_key() -> None:
    clients = [ClinikoClient(API_KEY), ClinikoClient(API_KEY), ClinikoClient("x" + API_KEY)]
    try:
        key = clients[0].budget_key
        assert key.startswith("cliniko-au2-") and len(key) == len("cliniko-au2-") + 12
        assert not any(API_KEY[i : i + 4] in key.removeprefix("cliniko-au2-") for i in range(len(API_KEY) - 3))
        assert clients[1].budget_key == key  # stable: one budget per API key
        assert clients[2].budget_key != key
    finally:
        for client in clients:
            client.close()
