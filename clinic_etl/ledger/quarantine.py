"""Split a frame into valid rows and rejects (with a reason each) using pandera's lazy validation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd
import pandera.pandas as pa

REJECT_COLUMNS = ["source", "entity", "source_id", "day", "reason"]


def no_rejects() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in REJECT_COLUMNS})


def rejects(source: str, entity: str, pairs: Iterable[tuple[str, str]], day: str | None = None) -> pd.DataFrame:
    """Rejected records of one source and entity, each with its reason; `day` is the partition it belongs to
    (filled later by `placed` where the caller cannot tell)."""
    rows = [{"source": source, "entity": entity, "source_id": str(i), "day": day, "reason": r} for i, r in pairs]
    return pd.DataFrame(rows, columns=REJECT_COLUMNS) if rows else no_rejects()


def placed(rejected: pd.DataFrame, days: Mapping[str, Mapping[str, str]], default: str) -> pd.DataFrame:
    """Give every reject without a day the day of its record (`days`: entity -> source id -> day), else
    `default` (the window's first day)."""
    out = rejected.copy()
    known = [days.get(e, {}).get(i) or None for e, i in zip(out["entity"], out["source_id"], strict=True)]
    out["day"] = out["day"].where(out["day"].notna(), pd.Series(known, index=out.index, dtype=object))
    out["day"] = out["day"].fillna(default)
    return out


MAX_SOURCE_ID = 64  # the quarantine table's key column holds 255 characters; a corrupted id can be longer
_PHRASES = {
    "not_nullable": "is missing",
    "field_uniqueness": "is listed more than once",
}


def _blank(value: object) -> bool:
    return value is None or value == "" or (isinstance(value, float) and value != value)


def source_id_of(value: object, position: int) -> str:
    """The id a reject is filed under: the record's id as printable ASCII (control characters and lone
    surrogates escaped, so any database can store it), at most `MAX_SOURCE_ID` characters; `position N` (1-based,
    in the order the source listed the records) when the record has no id."""
    if _blank(value):
        return f"position {position}"
    text = value if isinstance(value, str) else str(value)
    safe = text if text.isascii() and text.isprintable() else text.encode("unicode_escape").decode("ascii")
    return safe if len(safe) <= MAX_SOURCE_ID else safe[: MAX_SOURCE_ID - 3] + "..."


def record_name(entity: str, value: object, position: int) -> str:
    """How a reason names its record: `invoice item 60479`, or `invoice without id at position 3`."""
    label = entity.replace("_", " ")
    if _blank(value):
        return f"{label} without id at position {position}"
    return f"{label} {source_id_of(value, position)}"


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _failure(column: object, check: object, value: object, private: frozenset[str]) -> str:
    """One broken rule in words: `issue_date is not a real date (...) ('2026-13-45')`; never a private value."""
    check = str(check)
    if check == "column_in_dataframe":
        return f"column {value!r} is not in the extract"
    name = column if isinstance(column, str) else "frame"
    phrase = _PHRASES.get(check) or ("is not text" if check.startswith("dtype(") else check)
    if check == "not_nullable" or name in private:
        return f"{name} {phrase}"
    return f"{name} {phrase} ({_shown(value)})"


def _clashes(frame: pd.DataFrame, id_column: str, names: Mapping[object, str]) -> tuple[pd.DataFrame, dict]:
    """Drop rows repeated exactly (a record read twice is one record); an id listed twice with different content
    cannot be told apart, so each such id is rejected once (under its first row) with every row of it dropped."""
    if id_column not in frame.columns or frame.empty:
        return frame, {}
    has_id = ~frame[id_column].map(_blank)
    frame = frame[~(frame.map(repr).duplicated(keep="first") & has_id)]
    ids = frame.loc[~frame[id_column].map(_blank), id_column].map(repr)
    repeated = ids[ids.duplicated(keep=False)]
    reasons = {}
    for _, group in repeated.groupby(repeated, sort=False):
        rows = frame.loc[group.index]
        differing = [c for c in frame.columns if rows[c].map(repr).nunique() > 1]
        reasons[group.index[0]] = (
            f"{names[group.index[0]]}: listed {len(group)} times with different content"
            f" (differing: {', '.join(map(str, differing))})"
        )
    return frame.drop(index=repeated.index), reasons


def validate_rows(
    frame: pd.DataFrame,
    model: type[pa.DataFrameModel],
    source: str,
    entity: str,
    id_column: str = "id",
    private: frozenset[str] = frozenset(),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validate lazily; return (valid rows, rejects). Each reason names its record (`invoice 108: ...`, or
    `invoice without id at position 3: ...`) and every rule it breaks; values of `private` columns never enter
    a reason. The frame's index is reset (positions are 1-based row numbers)."""
    frame = frame.reset_index(drop=True)
    ids = frame[id_column] if id_column in frame.columns else pd.Series([None] * len(frame), dtype=object)
    names = {idx: record_name(entity, ids[idx], idx + 1) for idx in frame.index}
    source_ids = {idx: source_id_of(ids[idx], idx + 1) for idx in frame.index}
    frame, clashes = _clashes(frame, id_column, names)
    try:
        model.validate(frame, lazy=True)
        cases = None
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
    reasons: dict[object, list[str]] = {}
    whole_frame: list[str] = []
    for case in () if cases is None else cases.itertuples(index=False):
        text = _failure(case.column, case.check, case.failure_case, private)
        if pd.isna(case.index):
            whole_frame.append(text)
        elif text not in reasons.setdefault(case.index, []):
            reasons[case.index].append(text)
    bad = list(frame.index) if whole_frame else [idx for idx in frame.index if idx in reasons]
    pairs = [(source_ids[idx], f"{names[idx]}: {'; '.join(whole_frame + reasons.get(idx, []))}") for idx in bad]
    pairs += [(source_ids[idx], reason) for idx, reason in clashes.items()]
    return frame.drop(index=bad), rejects(source, entity, pairs)
