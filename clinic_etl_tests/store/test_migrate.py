from __future__ import annotations

import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing import get_context

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from clinic_etl.store import StateStore, SyncRecord
from clinic_etl.store.migrate import current_revision, head_revision
from clinic_etl.store.tables import VERSION_TABLE, metadata

TABLES = {"sync_map", "quarantine", "credentials", "run_audit"}


def _revision(store: StateStore) -> str | None:
    with store.engine.connect() as conn:
        return current_revision(conn)


def test_open_migrates_to_head_and_schema_equals_metadata(store: StateStore) -> None:
    assert head_revision() == "0001"
    assert _revision(store) == "0001"
    with store.engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) == TABLES | {VERSION_TABLE}
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE, "compare_type": True})
        assert compare_metadata(ctx, metadata) == []


def test_migrate_twice_is_a_noop(store: StateStore) -> None:
    store.record([SyncRecord("t1", "invoice", "cliniko:invoice:1", xero_id="X1")])
    store.migrate()
    store.migrate()
    assert _revision(store) == "0001"
    with store.engine.connect() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM {VERSION_TABLE}")).scalar() == 1
    assert store.get_records("t1", "invoice")["cliniko:invoice:1"].xero_id == "X1"


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
    assert revisions == ["0001"] * len(stores)


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
    assert revisions == ["0001"] * n
    with StateStore.open(store_url, secret_key=secret_key) as s:
        assert s.get_credential("probe") == "ok"
