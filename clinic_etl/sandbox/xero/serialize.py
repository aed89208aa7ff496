"""Xero's wire formats: Microsoft JSON dates, fixed-decimal money, response envelopes, error bodies."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

ZERO_GUID = "00000000-0000-0000-0000-000000000000"
PROVIDER_NAME = "clinic_etl sandbox"
_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")


# ---- numbers ------------------------------------------------------------------------------------
def dec(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def q(value: Any, places: int = 2) -> Decimal:
    """Round half away from zero, as Xero does (2.165 -> 2.17, -2.165 -> -2.17)."""
    return dec(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def money(value: Any) -> Decimal:
    return q(value if value is not None else 0, 2)


# ---- dates --------------------------------------------------------------------------------------
def parse_date(value: Any) -> date:
    """Accept ``YYYY-MM-DD``, ISO date-times (date part kept) and ``/Date(ms+0000)/``."""
    if not isinstance(value, str):
        raise ValueError(f"String '{value}' was not recognized as a valid DateTime.")
    text = value.strip()
    ms = _MS_DATE.match(text)
    if ms:
        return datetime.fromtimestamp(int(ms.group(1)) / 1000, UTC).date()
    iso = _ISO_DATE.match(text)
    if iso:
        try:
            return date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        except ValueError:
            pass
    raise ValueError(f"String '{value}' was not recognized as a valid DateTime.")


def parse_datetime(value: str) -> datetime:
    """Parse a timestamp given in a header or a where clause (naive values are UTC)."""
    text = value.strip()
    ms = _MS_DATE.match(text)
    if ms:
        return datetime.fromtimestamp(int(ms.group(1)) / 1000, UTC)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        from email.utils import parsedate_to_datetime

        parsed = parsedate_to_datetime(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def date_ms(value: str | date) -> int:
    d = date.fromisoformat(value) if isinstance(value, str) else value
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp() * 1000)


def ms_date(value: str | date | None) -> str | None:
    """``2019-03-11`` -> ``/Date(1552262400000+0000)/``."""
    return None if value is None else f"/Date({date_ms(value)}+0000)/"


def ms_datetime(ms: int) -> str:
    return f"/Date({ms}+0000)/"


def date_string(value: str | None) -> str | None:
    return None if value is None else f"{value}T00:00:00"


def utc_string(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def ms_to_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def parse_ms_value(value: Any) -> datetime | None:
    """A ``/Date(...)/`` string in an output document as a datetime, else None."""
    if isinstance(value, str):
        match = _MS_DATE.match(value)
        if match:
            return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC)
    return None


# ---- JSON ---------------------------------------------------------------------------------------
def dumps(obj: Any) -> str:
    """JSON with Decimals written verbatim, so money keeps its fixed places (``40.00``)."""
    if isinstance(obj, Decimal):
        return format(obj, "f")
    if isinstance(obj, dict):
        return "{" + ",".join(json.dumps(str(k)) + ":" + dumps(v) for k, v in obj.items()) + "}"
    if isinstance(obj, list | tuple):
        return "[" + ",".join(dumps(v) for v in obj) + "]"
    return json.dumps(obj, ensure_ascii=False)


def _no_constant(name: str) -> Any:
    raise ValueError(f"Unexpected value {name}")


def loads(raw: bytes | str) -> Any:
    """JSON with numbers as Decimal (never float); NaN and Infinity are refused."""
    return json.loads(raw, parse_float=Decimal, parse_constant=_no_constant)


def envelope(plural: str, items: list[dict[str, Any]], now_ms: int, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Id": str(uuid.uuid4()),
        "Status": "OK",
        "ProviderName": PROVIDER_NAME,
        "DateTimeUTC": f"/Date({now_ms})/",
    }
    body.update(extra)
    body[plural] = items
    return body


def problem(status: int, title: str, detail: str) -> dict[str, Any]:
    """The RFC-7807-like body Xero's gateway uses for 401/403/404/429/5xx."""
    return {
        "Type": None,
        "Title": title,
        "Status": status,
        "Detail": detail,
        "Instance": str(uuid.uuid4()),
        "Extensions": {},
    }


def not_found() -> Resp:
    return Resp(404, problem(404, "NotFound", "The resource you're looking for cannot be found"))


def validation_error(message: str, elements: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"ErrorNumber": 10, "Type": "ValidationException", "Message": message, "Elements": elements or []}


def post_data_invalid(message: str) -> dict[str, Any]:
    return {"ErrorNumber": 14, "Type": "PostDataInvalidException", "Message": message}


class Resp:
    """A finished HTTP answer: status, JSON-able body (or raw bytes) and extra headers."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.body = body
        self.headers = dict(headers or {})

    def payload(self) -> bytes:
        return self.body if isinstance(self.body, bytes) else dumps(self.body).encode("utf-8")
