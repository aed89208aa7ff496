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


def validate_rows(
    frame: pd.DataFrame,
    model: type[pa.DataFrameModel],
    source: str,
    entity: str,
    id_column: str = "id",
    private: frozenset[str] = frozenset(),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validate lazily; return (valid rows, rejects). Values of `private` columns never enter a reason."""
    try:
        return model.validate(frame, lazy=True), no_rejects()
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
    reasons: dict[object, list[str]] = {}
    whole_frame: list[str] = []
    for case in cases.itertuples(index=False):
        column = case.column if isinstance(case.column, str) else "frame"
        shown = "<private>" if column in private else repr(case.failure_case)[:60]
        text = f"{column}: {case.check} failed ({shown})"
        if pd.isna(case.index):
            whole_frame.append(text)
        else:
            reasons.setdefault(case.index, []).append(text)
    bad = frame.index if whole_frame else frame.index[frame.index.isin(list(reasons))]
    pairs = []
    for idx in bad:
        source_id = frame.at[idx, id_column] if id_column in frame.columns else idx
        pairs.append((str(source_id), "; ".join(whole_frame + reasons.get(idx, []))))
    valid = frame.drop(index=bad)
    if len(valid) and not whole_frame:
        valid = model.validate(valid, lazy=True)
    return valid, rejects(source, entity, pairs)
