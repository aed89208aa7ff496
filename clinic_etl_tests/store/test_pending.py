"""The pending writes journal: noted before a create is sent, gone with the write's record, left behind by a crash."""

from clinic_etl.store import PendingWrite, StateStore, SyncRecord


def _pending(key: str, **kw: str) -> PendingWrite:
    fields = {"number": "CLK-1", "parent_key": None, "partition_key": "2026-10-14", "run_id": "r1"} | kw
    return PendingWrite("t1", "invoice", key, **fields)


def test_a_note_stays_until_the_write_is_recorded(store: StateStore) -> None:
    store.note_pending([_pending("cliniko:invoice:1"), _pending("cliniko:invoice:2", number="CLK-2")])
    assert [p.source_key for p in store.pending("t1")] == ["cliniko:invoice:1", "cliniko:invoice:2"]
    assert store.pending("t2") == [] and store.pending("t1", "payment") == []

    record = SyncRecord("t1", "invoice", "cliniko:invoice:1", "X1", "CLK-1", "h", "AUTHORISED", "2026-10-14")
    assert store.record_write(record, "created", "r1")
    assert [(p.source_key, p.number) for p in store.pending("t1")] == [("cliniko:invoice:2", "CLK-2")]

    store.clear_pending("t1", "invoice", ["cliniko:invoice:2"])
    assert store.pending("t1") == []


def test_a_key_noted_again_keeps_the_newer_note(store: StateStore) -> None:
    store.note_pending([_pending("cliniko:payment:1", parent_key="cliniko:invoice:1", run_id="r1")])
    store.note_pending([_pending("cliniko:payment:1", parent_key="cliniko:invoice:1", run_id="r2")])
    (only,) = store.pending("t1")
    assert (only.parent_key, only.run_id) == ("cliniko:invoice:1", "r2")


def test_records_are_found_by_parent(store: StateStore) -> None:
    for key, parent in (("a:payment:1", "a:invoice:1"), ("a:payment:2", "a:invoice:1"), ("a:payment:3", "a:invoice:3")):
        store.record_write(
            SyncRecord("t1", "payment", key, f"P{key[-1]}", None, "1", "AUTHORISED", "2026-10-14", None, parent),
            "created",
            "r1",
        )
    assert set(store.get_records_by_parent("t1", "payment", ["a:invoice:1"])) == {"a:payment:1", "a:payment:2"}
    assert store.get_records_by_parent("t2", "payment", ["a:invoice:1"]) == {}
