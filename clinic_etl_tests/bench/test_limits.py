"""The rate-limit lower bound, the bench's practice shapes and the report's pure helpers."""

from datetime import date

import pytest

from clinic_etl.bench.limits import CLINIKO, XERO, Limit, days_of_quota, lower_bound
from clinic_etl.bench.practices import LARGE, MONTH, SMALL, months
from clinic_etl.bench.report import duration
from clinic_etl.sandbox.cliniko.practice import Shape, build_practice
from clinic_etl.sandbox.resources import PracticeShape


@pytest.mark.parametrize(
    ("calls", "seconds"),
    [(0, 0), (1, 0), (60, 0), (61, 60), (120, 60), (121, 120), (300, 240), (5_000, 83 * 60)],
)
def test_xero_minute_limit(calls, seconds):
    assert lower_bound(calls, XERO) == seconds


def test_xero_day_limit_and_time_scale():
    assert lower_bound(5_001, XERO) == 86_400  # the 5,001st call waits for the next day
    assert lower_bound(10_500, XERO) == 2 * 86_400 + 8 * 60
    assert lower_bound(300, XERO, time_scale=60) == 4.0
    assert lower_bound(201, CLINIKO) == 60
    assert lower_bound(3, (Limit(1, 10), Limit(2, 100))) == 100
    assert days_of_quota(5_000) == 1 and days_of_quota(5_001) == 2


def test_duration():
    assert duration(3.21) == "3.2 s"
    assert duration(250) == "4 min 10 s"
    assert duration(2 * 86_400 + 8 * 60) == "2 d 0 h 8 min"


def test_months_cut_a_span_at_month_ends():
    assert months(date(2026, 9, 28), date(2026, 11, 2)) == [
        (date(2026, 9, 28), date(2026, 9, 30)),
        (date(2026, 10, 1), date(2026, 10, 31)),
        (date(2026, 11, 1), date(2026, 11, 2)),
    ]


def test_the_practice_shapes():
    small = build_practice(shape=PracticeShape(**SMALL.shape(*MONTH)).shape())
    assert len(small.businesses) == 2
    assert {i["business_id"] for i in small.invoices} <= {b["id"] for b in small.businesses}
    assert all("2026-10-01" <= i["issue_date"] <= "2026-10-31" for i in small.invoices)
    large = build_practice(shape=PracticeShape(**LARGE.shape(*MONTH)).shape())
    assert len(large.practitioners) == 20 and len(large.patients) == 4_000
    assert 4_500 <= len(large.invoices) <= 5_500
    assert len({p["id"] for p in large.practitioners}) == 20
    assert PracticeShape().shape() == Shape()  # the config's defaults are the sandbox practice's
