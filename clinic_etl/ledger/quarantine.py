"""Split a frame into valid rows and rejects (with a reason each) using pandera's lazy validation."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import pandera.pandas as pa

REJECT_COLUMNS = ["entity", "source_id", "reason"]


def no_rejects() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=str) for c in REJECT_COLUMNS})


def rejects(entity: str, pairs: Iterable[tuple[str, str]]) -> pd.DataFrame:
    rows = [{"entity": entity, "source_id": str(i), "reason": r} for i, r in pairs]
    return pd.DataFrame(rows, columns=REJECT_COLUMNS) if rows else no_rejects()


def validate_rows(
    frame: pd.DataFrame,
    model: type[pa.DataFrameModel],
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
    return valid, rejects(entity, pairs)
