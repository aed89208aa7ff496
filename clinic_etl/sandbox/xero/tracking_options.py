"""PUT /TrackingCategories/{TrackingCategoryID}/Options: a new option on a category (SPEC `createTrackingOptions`:
a `TrackingOption` body, `{"Name": ...}`; the answer is `TrackingOptions`, `{"Options": [...]}`). A name is one
to 100 characters and unique in its category (case-insensitive); a category holds at most 100 active options."""

from __future__ import annotations

from .batch import parse_json
from .context import Ctx, new_id
from .serialize import Resp, envelope, not_found, problem, validation_error

MAX_OPTIONS = 100


def create(ctx: Ctx, method: str, category_id: str, raw: bytes) -> Resp:
    if method != "PUT":
        return Resp(405, problem(405, "Method Not Allowed", f"{method} is not supported by the sandbox here"))
    category = next((c for c in ctx.tracking() if c["TrackingCategoryID"] == category_id.lower()), None)
    if category is None:
        return not_found()
    body = parse_json(raw)
    if isinstance(body, Resp):
        return body
    name = body.get("Name") if isinstance(body, dict) else None
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        return Resp(400, validation_error("The name of a tracking option must be between 1 and 100 characters."))
    live = [o for o in category["Options"] if o["Status"] == "ACTIVE"]
    if any(o["Name"].strip().lower() == name.strip().lower() for o in category["Options"]):
        return Resp(400, validation_error(f"A tracking option with the name {name.strip()} already exists."))
    if len(live) >= MAX_OPTIONS:
        return Resp(400, validation_error(f"A tracking category can have at most {MAX_OPTIONS} active options."))
    option = {
        "TrackingOptionID": new_id(),
        "Name": name.strip(),
        "Status": "ACTIVE",
        "HasValidationErrors": False,
        "IsDeleted": False,
        "IsArchived": False,
        "IsActive": True,
    }
    category = {**category, "Options": [*category["Options"], option]}
    category_id = category["TrackingCategoryID"]
    ctx.tx.put("tracking", ctx.tenant, category_id, category, updated_ms=ctx.now_ms, key1=category["Name"].lower())
    return Resp(200, envelope("Options", [{**option, "TrackingCategoryID": category_id}], ctx.now_ms))
