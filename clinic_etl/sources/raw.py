"""Raw frames, as every source extracts them: each value as text (or None), never a structure."""

from __future__ import annotations

OBJECT = "<object>"  # where the API served an object or a list instead of a scalar: every check refuses these
LIST = "<list>"


def scalar_text(value: object) -> str | None:
    """A JSON scalar as text: strings as served, numbers by their shortest round-trip text (the JSON number 81.8
    becomes "81.8", never 81.79999...), booleans "True"/"False". An object or a list becomes a marker that every
    check refuses (its content, maybe personal, is never kept)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict):
        return OBJECT
    if isinstance(value, list | tuple):
        return LIST
    return str(value)
