"""JSON request bodies with exact Decimal numbers (the stdlib encoder would need a float)."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from clinic_etl.xero.fields import valid_text

_MARK = "\u0001dec:"
_PLACEHOLDER = re.compile(r'"\\u0001dec:(-?\d+(?:\.\d+)?)"')
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _prepare(value: Any) -> Any:
    if isinstance(value, Decimal):
        return _MARK + format(value, "f")
    if isinstance(value, str):
        return _CONTROL.sub("", valid_text(value))
    if isinstance(value, dict):
        return {k: _prepare(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_prepare(v) for v in value]
    return value


def dumps(payload: Any) -> bytes:
    """Serialise `payload`; Decimals become JSON numbers with exactly their digits; None fields are left out."""
    text = json.dumps(_prepare(payload), ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return _PLACEHOLDER.sub(lambda m: m.group(1), text).encode("utf-8")
