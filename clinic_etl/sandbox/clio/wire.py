"""Clio's wire formats: money as JSON numbers, timestamps with the firm's UTC offset, dates, ETags.

Rows in the Firm keep money as `Decimal` (cents) and date-times as ISO-8601 strings with the firm's offset
(`2026-10-14T21:47:10-04:00`), as the API shows them; the renderer turns `Decimal` into a JSON number.
Choices where the reference is silent (unverified): date-times carry the firm's (user's) UTC offset rather
than `Z`; an ETag is a quoted hex digest of the record's content, the same string in the `etag` field and
in the `ETag` header.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from email.utils import format_datetime
from typing import Any
from zoneinfo import ZoneInfo

TIME_ZONE = "America/New_York"
ZONE = ZoneInfo(TIME_ZONE)
CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def cents(value: Decimal | int | str) -> Decimal:
    """Round half-up to the cent."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def stamp(moment: datetime) -> str:
    """An aware datetime as Clio shows it: seconds precision, the firm's offset."""
    return moment.astimezone(ZONE).replace(microsecond=0).isoformat()


def parse_stamp(text: str) -> datetime:
    """An ISO-8601 date-time (offset or `Z`; naive means UTC) as an aware datetime."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def local_date(text: str) -> date:
    """The firm's calendar date of a stored timestamp."""
    return parse_stamp(text).astimezone(ZONE).date()


def http_date(text: str) -> str:
    return format_datetime(parse_stamp(text).astimezone(UTC), usegmt=True)


def jsonable(value: Any) -> Any:
    """Decimal -> JSON number (float), recursively; everything else unchanged."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [jsonable(item) for item in value]
    return value


def etag(record: dict[str, Any]) -> str:
    """A strong ETag over the record's stored content (so it changes whenever the record does)."""
    content = json.dumps(record, sort_keys=True, default=str, ensure_ascii=False)
    return '"' + hashlib.md5(content.encode("utf-8"), usedforsecurity=False).hexdigest() + '"'
