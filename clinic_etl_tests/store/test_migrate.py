from __future__ import annotations

import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing import get_context

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from clinic_etl.store import StateStore, SyncRecord
from clinic_etl.store.migrate import current_revision, downgrade, head_revision, upgrade
from clinic_etl.store.tables import VERSION_TABLE, metadata

TABLES = {
    "sync_map",
    "quarantine",
    "credentials",
    "xero_writes",
    "pending_writes",
    "engage_contacts",
    "engage_follow_ups",
}
HEAD = "0004"


def _revision(store: StateStore) -> str | None:
    with store.engine.connect() as conn:
        return current_revision(conn)


def _schema_is_head(store: StateStore) -> None:
    with store.engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) == TABLES | {VERSION_TABLE}
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE, "compare_type": True})
        assert compare_metadata(ctx, metadata) == []


def test_open_migrates_to_head_and_schema_equals_metadata(store: StateStore) -> None:
    assert head_revision() == HEAD
    assert _revision(store) == HEAD
    _schema_is_head(store)


def test_migrate_twice_is_a_noop(store: StateStore) -> None:
    store.record([SyncRecord("t1", "invoice", "cliniko:invoice:1", xero_id="X1")])
    store.migrate()
    store.migrate()
    assert _revision(store) == HEAD
    with store.engine.connect() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM {VERSION_TABLE}")).scalar() == 1
    assert store.get_records("t1", "invoice")["cliniko:invoice:1"].xero_id == "X1"


def test_upgrade_downgrade_to_0001_and_upgrade_again(store: StateStore) -> None:
    store.record_write(SyncRecord("t1", "invoice", "k1", "X1", None, "A", "AUTHORISED", "2026-10-13"), "created", "r1")
    store.record_write(SyncRecord("t1", "invoice", "k2", "X2", None, "A", "AUTHORISED", "2026-10-13"), "created", "r1")
    store.record_write(SyncRecord("t1", "invoice", "k1", "X1", None, "B", "AUTHORISED", "2026-10-14"), "updated", "r2")
    store.record_write(SyncRecord("t1", "contact", "c1", "C1", None, "A", "ACTIVE", "2026-10-14"), "created", "r2")

    downgrade(store.engine, "0001")
    assert _revision(store) == "0001"
    with store.engine.connect() as conn:
        found = inspect(conn)
        assert set(found.get_table_names()) == {"sync_map", "quarantine", "credentials", "run_audit", VERSION_TABLE}
        assert [c["name"] for c in found.get_columns("run_audit")] == [
            "id",
            "partition_key",
            "run_id",
            "entity",
            "action",
            "count",
            "detail",
            "recorded_at",
        ]
        assert {i["name"] for i in found.get_indexes("run_audit")} == {
            "ix_run_audit_partition_key",
            "ix_run_audit_run_id",
        }
        counts = conn.execute(
            text("SELECT partition_key, run_id, entity, action, count FROM run_audit ORDER BY id")
        ).all()
    # run_audit comes back with the counts of the writes, per (partition, run, entity, action)
    assert [tuple(r) for r in counts] == [
        ("2026-10-13", "r1", "invoice", "created", 2),
        ("2026-10-14", "r2", "invoice", "updated", 1),
        ("2026-10-14", "r2", "contact", "created", 1),
    ]
    with store.engine.connect() as conn:  # the sync map is untouched (read as 0001 has it)
        assert conn.execute(text("SELECT content_hash FROM sync_map WHERE source_key = 'k1'")).scalar() == "B"

    upgrade(store.engine)
    assert _revision(store) == HEAD
    _schema_is_head(store)
    assert store.writes() == []  # run_audit's counts cannot become writes
    assert store.get_records("t1", "invoice")["k1"].content_hash == "B"
    assert store.record_write(SyncRecord("t1", "invoice", "k1", "X1", None, "C", None, "2026-10-15"), "updated", "r3")
    assert [(w["from_hash"], w["to_hash"]) for w in store.writes()] == [("B", "C")]


def test_postgres_tables_live_in_the_selected_schema(pg_schema_url: tuple[str, str]) -> None:
    url, schema = pg_schema_url
    with StateStore.open(url) as store, store.engine.connect() as conn:
        assert conn.execute(text("SELECT current_schema()")).scalar() == schema
        found = conn.execute(
            text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"), {"s": schema}
        ).scalars()
        assert set(found) == TABLES | {VERSION_TABLE}


def test_concurrent_migrate_from_threads(store_url: str) -> None:
    stores = [StateStore(store_url) for _ in range(6)]
    barrier = threading.Barrier(len(stores))

    def run(s: StateStore) -> str | None:
        barrier.wait()
        s.migrate()
        return _revision(s)

    try:
        with ThreadPoolExecutor(len(stores)) as pool:
            revisions = list(pool.map(run, stores))
    finally:
        for s in stores:
            s.dispose()
    assert revisions == [HEAD] * len(stores)


def _open_in_process(url: str, start_at: float, secret_key: str) -> str | None:
    import time

    time.sleep(max(0.0, start_at - time.time()))
    with StateStore.open(url, secret_key=secret_key) as s:
        s.put_credential("probe", "ok")
        return _revision(s)


def test_concurrent_migrate_from_processes(store_url: str, secret_key: str) -> None:
    import time

    ctx = get_context("spawn")
    n = 4
    start_at = time.time() + 3.0  # lets every spawned interpreter import first, then all go at once
    with ProcessPoolExecutor(n, mp_context=ctx) as pool:
        revisions = list(pool.map(_open_in_process, [store_url] * n, [start_at] * n, [secret_key] * n))
    assert revisions == [HEAD] * n
    with StateStore.open(store_url, secret_key=secret_key) as s:
        assert s.get_credential("probe") == "ok"


def test_0003_gives_existing_payments_their_invoice_and_downgrades(store: StateStore) -> None:
    downgrade(store.engine, "0002")
    with store.engine.begin() as conn:
        assert "parent_key" not in {c["name"] for c in inspect(conn).get_columns("sync_map")}
        assert "pending_writes" not in inspect(conn).get_table_names()
        conn.execute(
            text(
                "INSERT INTO sync_map (tenant_id, entity, source_key, xero_id, synced_at) VALUES "
                "('t1', 'payment', 'cliniko:payment:77', 'P1', '2026-10-14 00:00:00'), "
                "('t1', 'invoice', 'cliniko:invoice:77', 'I1', '2026-10-14 00:00:00')"
            )
        )
    upgrade(store.engine)
    _schema_is_head(store)
    assert store.get_records("t1", "payment")["cliniko:payment:77"].parent_key == "cliniko:invoice:77"
    assert store.get_records("t1", "invoice")["cliniko:invoice:77"].parent_key is None
    assert list(store.get_records_by_parent("t1", "payment", ["cliniko:invoice:77"])) == ["cliniko:payment:77"]
    downgrade(store.engine, "0002")
    with store.engine.connect() as conn:
        assert "parent_key" not in {c["name"] for c in inspect(conn).get_columns("sync_map")}
