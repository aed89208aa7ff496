from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from clinic_etl.store import StateStore

SECRET = "rt-5f0c1a-very-secret-refresh-token"


def test_put_and_get(store: StateStore) -> None:
    assert store.get_credential("xero.refresh_token") is None
    assert store.put_credential("xero.refresh_token", "rt-1") is True
    assert store.get_credential("xero.refresh_token") == "rt-1"
    assert store.put_credential("xero.refresh_token", "rt-2") is True
    assert store.get_credential("xero.refresh_token") == "rt-2"
    assert store.get_credential("other") is None


def test_compare_and_set_refuses_a_stale_expected_value(store: StateStore) -> None:
    store.put_credential("rt", "A")
    assert store.put_credential("rt", "B", expected="A") is True
    assert store.put_credential("rt", "C", expected="A") is False  # A was already rotated away
    assert store.get_credential("rt") == "B"
    assert store.put_credential("missing", "X", expected="anything") is False
    assert store.get_credential("missing") is None


def test_compare_and_set_has_one_winner_under_concurrency(store: StateStore) -> None:
    store.put_credential("rt", "old")
    barrier = threading.Barrier(8)

    def swap(i: int) -> bool:
        barrier.wait()
        return store.put_credential("rt", f"new-{i}", expected="old")

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(swap, range(8)))
    assert results.count(True) == 1
    assert store.get_credential("rt") == f"new-{results.index(True)}"


def test_credential_lock_serialises_two_threads(store: StateStore) -> None:
    entered = threading.Event()
    events: list[tuple[str, float]] = []

    def first() -> None:
        with store.credential_lock("xero"):
            events.append(("first-in", time.monotonic()))
            entered.set()
            time.sleep(0.6)
            # writing inside the lock works and commits at once (no self-deadlock on either backend)
            assert store.put_credential("xero", "rotated-by-first", expected=None)
            events.append(("first-out", time.monotonic()))

    def second() -> None:
        assert entered.wait(10)
        with store.credential_lock("xero"):
            events.append(("second-in", time.monotonic()))
            assert store.get_credential("xero") == "rotated-by-first"

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert [name for name, _ in events] == ["first-in", "first-out", "second-in"]
    times = dict(events)
    assert times["second-in"] - times["first-in"] >= 0.5  # it waited


def test_credential_lock_is_per_name_and_reentrant(store: StateStore) -> None:
    other_entered = threading.Event()

    def other() -> None:
        with store.credential_lock("clio"):
            other_entered.set()

    with store.credential_lock("xero"):
        with store.credential_lock("xero"):  # same thread: re-entrant
            pass
        t = threading.Thread(target=other)
        t.start()
        assert other_entered.wait(5), "a different name must not wait for 'xero'"
        t.join(5)


def test_credential_lock_times_out(store_url: str) -> None:
    holder = StateStore.open(store_url)
    waiter = StateStore(store_url, lock_timeout=0.3)
    try:
        with holder.credential_lock("xero"):
            started = time.monotonic()
            with pytest.raises(TimeoutError), waiter.credential_lock("xero"):
                pass
            assert 0.2 <= time.monotonic() - started < 10
        with waiter.credential_lock("xero"):  # free again
            pass
    finally:
        holder.dispose()
        waiter.dispose()


def test_secret_never_in_errors_or_logs(store: StateStore, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    store.put_credential("rt", SECRET)
    assert store.put_credential("rt", "x", expected=SECRET + "-stale") is False
    with store.engine.begin() as conn:
        conn.execute(text("DROP TABLE credentials"))
    with pytest.raises(Exception) as info:  # noqa: B017 - any driver error will do
        store.put_credential("rt", SECRET, expected=SECRET)
    assert SECRET not in str(info.value) and SECRET not in repr(info.value)
    assert SECRET not in caplog.text
