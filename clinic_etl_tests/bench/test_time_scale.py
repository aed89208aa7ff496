"""A time scale shortens the simulators' rate-limit windows (and only when asked: the default is real time)."""

import sqlite3

from clinic_etl.sandbox.cliniko.guard import FixedWindowLimiter
from clinic_etl.sandbox.xero.ratelimit import check_and_count


class Tx:
    def __init__(self) -> None:
        self.conn = sqlite3.connect(":memory:")
        self.conn.execute("CREATE TABLE rate_windows (tenant TEXT, kind TEXT, window_start REAL, count INTEGER, "
                          "PRIMARY KEY (tenant, kind))")  # fmt: skip


def test_xero_minute_window_at_real_time_and_scaled():
    tx = Tx()
    for _ in range(2):
        assert check_and_count(tx, "t", 1000.0, 2, 5000).limited is None
    refused = check_and_count(tx, "t", 1010.0, 2, 5000)
    assert refused.limited == "minute" and refused.headers["Retry-After"] == "50"  # whole seconds, as Xero
    assert check_and_count(tx, "t", 1060.0, 2, 5000).limited is None
    tx = Tx()
    for _ in range(2):
        assert check_and_count(tx, "t", 1000.0, 2, 5000, time_scale=60).limited is None
    refused = check_and_count(tx, "t", 1000.25, 2, 5000, time_scale=60)  # a minute lasts one second
    assert refused.limited == "minute" and refused.headers["Retry-After"] == "0.750"
    assert check_and_count(tx, "t", 1001.0, 2, 5000, time_scale=60).limited is None


def test_xero_day_window_scaled():
    tx = Tx()
    assert check_and_count(tx, "t", 0.0, 60, 1, time_scale=1440).limited is None
    refused = check_and_count(tx, "t", 30.0, 60, 1, time_scale=1440)  # a day lasts a minute
    assert refused.limited == "day" and float(refused.headers["Retry-After"]) == 30.0
    assert check_and_count(tx, "t", 60.0, 60, 1, time_scale=1440).limited is None


def test_cliniko_window_default_and_scaled():
    now = [120.5]
    limiter = FixedWindowLimiter(1, lambda: now[0])
    assert limiter.hit("k") is None
    assert limiter.hit("k") == 180 and isinstance(limiter.hit("k"), int)  # X-RateLimit-Reset in whole seconds
    scaled = FixedWindowLimiter(1, lambda: now[0], window_s=1.0)
    assert scaled.hit("k") is None
    assert scaled.hit("k") == 121.0
    now[0] = 121.0
    assert scaled.hit("k") is None
