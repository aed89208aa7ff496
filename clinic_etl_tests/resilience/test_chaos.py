"""Seeded chaos in CI (bounded): four sandbox days synced one by one with the practice edited between runs, 429
bursts, 5xx, timeouts and drops after write injected before and during the runs, then one clean run over the
window: Xero ends up holding exactly what the fault-free run of the same days and edits left, with no duplicate
and nothing missing. Two seeds within Xero's Idempotency-Key window, two after it (every retry re-sent to a Xero
that has forgotten the key). `scripts/soak.py` runs more seeds and days and prints the same figures.

See `chaos.py` for the fault schedules and their bounds.
"""

import json

import pytest

from clinic_etl_tests.resilience import chaos, harness


@pytest.mark.parametrize(
    ("seed", "ttl"), [(1, harness.WINDOW_S), (2, harness.WINDOW_S), (3, 0), (4, 0)], ids=lambda v: str(v)
)
def test_seeded_faults_over_days_with_edits_end_in_the_fault_free_state(tmp_path, seed, ttl):
    figures = chaos.chaos_against_reference(tmp_path, seed, ttl=ttl)
    print(figures.line())
    detail = json.dumps({"differences": figures.differences, "duplicates": figures.duplicates})[:4000]
    assert figures.faults_hit + figures.timeouts > 0, figures.line()  # the schedule did meet the sync
    assert len(figures.edits) >= len(chaos.DAYS) - 1, figures.edits
    assert figures.duplicates == [], detail
    assert figures.missing == 0 and figures.extra == 0, detail
    assert figures.equal, detail
    assert not figures.failed_runs, figures.failed_runs  # every fault was retried through (fewer than 6 per run)
