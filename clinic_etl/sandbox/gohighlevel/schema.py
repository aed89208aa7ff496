"""Request bodies checked against GoHighLevel's own component schemas (`openapi-contacts.json`, CC0: see NOTICE).

OpenAPI 3.0's `nullable` is turned into JSON Schema's `null` type before validation. Violations are answered the way
GHL's NestJS validation answers (FACTS §8: 422 `UnprocessableDTO`, `message` an array of strings); the texts
("email must be an email", "property x should not exist") follow class-validator's wording, and refusing a property
the schema does not list is this simulator's choice: both unverified against GHL itself.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from importlib import resources
from typing import Any

from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

URN = "urn:gohighlevel-contacts"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _nullable(node: Any) -> Any:
    if isinstance(node, dict):
        node = {k: _nullable(v) for k, v in node.items()}
        if node.pop("nullable", False) and isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
        return node
    if isinstance(node, list):
        return [_nullable(v) for v in node]
    return node


@functools.cache
def document() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("openapi-contacts.json").read_text(encoding="utf-8")
    return _nullable(json.loads(text))


@functools.cache
def validator(name: str) -> Draft7Validator:
    registry = Registry().with_resource(URN, Resource(contents=document(), specification=DRAFT7))
    return Draft7Validator({"$ref": f"{URN}#/components/schemas/{name}"}, registry=registry)


def properties(name: str) -> dict[str, Any]:
    return copy.deepcopy(document()["components"]["schemas"][name].get("properties", {}))


def problems(name: str, body: Any) -> list[str]:
    """What is wrong with `body` as schema `name` (empty: nothing)."""
    if not isinstance(body, dict):
        return ["body must be an object"]
    out = [f"property {key} should not exist" for key in body if key not in properties(name)]
    for error in sorted(validator(name).iter_errors(body), key=lambda e: list(e.path)):
        where = ".".join(str(p) for p in error.path) or "body"
        if error.validator == "type":
            wanted = error.validator_value if isinstance(error.validator_value, str) else error.validator_value[0]
            out.append(f"{where} must be a {wanted}")
        elif error.validator == "required":
            out.append(str(error.message).replace("'", "").replace(" is a required property", " should not be empty"))
        elif error.validator == "enum":
            out.append(f"{where} must be one of the following values: {', '.join(map(str, error.validator_value))}")
        else:
            out.append(f"{where} is invalid")
    email = body.get("email")
    if isinstance(email, str) and email and not _EMAIL.match(email):
        out.append("email must be an email")
    return out
