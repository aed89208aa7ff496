from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from clinic_etl.store import StateStore
from clinic_etl.store.engine import normalise_url
from clinic_etl.store.tables import UTCDateTime, credentials


@pytest.mark.parametrize("url", ["postgresql://u:pw@db.example:5432/etl", "postgres://u:pw@db.example/etl"])
def test_plain_postgresql_url_means_psycopg3(url: str) -> None:
    assert normalise_url(url).drivername == "postgresql+psycopg"
    assert normalise_url("postgresql+psycopg://u@h/d").drivername == "postgresql+psycopg"


def test_repr_hides_the_password() -> None:
    store = StateStore("postgresql://etl:hunter2-secret@127.0.0.1:1/etl")  # no connection is made
    try:
        assert "hunter2-secret" not in repr(store) and "***" in repr(store)
        assert store.engine.dialect.driver == "psycopg"
    finally:
        store.dispose()


def test_sqlite_parent_directories_are_created(tmp_path: Path) -> None:
    db = tmp_path / "a" / "b" / "state.db"
    with StateStore.open(f"sqlite:///{db}", secret_key=Fernet.generate_key().decode()) as store:
        store.put_credential("n", "v")
    assert db.is_file()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "mysql://u@h/d"])
def test_unsupported_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError):
        StateStore(url)


def test_timestamps_are_stored_as_utc(store: StateStore) -> None:
    """Written as UTC whatever the zone given; read back tz-aware UTC whatever the session zone."""
    sydney = timezone(timedelta(hours=11))
    moment = datetime(2025, 3, 1, 9, 30, tzinfo=sydney)
    with store.engine.begin() as conn:
        conn.execute(credentials.insert().values(name="ts", value="v", updated_at=moment))
        got = conn.execute(select(credentials.c.updated_at).where(credentials.c.name == "ts")).scalar_one()
        raw_sql = "SELECT CAST(updated_at AS TEXT) FROM credentials WHERE name = 'ts'"
        raw = conn.execute(text(raw_sql)).scalar()
    assert got == moment and got.tzinfo is UTC
    assert got.hour == 22 and got.day == 28  # 2025-02-28 22:30 UTC
    if store.engine.dialect.name == "sqlite":
        assert raw.startswith("2025-02-28 22:30:00")
    else:  # the session runs in Australia/Sydney (see conftest): the server still holds the instant
        assert raw.startswith("2025-03-01 09:30:00+11")


def test_naive_datetimes_are_refused() -> None:
    from sqlalchemy.dialects import sqlite

    with pytest.raises(ValueError):
        UTCDateTime().process_bind_param(datetime(2025, 1, 1), sqlite.dialect())
