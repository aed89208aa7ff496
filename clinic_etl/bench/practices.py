"""The practices and periods `clinic-etl bench` measures, as shapes of the synthetic practice.

The 2-site clinic is the sandbox practice on its first two sites (15-40 invoices a working day, about 600 a
month); the large clinic has 20 practitioners and about 5,000 invoices a month. Their data covers the measured
period only (a year for the year's run), so every extract reads what a real practice of that size would hold.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta

MONTH = (date(2026, 10, 1), date(2026, 10, 31))  # inside the sandbox practice's own window
QUICK_DAYS = (date(2026, 10, 12), date(2026, 10, 14))  # a Monday to Wednesday: --quick
YEAR = (date(2025, 11, 1), date(2026, 10, 31))
QUICK_YEAR = (date(2026, 9, 28), date(2026, 10, 2))  # --quick: two "months" of a few days (the runs are cut there)


@dataclass(frozen=True)
class Clinic:
    key: str
    label: str
    sites: int = 2
    practitioners: int = 6
    invoices_per_day: tuple[int, int] = (15, 40)
    patients: int = 320

    def shape(self, first: date, last: date) -> dict[str, object]:
        """The `PracticeShape` config of this clinic over [first, last] (JSON-friendly, for a subprocess)."""
        fields = asdict(self)
        del fields["key"], fields["label"]
        return {"first_day": first.isoformat(), "last_day": last.isoformat(), **fields}


SMALL = Clinic("small", "2-site clinic (6 practitioners)")
LARGE = Clinic("large", "large clinic (20 practitioners)", sites=3, practitioners=20, invoices_per_day=(210, 270),
               patients=4_000)  # fmt: skip
QUICK_LARGE = replace(LARGE, invoices_per_day=(60, 80), patients=1_000)  # --quick: a smaller "large" clinic


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(n) for n in range((last - first).days + 1)]


def months(first: date, last: date) -> list[tuple[date, date]]:
    """[first, last] cut at month ends."""
    out: list[tuple[date, date]] = []
    for day in days(first, last):
        if not out or day.month != out[-1][0].month:
            out.append((day, day))
        else:
            out[-1] = (out[-1][0], day)
    return out
