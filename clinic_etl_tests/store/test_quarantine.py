from __future__ import annotations

import time
from datetime import timedelta

import pytest

from clinic_etl.store import QuarantineRecord, StateStore


def _q(source_id: str, partition: str = "2025-03-01", reason: str = "missing patient") -> QuarantineRecord:
    return QuarantineRecord("cliniko", "invoice", source_id, partition, reason)


def _by_id(rows: list[QuarantineRecord]) -> dict[str, QuarantineRecord]:
    return {r.source_id: r for r in rows}


def test_new_rows_are_open_with_first_seen_equal_last_seen(store: StateStore) -> None:
    store.quarantine([_q("1"), _q("2", partition="2025-03-02")])
    rows = _by_id(store.open_quarantine())
    assert set(rows) == {"1", "2"}
    one = rows["1"]
    assert one.first_seen is not None and one.first_seen == one.last_seen
    assert one.first_seen.utcoffset() == timedelta(0)
    assert one.resolved_at is None and one.reason == "missing patient"


def test_upsert_keeps_first_seen_and_updates_the_rest(store: StateStore) -> None:
    store.quarantine([_q("1")])
    first = store.open_quarantine()[0]
    time.sleep(0.01)
    store.quarantine([_q("1", partition="2025-03-05", reason="negative amount")])
    rows = store.open_quarantine()
    assert len(rows) == 1
    again = rows[0]
    assert again.first_seen == first.first_seen
    assert again.last_seen is not None and first.last_seen is not None and again.last_seen > first.last_seen
    assert (again.partition_key, again.reason) == ("2025-03-05", "negative amount")


def test_open_list_by_partition(store: StateStore) -> None:
    store.quarantine([_q("1"), _q("2"), _q("3", partition="2025-03-02")])
    store.quarantine([QuarantineRecord("clio", "invoice", "1", "2025-03-01", "bad")])
    assert [(r.source, r.source_id) for r in store.open_quarantine("2025-03-01")] == [
        ("cliniko", "1"),
        ("cliniko", "2"),
        ("clio", "1"),
    ]
    assert [r.source_id for r in store.open_quarantine("2025-03-02")] == ["3"]
    assert store.open_quarantine("2030-01-01") == []
    assert len(store.open_quarantine()) == 4


def test_resolve_and_reopen(store: StateStore) -> None:
    store.quarantine([_q("1"), _q("2")])
    first_seen = store.open_quarantine()[0].first_seen
    assert store.resolve_quarantine("cliniko", "invoice", ["1", "404"]) == 1
    assert store.resolve_quarantine("cliniko", "invoice", ["1"]) == 0  # already resolved
    assert store.resolve_quarantine("clio", "invoice", ["2"]) == 0  # other source
    assert store.resolve_quarantine("cliniko", "contact", ["2"]) == 0  # other entity
    assert [r.source_id for r in store.open_quarantine()] == ["2"]
    # rejected again: reopened, resolved_at cleared, first_seen kept
    store.quarantine([_q("1", reason="still broken")])
    reopened = _by_id(store.open_quarantine())["1"]
    assert reopened.resolved_at is None and reopened.reason == "still broken"
    assert reopened.first_seen == first_seen


def test_resolve_many_ids_is_chunked(store: StateStore) -> None:
    ids = [str(i) for i in range(1203)]
    store.quarantine([_q(i) for i in ids])
    assert store.resolve_quarantine("cliniko", "invoice", ids[:1201]) == 1201
    assert sorted(r.source_id for r in store.open_quarantine()) == sorted(ids[1201:])
    assert store.resolve_quarantine("cliniko", "invoice", []) == 0


def test_non_str_ids_are_refused(store: StateStore) -> None:
    with pytest.raises(TypeError, match="source_id"):
        store.quarantine([QuarantineRecord("cliniko", "invoice", 5, "2025-03-01", "bad")])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        store.resolve_quarantine("cliniko", "invoice", [5])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        store.resolve_quarantine("cliniko", "invoice", "5")
    assert store.open_quarantine() == []
