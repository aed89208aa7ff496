"""The kill test after Xero's Idempotency-Key window (the simulated Xero forgets every key at once): a re-sent
write is not replayed but refused or applied again, and the sync must find and adopt what the killed run wrote.
See `test_kill.py`."""

from clinic_etl_tests.resilience import kills


def test_killed_at_each_write_point_after_the_window_the_rerun_equals_the_uninterrupted_run(tmp_path):
    ref, outcomes = kills.every_kill_point(tmp_path, ttl=0)
    kills.check_scenario(ref)
    kills.check_outcomes(ref, outcomes)
