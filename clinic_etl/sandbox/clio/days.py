"""The synthetic firm's calendar: the six-week window of working days and moments in New York time.

US daylight saving ends on Sunday 1 Nov 2026 (UTC-4 -> UTC-5) inside the window, so a late-evening moment
(after 20:00 EDT / 19:00 EST) falls on the next UTC date.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from clinic_etl.sandbox.clio.wire import ZONE

# First and last issue date of the synthetic bills: six weeks of working days (Mon-Fri).
SANDBOX_WINDOW: tuple[date, date] = (date(2026, 9, 28), date(2026, 11, 6))


def working_days(window: tuple[date, date] = SANDBOX_WINDOW) -> list[date]:
    first, last = window
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return [day for day in days if day.weekday() < 5]


def local(day: date, seconds: int) -> datetime:
    """`seconds` after local midnight of `day` in New York (wall-clock, DST-aware)."""
    return datetime.combine(day, time(0), tzinfo=ZONE) + timedelta(seconds=seconds)


def office_moment(rng: random.Random, day: date, start_hour: int = 9, end_hour: int = 18) -> datetime:
    return local(day, rng.randint(start_hour * 3600, end_hour * 3600 - 1))


def evening_moment(rng: random.Random, day: date) -> datetime:
    """Between 21:05 and 23:55 New York time: already the next day in UTC."""
    return local(day, rng.randint(21 * 3600 + 300, 23 * 3600 + 3300))


def later_working_day(rng: random.Random, day: date, low: int, high: int, last: date | None = None) -> date:
    """A working day `low`..`high` working days after `day`, capped at `last` (default: the window's end)."""
    cap = last or SANDBOX_WINDOW[1]
    following = working_days((day + timedelta(days=1), cap))
    if not following:
        return day
    steps = rng.randint(low, high)
    return following[min(steps, len(following)) - 1]
