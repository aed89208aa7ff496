"""The `fields` query parameter: `id,etag,client{id,name},matters{id,display_number}` (FACTS §3).

Without it a record shows only `id` and `etag`. Nested records take a brace list of their own fields; a
nested record's own relations may be named (they come back with their default fields) but not given a brace
list of their own (a second-level nested request is a 400), and any name the type does not have is a 400.
"""

from __future__ import annotations

from dataclasses import dataclass

from clinic_etl.sandbox.clio.errors import bad_request
from clinic_etl.sandbox.clio.schema import default_fields, fields_of, relations_of


@dataclass(frozen=True)
class Selection:
    """Requested names in order; `nested[name]` is the brace list given for a relation (None: defaults)."""

    names: tuple[str, ...]
    nested: dict[str, tuple[str, ...] | None]


def _split(text: str) -> list[tuple[str, str | None]]:
    """Top-level comma split honouring braces: `a,b{c,d}` -> [("a", None), ("b", "c,d")]."""
    parts: list[tuple[str, str | None]] = []
    depth, start = 0, 0
    for index, char in enumerate(text + ","):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                raise bad_request(f"Invalid fields parameter: unbalanced braces in '{text}'.")
        elif char == "," and depth == 0:
            parts.append(_item(text[start:index].strip(), text))
            start = index + 1
    if depth != 0:
        raise bad_request(f"Invalid fields parameter: unbalanced braces in '{text}'.")
    return parts


def _item(item: str, text: str) -> tuple[str, str | None]:
    if not item:
        raise bad_request(f"Invalid fields parameter '{text}': empty field name.")
    if "{" not in item:
        return item, None
    if not item.endswith("}"):
        raise bad_request(f"Invalid fields parameter '{text}'.")
    name, _, inner = item[:-1].partition("{")
    return name.strip(), inner


def parse(text: str | None, kind: str) -> Selection:
    if text is None or not text.strip():
        names = tuple(default_fields(kind))
        return Selection(names, {})
    own, relations = set(fields_of(kind)), relations_of(kind)
    names: list[str] = []
    nested: dict[str, tuple[str, ...] | None] = {}
    for name, inner in _split(text.strip()):
        if name not in own and name not in relations:
            raise bad_request(f"Invalid field(s) requested: {name}")
        if inner is not None:
            if name not in relations:
                raise bad_request(f"Invalid fields parameter: {name} is not a nested resource.")
            nested[name] = _nested(relations[name]["type"], inner, name)
        elif name in relations:
            nested.setdefault(name, None)
        if name not in names:
            names.append(name)
    return Selection(tuple(names), nested)


def _nested(kind: str, inner: str, parent: str) -> tuple[str, ...]:
    allowed = set(fields_of(kind)) | set(relations_of(kind))
    names: list[str] = []
    for name, deeper in _split(inner.strip()) if inner.strip() else []:
        if deeper is not None:
            raise bad_request(f"Invalid fields parameter: {parent}{{{name}{{...}}}} requests a second-level "
                              "nested resource's fields.")  # fmt: skip
        if name not in allowed:
            raise bad_request(f"Invalid field(s) requested: {parent}{{{name}}}")
        if name not in names:
            names.append(name)
    return tuple(names) if names else tuple(default_fields(kind))
