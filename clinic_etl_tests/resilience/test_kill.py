"""The sync SIGKILLed at each write point in turn (after a Xero write, before the state store records it; after a
record), then re-run: Xero ends up holding exactly what the uninterrupted run left, nothing doubled, nothing
missing. Within Xero's Idempotency-Key window (a re-sent request is replayed); `test_kill_after_window.py` does
the same after it.

See `kills.py` for the scenario (a day synced, the practice edited, a later day synced: creates, updates, voids,
payment reversals, a late payment, a contact update) and how the write points are chosen (every write, the first
and last record after each; all of them with CLINIC_ETL_KILL_POINTS=all).
"""

import json
import signal
import subprocess
import sys

from clinic_etl_tests.resilience import harness, kills

FIRST = kills.FIRST


def test_killed_at_each_write_point_within_the_window_the_rerun_equals_the_uninterrupted_run(tmp_path):
    ref, outcomes = kills.every_kill_point(tmp_path, ttl=harness.WINDOW_S)
    kills.check_scenario(ref)
    kills.check_outcomes(ref, outcomes)


def test_the_harness_as_a_plain_subprocess_dies_by_sigkill_at_the_point(tmp_path):
    """`python -m clinic_etl_tests.resilience.killable HOME DAY --kill write:N`: returncode -9, and the points it
    reported end at the N-th write (its result never recorded)."""
    home, trace = tmp_path / "home", tmp_path / "trace.jsonl"
    command = [sys.executable, "-m", kills.MODULE, str(home), FIRST, "--kill", "write:2", "--trace", str(trace)]
    done = subprocess.run(command, cwd=kills.ROOT, env=kills.child_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    points = [json.loads(line) for line in trace.read_text().splitlines()]
    assert points[-1]["kind"] == "write" and points[-1]["index"] == 2 and points[-1]["what"] == "PUT Invoices"
    assert not [p for p in points if p["kind"] == "record" and "invoice" in p["what"]]  # no invoice recorded
    state, duplicates = harness.snapshot(home)
    assert state["invoices"] and not duplicates  # Xero has the invoices the state store never heard of
