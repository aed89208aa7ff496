"""The fields each Clio record type offers, read from `schema.json`.

`schema.json` was extracted from the Clio Manage v4 OpenAPI (`openapi.json`, components.schemas) for the
types the simulator serves and those nested in them (two levels): `fields` are the properties of the type's
`X_base` schema, `relations` the nested records `X` adds on top (`{"type": T, "many": bool}`). Requesting a
name outside these is a 400, as on Clio.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

_PATH = Path(__file__).with_name("schema.json")


@cache
def _types() -> dict[str, Any]:
    return json.loads(_PATH.read_text(encoding="utf-8"))["types"]


def fields_of(kind: str) -> list[str]:
    return list(_types().get(kind, {}).get("fields", []))


def relations_of(kind: str) -> dict[str, dict[str, Any]]:
    return dict(_types().get(kind, {}).get("relations", {}))


def known(kind: str) -> bool:
    return kind in _types()


def default_fields(kind: str) -> list[str]:
    """What a record shows without `fields`: `id` and `etag` where the type has them; a value object without
    either (Discount, Interest, LineItemTotals) shows all its fields (unverified)."""
    names = fields_of(kind)
    minimal = [name for name in ("id", "etag") if name in names]
    return minimal or names
