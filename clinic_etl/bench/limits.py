"""The rate limits the simulators enforce, and the lower bound they set on the wall time of a number of calls.

A window opens with the first call after the previous one closed (Xero's model; the bound is the same for a
window aligned to the clock, to within one window), so the first `limit` calls cost no wait: a month's backfill
that fits in one minute's 60 Xero calls has a lower bound of 0 s.
"""

from __future__ import annotations

from dataclasses import dataclass

MINUTE, DAY = 60.0, 86_400.0


@dataclass(frozen=True)
class Limit:
    calls: int
    window_s: float  # real seconds, before any time scale


XERO = (Limit(60, MINUTE), Limit(5_000, DAY))  # per organisation (tenant)
XERO_SMALLEST_TIER_DAY = 1_000  # calls a day on Xero's smallest app tier
CLINIKO = (Limit(200, MINUTE),)  # per API key


def lower_bound(calls: int, limits: tuple[Limit, ...], time_scale: float = 1) -> float:
    """Seconds from the first call to the start of the last that `limits` allow at best (every call instant),
    with each window `time_scale` times shorter than real time."""
    starts = [0.0] * len(limits)
    counts = [0] * len(limits)
    now = 0.0
    lengths = [limit.window_s / time_scale for limit in limits]
    for _ in range(calls):
        while True:
            for i, length in enumerate(lengths):
                if now >= starts[i] + length:  # the window closed: the next call opens a new one
                    starts[i], counts[i] = now, 0
            full = [starts[i] + lengths[i] for i, limit in enumerate(limits) if counts[i] >= limit.calls]
            if not full:
                break
            now = max(full)
        for i in range(len(limits)):
            if counts[i] == 0:
                starts[i] = now
            counts[i] += 1
    return now


def days_of_quota(calls: int, per_day: int = XERO[1].calls) -> int:
    """How many days of Xero's daily quota `calls` take."""
    return -(-calls // per_day)
