"""PUT/POST of many elements with Xero's summarizeErrors semantics (FACTS §6).

Every element is checked on its own inside a savepoint, so valid elements are saved even when others
fail. ``summarizeErrors=false``: HTTP 200 with every element, each carrying ``StatusAttributeString``
OK/ERROR, ``ValidationErrors`` and ``HasErrors``/``HasValidationErrors``. Absent or true (the live
default): any failure gives HTTP 400 ``ValidationException`` listing only the failed elements, and the
valid ones are still created (their IDs are not in that answer).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import InvalidOperation
from typing import Any

from . import schema
from .context import Ctx
from .serialize import ZERO_GUID, Resp, envelope, loads, post_data_invalid, validation_error

MAX_BODY_BYTES = 3_500_000
Process = Callable[[Ctx, dict[str, Any], list[str]], dict[str, Any] | None]


def parse_json(raw: bytes) -> Any:
    """The request body, or a Resp describing why it cannot be read."""
    if len(raw) > MAX_BODY_BYTES:
        return Resp(
            413,
            {
                "ErrorNumber": 413,
                "Type": "RequestEntityTooLarge",
                "Message": "The request body exceeds the 3.5 MB limit.",
            },
        )
    if not raw.strip():
        return Resp(400, post_data_invalid("No data has been provided. The request body is empty."))
    try:
        return loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        return Resp(400, post_data_invalid(f"JSON for post data was invalid,{exc}"))


def wrap_single(body: Any, plural: str) -> Any:
    """Xero also accepts one bare element instead of ``{"<Plural>": [...]}``."""
    if isinstance(body, dict) and body and not any(key.lower() == plural.lower() for key in body):
        return {plural: [body]}
    return body


def run(
    ctx: Ctx,
    raw: bytes,
    *,
    plural: str,
    wrapper_schema: str,
    id_key: str | None,
    has_errors_key: str | None,
    process: Process,
) -> Resp:
    body = parse_json(raw)
    if isinstance(body, Resp):
        return body
    body = schema.normalise(wrap_single(body, plural), wrapper_schema)
    request_error, element_errors = schema.check(body, wrapper_schema, plural)
    if request_error is not None:
        return request_error
    if not isinstance(body, dict):
        return Resp(400, post_data_invalid(f"JSON for post data was invalid, expected an object with {plural}."))
    results: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    for index, element in enumerate(body.get(plural) or []):
        errors = list(element_errors.get(index, []))
        ctx.tx.conn.execute("SAVEPOINT element")
        try:
            out = process(ctx, element, errors) if not errors else None
        except (InvalidOperation, OverflowError):
            out = None
            errors.append("A number in this element is too large or has too many decimal places.")
        ctx.clear_cache()
        if errors or out is None:
            ctx.tx.conn.execute("ROLLBACK TO element")
            ctx.tx.conn.execute("RELEASE element")
            echo = dict(element)
            if id_key:
                echo.setdefault(id_key, ZERO_GUID)
            if has_errors_key:
                echo[has_errors_key] = True
            echo["StatusAttributeString"] = "ERROR"
            echo["ValidationErrors"] = [{"Message": message} for message in errors or ["Unknown error."]]
            results.append(echo)
            failed.append(echo)
        else:
            ctx.tx.conn.execute("RELEASE element")
            out["StatusAttributeString"] = "OK"
            if has_errors_key:
                out[has_errors_key] = False
            results.append(out)
    if failed and ctx.summarize:
        return Resp(400, validation_error("A validation exception occurred", failed))
    return Resp(200, envelope(plural, results, ctx.now_ms))


def single(ctx: Ctx, raw: bytes, schema_name: str) -> dict[str, Any] | Resp:
    """A body that is one object (e.g. PaymentDelete): parsed, normalised and schema-checked."""
    body = parse_json(raw)
    if isinstance(body, Resp):
        return body
    body = schema.normalise(body, schema_name)
    request_error, _ = schema.check(body, schema_name, None)
    if request_error is not None:
        return request_error
    if not isinstance(body, dict):
        return Resp(400, post_data_invalid("JSON for post data was invalid, expected an object."))
    return body
