"""Documents' canonical JSON and content hashes: `content_hash` for one document, and the same JSON put together a
column at a time from each field's own JSON for many (the same bytes, so the same hashes: users' state stores hold
them)."""

from __future__ import annotations

import hashlib
import json
import operator
from collections.abc import Iterable, Iterator

from clinic_etl.xero.fitting import _PLAIN_JSON, _only

# json.dumps(document, sort_keys=True, default=str), without building an encoder per document
_CANONICAL = json.JSONEncoder(sort_keys=True, default=str)


def content_hash(document: dict) -> str:
    return hashlib.sha256(_CANONICAL.encode(document).encode()).hexdigest()[:32]


# What _CANONICAL writes for a str (ensure_ascii): a document's JSON is put together from its fields' own JSON.
_ENCODE = json.encoder.encode_basestring_ascii


def _json_texts(values: list) -> list[str]:
    """Each value as `_CANONICAL` writes it inside a document."""
    try:
        return list(map(_ENCODE, values))  # all str (the usual case)
    except TypeError:
        return _json_each(values)


def _json_each(values: list) -> list[str]:
    return [_ENCODE(v) if isinstance(v, str) else "null" if v is None else _CANONICAL.encode(v) for v in values]


def _json_form(values: list) -> tuple[str, list]:
    """How a document's JSON takes a column of values: `"%s"` and the values themselves when each is a str that
    JSON writes as it is, between quotes (printable ASCII but a quote or a backslash: the usual case, checked on
    the values joined), else `%s` and each value's JSON."""
    try:
        joined = "".join(values)
    except TypeError:  # not all str (a missing e-mail)
        return "%s", _json_each(values)
    return ('"%s"', values) if _only(joined, _PLAIN_JSON) else ("%s", _json_texts(values))


def _json_documents(fields: dict[str, list]) -> Iterator[str]:
    """The JSON `_CANONICAL` writes for each document whose fields are `fields` (a list per key, each already JSON
    where `fields` names it with a trailing "[]": the items inside a list)."""
    forms, values = [], []
    for key in sorted(fields, key=lambda k: k.removesuffix("[]")):
        if key.endswith("[]"):
            form, column = "[%s]", fields[key]
        else:
            form, column = _json_form(fields[key])
        forms.append(f"{_ENCODE(key.removesuffix('[]'))}: {form}")
        values.append(column)
    return map(("{" + ", ".join(forms) + "}").__mod__, zip(*values, strict=True))


_DIGEST, _FIRST_HALF = operator.methodcaller("digest"), operator.itemgetter(slice(16))


def _hashes(documents: Iterable[str]) -> list[str]:
    """`content_hash` of each document given as its JSON (what `_CANONICAL` writes), in C calls only."""
    return list(map(bytes.hex, map(_FIRST_HALF, map(_DIGEST, map(hashlib.sha256, map(str.encode, documents))))))
