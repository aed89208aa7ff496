"""Request-body validation against Xero's official component schemas (extracted into schema.json).

Validators are compiled once per process (jsonschema Draft 7 + referencing + FormatChecker). Before
validation a body is normalised the way Xero's .NET deserialiser reads it: property names match
case-insensitively and ``null`` means "not given". Violations are reported the way Xero does:

* type, enum and format errors are deserialisation failures: the whole request is refused with HTTP 400
  ``PostDataInvalidException`` (ErrorNumber 14) naming the JSON path;
* length, range and required-property errors are validation errors of the element they occur in
  (``ValidationException``), so they take part in summarizeErrors like business rules do.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from jsonschema import Draft7Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from .serialize import Resp, post_data_invalid, validation_error

URN = "urn:xero-accounting"
_DESERIALISE = {"type", "enum", "format", "const"}
_TYPE_NAMES = {
    "number": "System.Decimal",
    "string": "System.String",
    "integer": "System.Int32",
    "boolean": "System.Boolean",
    "array": "System.Collections.Generic.List",
    "object": "Object",
}


@functools.cache
def document() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("schema.json").read_text(encoding="utf-8")
    return json.loads(text)


@functools.cache
def validator(name: str) -> Draft7Validator:
    registry = Registry().with_resource(URN, Resource(contents=document(), specification=DRAFT7))
    return Draft7Validator(
        {"$ref": f"{URN}#/components/schemas/{name}"}, registry=registry, format_checker=FormatChecker()
    )


def _deref(schema: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while "$ref" in schema and seen < 20:
        schema = document()["components"]["schemas"].get(schema["$ref"].rsplit("/", 1)[-1], {})
        seen += 1
    return schema


@functools.cache
def _property_lookup(name: str) -> dict[str, str]:
    props = _deref({"$ref": f"#/components/schemas/{name}"}).get("properties", {})
    return {key.lower(): key for key in props}


def canonicalize(value: Any, schema: dict[str, Any]) -> Any:
    """Drop null members; give property names the schema's spelling (Xero reads them case-insensitively)."""
    ref = schema.get("$ref")
    schema = _deref(schema)
    if isinstance(value, dict):
        props = schema.get("properties", {})
        lookup = _property_lookup(ref.rsplit("/", 1)[-1]) if ref else {k.lower(): k for k in props}
        out: dict[str, Any] = {}
        for key, item in value.items():
            if item is None:
                continue
            name = key if key in props else lookup.get(key.lower(), key)
            out[name] = canonicalize(item, props.get(name, {}))
        return out
    if isinstance(value, list):
        items = schema.get("items", {})
        return [canonicalize(item, items) for item in value]
    return value


def normalise(body: Any, name: str) -> Any:
    return canonicalize(body, {"$ref": f"#/components/schemas/{name}"})


def _json_path(path: list[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _message(error: Any, rel_path: list[Any]) -> str:
    label = _json_path(rel_path) or "The request"
    kind, limit = error.validator, error.validator_value
    if kind == "maxLength":
        return f"{label} must not be more than {limit} characters long."
    if kind == "minLength":
        return f"{label} must be at least {limit} characters long."
    if kind == "maximum":
        return f"{label} must be less than or equal to {limit}."
    if kind == "minimum":
        return f"{label} must be greater than or equal to {limit}."
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"{_json_path([*rel_path, missing])} is required."
    return f"{label}: {error.message}"


def check(body: Any, name: str, plural: str | None) -> tuple[Resp | None, dict[int, list[str]]]:
    """Validate ``body`` against ``#/components/schemas/<name>``.

    Returns a request-level 400 answer (or None) and, for wrapper schemas, validation messages per
    element index of ``body[plural]``.
    """
    errors = sorted(validator(name).iter_errors(body), key=lambda e: list(e.absolute_path).__repr__())
    per_element: dict[int, list[str]] = {}
    request_level: list[str] = []
    for error in errors:
        path = list(error.absolute_path)
        if error.validator in _DESERIALISE:
            value = json.dumps(error.instance, default=str)
            if error.validator == "type":
                target = _TYPE_NAMES.get(str(error.validator_value), str(error.validator_value))
            elif error.validator == "format":
                target = "System.Guid" if error.validator_value == "uuid" else str(error.validator_value)
            else:
                target = str(path[-1]) if path else name
            where = _json_path(path) or name
            return Resp(
                400, post_data_invalid(f"Error converting value {value} to type '{target}'. Path '{where}'.")
            ), {}
        if plural is not None and len(path) >= 2 and path[0] == plural and isinstance(path[1], int):
            per_element.setdefault(path[1], []).append(_message(error, path[2:]))
        else:
            request_level.append(_message(error, path))
    if request_level:
        element = {"ValidationErrors": [{"Message": m} for m in request_level]}
        return Resp(400, validation_error("A validation exception occurred", [element])), {}
    return None, per_element
