"""A stored row as the API shows it: only the requested fields, in the requested order, nested records
resolved, money as JSON numbers. Internal keys (`_...`) and relation ids not asked for never appear."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clinic_etl.sandbox.clio.fields import Selection
from clinic_etl.sandbox.clio.relations import field_value, resolve
from clinic_etl.sandbox.clio.schema import default_fields, relations_of
from clinic_etl.sandbox.clio.wire import jsonable

if TYPE_CHECKING:
    from clinic_etl.sandbox.clio.firm import Firm


def render(kind: str, row: dict[str, Any], selection: Selection, firm: Firm) -> dict[str, Any]:
    return jsonable(_render(kind, row, selection.names, selection.nested, firm))


def _render(
    kind: str, row: dict[str, Any], names: tuple[str, ...], nested: dict[str, tuple[str, ...] | None], firm: Firm
) -> dict[str, Any]:
    relations = relations_of(kind)
    out: dict[str, Any] = {}
    for name in names:
        if name not in relations:
            out[name] = field_value(kind, name, row, firm)
            continue
        target, many = relations[name]["type"], relations[name]["many"]
        inner = nested.get(name) or tuple(default_fields(target))
        value = resolve(kind, name, row, firm, many)
        if many:
            out[name] = [_render(target, item, inner, {}, firm) for item in value]
        else:
            out[name] = None if value is None else _render(target, value, inner, {}, firm)
    return out
