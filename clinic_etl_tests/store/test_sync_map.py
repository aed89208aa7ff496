from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, exc

from clinic_etl.store import StateStore, SyncRecord


def _rec(key: str, **kw: str | None) -> SyncRecord:
    return SyncRecord(tenant_id="tenant-a", entity="invoice", source_key=key, **kw)


def test_record_and_get_round_trip(store: StateStore) -> None:
    before = datetime.now(UTC)
    given = _rec(
        "cliniko:invoice:1",
        xero_id="00000000-0000-0000-0000-000000000001",
        xero_number="CLK-1",
        content_hash="h1",
        xero_status="AUTHORISED",
        partition_key="2025-03-01",
    )
    store.record([given])
    got = store.get_records("tenant-a", "invoice", ["cliniko:invoice:1", "cliniko:invoice:404"])
    assert list(got) == ["cliniko:invoice:1"]
    rec = got["cliniko:invoice:1"]
    assert rec.synced_at is not None
    assert rec.synced_at.tzinfo is not None and rec.synced_at.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=1) <= rec.synced_at <= datetime.now(UTC) + timedelta(seconds=1)
    assert rec == SyncRecord(**{**given.__dict__, "synced_at": rec.synced_at})


def test_upsert_updates_hash_and_status(store: StateStore) -> None:
    store.record([_rec("k1", xero_id="X1", content_hash="h1", xero_status="DRAFT", partition_key="p1")])
    first = store.get_records("tenant-a", "invoice", ["k1"])["k1"]
    time.sleep(0.01)
    store.record([_rec("k1", xero_id="X1", content_hash="h2", xero_status="AUTHORISED", partition_key="p2")])
    second = store.get_records("tenant-a", "invoice", ["k1"])["k1"]
    assert (second.content_hash, second.xero_status, second.partition_key) == ("h2", "AUTHORISED", "p2")
    assert second.xero_id == "X1"
    assert first.synced_at is not None and second.synced_at is not None
    assert second.synced_at > first.synced_at
    # every field is replaced, including back to NULL
    store.record([_rec("k1")])
    assert store.get_records("tenant-a", "invoice", ["k1"])["k1"].xero_id is None


def test_keys_are_scoped_by_tenant_and_entity(store: StateStore) -> None:
    store.record(
        [
            SyncRecord("tenant-a", "invoice", "k", xero_id="A-inv"),
            SyncRecord("tenant-a", "contact", "k", xero_id="A-con"),
            SyncRecord("tenant-b", "invoice", "k", xero_id="B-inv"),
        ]
    )
    assert store.get_records("tenant-a", "invoice")["k"].xero_id == "A-inv"
    assert store.get_records("tenant-a", "contact")["k"].xero_id == "A-con"
    assert store.get_records("tenant-b", "invoice")["k"].xero_id == "B-inv"
    assert store.get_records("tenant-b", "contact") == {}
    assert store.get_records("tenant-a", "invoice", []) == {}


def test_duplicate_key_in_one_batch_keeps_the_last(store: StateStore) -> None:
    store.record([_rec("k", content_hash="old"), _rec("k", content_hash="new")])
    assert store.get_records("tenant-a", "invoice")["k"].content_hash == "new"


def test_record_is_one_transaction(store: StateStore) -> None:
    store.record([_rec("k0", content_hash="before")])
    bad = SyncRecord("tenant-a", "invoice", None)  # type: ignore[arg-type]  # NOT NULL violation
    with pytest.raises(exc.IntegrityError):
        store.record([_rec("k0", content_hash="after"), _rec("k1"), bad])
    got = store.get_records("tenant-a", "invoice")
    assert list(got) == ["k0"] and got["k0"].content_hash == "before"


def test_many_keys_are_chunked(store: StateStore) -> None:
    keys = [f"cliniko:invoice:{i}" for i in range(1234)]
    store.record([_rec(k, xero_id=f"X{i}", content_hash=str(i)) for i, k in enumerate(keys)])
    selects: list[int] = []

    def count_in_params(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        if statement.lstrip().upper().startswith("SELECT") and "sync_map" in statement:
            n = len(parameters) if isinstance(parameters, (list, tuple, dict)) else 0
            selects.append(n)

    event.listen(store.engine, "before_cursor_execute", count_in_params)
    try:
        asked = [*keys[::-1], "cliniko:invoice:missing"]
        got = store.get_records("tenant-a", "invoice", asked)
    finally:
        event.remove(store.engine, "before_cursor_execute", count_in_params)
    assert len(got) == 1234
    assert got["cliniko:invoice:1233"].content_hash == "1233"
    assert len(selects) == 3  # 1235 keys → 500 + 500 + 235
    assert all(n <= 500 + 2 for n in selects)  # IN list plus tenant and entity
    assert len(store.get_records("tenant-a", "invoice")) == 1234


def test_non_str_keys_are_refused_on_every_backend(store: StateStore) -> None:
    """SQLite would store 123 in a text column where PostgreSQL refuses it: both refuse it up front."""
    with pytest.raises(TypeError):
        store.get_records("tenant-a", "invoice", "cliniko:invoice:1")  # one string, not an iterable of keys
    with pytest.raises(TypeError):
        store.get_records("tenant-a", "invoice", [123])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="source_key"):
        store.record([_rec(123)])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="xero_number"):
        store.record([_rec("k", xero_number=7)])  # type: ignore[arg-type]
    assert store.get_records("tenant-a", "invoice") == {}
