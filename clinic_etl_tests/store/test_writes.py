"""``xero_writes``: one row per write Xero received, recorded with its sync map row (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from clinic_etl.store import WRITE_ACTIONS, StateStore, SyncRecord
from clinic_etl.store.tables import xero_writes

DAY = "2026-10-14"


def _rec(
    key: str = "cliniko:invoice:1",
    xero_id: str | None = "X1",
    content_hash: str | None = "A",
    status: str | None = "AUTHORISED",
    day: str | None = DAY,
    entity: str = "invoice",
) -> SyncRecord:
    return SyncRecord("tenant-a", entity, key, xero_id, "CLK-1", content_hash, status, day)


def _writes(store: StateStore, **filters: str) -> list[tuple[str, str, str, str, str]]:
    return [(w["action"], w["xero_id"], w["from_hash"], w["to_hash"], w["run_id"]) for w in store.writes(**filters)]


def _count(store: StateStore) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(xero_writes)).scalar_one()


def test_a_write_is_recorded_with_its_sync_map_record(store: StateStore) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    assert store.record_write(_rec(), "created", "run-1") is True
    record = store.get_records("tenant-a", "invoice")["cliniko:invoice:1"]
    assert (record.xero_id, record.xero_number, record.content_hash, record.xero_status, record.partition_key) == (
        "X1",
        "CLK-1",
        "A",
        "AUTHORISED",
        DAY,
    )
    [row] = store.writes()
    assert {k: v for k, v in row.items() if k not in ("id", "recorded_at")} == {
        "tenant_id": "tenant-a",
        "entity": "invoice",
        "source_key": "cliniko:invoice:1",
        "action": "created",
        "xero_id": "X1",
        "from_hash": "",
        "to_hash": "A",
        "partition_key": DAY,
        "run_id": "run-1",
    }
    assert row["recorded_at"].utcoffset() == timedelta(0)
    assert before <= row["recorded_at"] <= datetime.now(UTC) + timedelta(seconds=1)


def test_the_same_write_reported_again_is_one_row(store: StateStore) -> None:
    """A replay to a concurrent run, or a retry: the sync map holds what the write left already."""
    assert store.record_write(_rec(), "created", "run-1") is True
    assert store.record_write(_rec(), "created", "run-2") is False
    assert store.record_write(_rec(content_hash="B"), "updated", "run-1") is True
    assert store.record_write(_rec(content_hash="B"), "updated", "run-2") is False
    assert _writes(store) == [("created", "X1", "", "A", "run-1"), ("updated", "X1", "A", "B", "run-1")]


def test_a_repeated_write_is_inserted_once_on_conflict_do_nothing(store: StateStore) -> None:
    """The unique constraint decides when the sync map no longer shows the write (here put back by hand)."""
    assert store.record_write(_rec(content_hash="B"), "updated", "run-1") is True  # from '' (no record)
    store.record([_rec(content_hash=None)])
    assert store.record_write(_rec(content_hash="B"), "updated", "run-2") is False
    assert _writes(store) == [("updated", "X1", "", "B", "run-1")]
    assert store.get_records("tenant-a", "invoice")["cliniko:invoice:1"].content_hash == "B"  # the map still moves


def test_a_to_b_to_a_is_two_distinct_updates(store: StateStore) -> None:
    assert store.record_write(_rec(content_hash="A"), "created", "run-1")
    assert store.record_write(_rec(content_hash="B"), "updated", "run-2")
    assert store.record_write(_rec(content_hash="A"), "updated", "run-3")
    assert _writes(store) == [
        ("created", "X1", "", "A", "run-1"),
        ("updated", "X1", "A", "B", "run-2"),
        ("updated", "X1", "B", "A", "run-3"),
    ]
    assert store.get_records("tenant-a", "invoice")["cliniko:invoice:1"].content_hash == "A"


def test_status_changes_are_writes_and_none_is_stored_as_empty(store: StateStore) -> None:
    payment = "cliniko:payment:1"
    store.record_write(_rec(payment, "P1", "120.00", "AUTHORISED", entity="payment"), "created", "run-1")
    store.record_write(_rec(payment, "P1", "120.00", "DELETED", entity="payment"), "reversed", "run-1")
    store.record_write(_rec(payment, "P1", "120.00", "DELETED", entity="payment"), "reversed", "run-2")  # replay
    store.record_write(_rec(payment, "P2", "120.00", "AUTHORISED", entity="payment"), "created", "run-2")
    store.record_write(_rec(xero_id="C9", content_hash=None, status="ACTIVE", entity="contact"), "adopted", "run-2")
    assert [(w["entity"], *_w) for w, _w in zip(store.writes(), _writes(store), strict=True)] == [
        ("payment", "created", "P1", "", "120.00", "run-1"),
        ("payment", "reversed", "P1", "120.00", "120.00", "run-1"),
        ("payment", "created", "P2", "120.00", "120.00", "run-2"),
        ("contact", "adopted", "C9", "", "", "run-2"),
    ]
    store.record_write(_rec(content_hash="A", status="AUTHORISED"), "created", "run-3")
    store.record_write(_rec(content_hash="A", status="VOIDED"), "voided", "run-3")
    store.record_write(_rec("cliniko:invoice:2", "X2", "D", "DELETED"), "deleted", "run-3")
    assert [w[:2] for w in _writes(store, run_id="run-3")] == [("created", "X1"), ("voided", "X1"), ("deleted", "X2")]


def test_an_adoption_of_what_the_key_maps_to_already_writes_nothing(store: StateStore) -> None:
    """A concurrent run planned from an older view, was refused by Xero (the object exists) and adopted it."""
    assert store.record_write(_rec(content_hash="A"), "created", "run-1")
    assert store.record_write(_rec(content_hash=None), "adopted", "run-2") is False
    assert _writes(store) == [("created", "X1", "", "A", "run-1")]
    assert store.get_records("tenant-a", "invoice")["cliniko:invoice:1"].content_hash == "A"  # not forgotten


def test_a_create_recorded_after_its_adoption_replaces_it(store: StateStore) -> None:
    """The adopting run recorded first; the run that created it records its create after: one row, the create."""
    assert store.record_write(_rec(content_hash=None), "adopted", "run-2") is True
    assert store.record_write(_rec(content_hash="A"), "created", "run-1") is True
    assert _writes(store) == [("created", "X1", "", "A", "run-1")]
    # an adoption after a lost state store (the map forgot it) stays one row too
    store.record([_rec("cliniko:invoice:2", None, None, None)])
    assert store.record_write(_rec("cliniko:invoice:2", "X2", "B"), "adopted", "run-3") is True
    assert [w[:2] for w in _writes(store, run_id="run-3")] == [("adopted", "X2")]


def test_writes_by_run_and_partition_in_order(store: StateStore) -> None:
    store.record_write(_rec("k1", "X1", day="2026-10-13"), "created", "run-1")
    store.record_write(_rec("k2", "X2", day="2026-10-14"), "created", "run-1")
    store.record_write(_rec("k3", "X3", day="2026-10-14"), "created", "run-2")
    store.record_write(_rec("k1", "X1", "B", day="2026-10-13"), "updated", "run-2")
    keys = [w["source_key"] for w in store.writes()]
    assert keys == ["k1", "k2", "k3", "k1"]
    assert [w["id"] for w in store.writes()] == sorted(w["id"] for w in store.writes())
    assert [w["source_key"] for w in store.writes(run_id="run-2")] == ["k3", "k1"]
    assert [w["source_key"] for w in store.writes(partition_key="2026-10-14")] == ["k2", "k3"]
    assert [w["source_key"] for w in store.writes(run_id="run-2", partition_key="2026-10-13")] == ["k1"]
    assert store.writes(run_id="run-404") == []


@pytest.mark.parametrize(
    ("record", "action", "run_id", "error"),
    [
        (_rec(), "unchanged", "run-1", ValueError),
        (_rec(xero_id=None), "created", "run-1", ValueError),
        (_rec(day=None), "created", "run-1", ValueError),
        (_rec(), "created", "", ValueError),
        (SyncRecord("tenant-a", "invoice", 7, "X1", partition_key=DAY), "created", "run-1", TypeError),  # type: ignore[arg-type]
    ],
)
def test_bad_writes_are_refused_and_record_nothing(
    store: StateStore, record: SyncRecord, action: str, run_id: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        store.record_write(record, action, run_id)
    assert store.writes() == [] and store.get_records("tenant-a", "invoice") == {}


def test_every_write_action_is_accepted(store: StateStore) -> None:
    for n, action in enumerate(WRITE_ACTIONS):
        assert store.record_write(_rec(f"k{n}", f"X{n}"), action, "run-1")
    assert [w["action"] for w in store.writes()] == list(WRITE_ACTIONS)


def test_a_failed_transaction_records_neither_the_write_nor_the_record(store: StateStore, monkeypatch) -> None:
    from clinic_etl.store import writes

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(writes, "insert_new", boom)
    with pytest.raises(RuntimeError):
        store.record_write(_rec(), "created", "run-1")
    monkeypatch.undo()
    assert store.get_records("tenant-a", "invoice") == {} and store.writes() == []


def _race(store_url: str, secret_key: str, calls: list[tuple[SyncRecord, str, str]]) -> list[bool]:
    stores = [StateStore(store_url, secret_key=secret_key) for _ in calls]
    barrier = threading.Barrier(len(calls))

    def one(i: int) -> bool:
        barrier.wait()
        record, action, run_id = calls[i]
        return stores[i].record_write(record, action, run_id)

    try:
        with ThreadPoolExecutor(len(calls)) as pool:
            return list(pool.map(one, range(len(calls))))
    finally:
        for s in stores:
            s.dispose()


def test_concurrent_reports_of_one_write_make_one_row(store: StateStore, store_url: str, secret_key: str) -> None:
    results = _race(store_url, secret_key, [(_rec(), "created", f"run-{i}") for i in range(8)])
    assert sorted(results) == [False] * 7 + [True]
    assert _count(store) == 1 and store.writes()[0]["from_hash"] == ""


def test_concurrent_create_and_adoption_of_one_object_make_one_row(
    store: StateStore, store_url: str, secret_key: str
) -> None:
    for n in range(10):  # both orders happen
        key = f"cliniko:invoice:{n}"
        calls = [(_rec(key, f"X{n}", "A"), "created", "run-1"), (_rec(key, f"X{n}", None), "adopted", "run-2")]
        _race(store_url, secret_key, calls)
        assert [w["action"] for w in store.writes() if w["source_key"] == key] == ["created"]
    assert _count(store) == 10
