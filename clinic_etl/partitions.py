"""Daily partitions in the practice's own time zone, shared by every asset of the sync graph."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from clinic_etl.settings import Settings

_settings = Settings.from_env()

daily_partitions = dg.DailyPartitionsDefinition(start_date=_settings.start_date, timezone=_settings.timezone)


def day_bounds_utc(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants [start, end) of one local calendar day (23 or 25 hours long across DST)."""
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))
