"""Daily partitions in the practice's own time zone, and the window of days one run syncs.

Every asset of the sync graph shares one `DailyPartitionsDefinition` built from the settings (never at import
time). A run covers a window of consecutive days: one day for a daily run, a month for a single-run backfill.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from clinic_etl.settings import Settings


def daily_partitions(settings: Settings) -> dg.DailyPartitionsDefinition:
    return dg.DailyPartitionsDefinition(start_date=settings.start_date.isoformat(), timezone=settings.timezone)


@dataclass(frozen=True)
class SyncWindow:
    """The local calendar days [first, last] of one run, in the practice's zone."""

    first: date
    last: date
    zone: ZoneInfo

    @classmethod
    def of(cls, context: dg.AssetExecutionContext) -> SyncWindow:
        window = context.partition_time_window
        zone = window.start.tzinfo
        if not isinstance(zone, ZoneInfo):
            zone = ZoneInfo(context.assets_def.partitions_def.timezone)  # type: ignore[union-attr]
        return cls(window.start.date(), (window.end - timedelta(days=1)).date(), zone)

    @property
    def days(self) -> list[str]:
        return [(self.first + timedelta(n)).isoformat() for n in range((self.last - self.first).days + 1)]

    def bounds_utc(self) -> tuple[datetime, datetime]:
        """The UTC instants [start, end) of the window (a local day is 23 or 25 hours long across DST)."""
        start = datetime.combine(self.first, time.min, tzinfo=self.zone)
        end = datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=self.zone)
        return start.astimezone(UTC), end.astimezone(UTC)

    def local_date(self, instant: str) -> str:
        """An ISO instant ("2026-10-14T03:00:00Z") -> the practice's local date."""
        return datetime.fromisoformat(instant.replace("Z", "+00:00")).astimezone(self.zone).date().isoformat()

    def clamp(self, day: str) -> str:
        """A day outside the window -> the nearest day in it."""
        return min(max(day, self.first.isoformat()), self.last.isoformat())
