from __future__ import annotations

from datetime import UTC, datetime, timedelta

from clinic_etl.store import StateStore


def test_audit_rows_by_partition_in_order(store: StateStore) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    store.audit("2025-03-01", "run-1", "invoice", "create", 3)
    store.audit("2025-03-01", "run-1", "payment", "create", 2, detail="into 090")
    store.audit("2025-03-02", "run-2", "invoice", "update", 1)
    store.audit("2025-03-01", "run-3", "invoice", "skip", 0)

    rows = store.audit_rows("2025-03-01")
    assert [(r["run_id"], r["entity"], r["action"], r["count"], r["detail"]) for r in rows] == [
        ("run-1", "invoice", "create", 3, None),
        ("run-1", "payment", "create", 2, "into 090"),
        ("run-3", "invoice", "skip", 0, None),
    ]
    assert {r["partition_key"] for r in rows} == {"2025-03-01"}
    for r in rows:
        assert r["recorded_at"].utcoffset() == timedelta(0)
        assert before <= r["recorded_at"] <= datetime.now(UTC) + timedelta(seconds=1)

    everything = store.audit_rows()
    assert len(everything) == 4
    assert [r["id"] for r in everything] == sorted(r["id"] for r in everything)
    assert [r["partition_key"] for r in store.audit_rows("2025-03-02")] == ["2025-03-02"]
    assert store.audit_rows("1999-01-01") == []
