"""One object per distinct value in a ledger frame's columns of Decimals and of text.

A source builds its ledger from parsed JSON, so every row carries its own objects: a million lines hold six million
Decimals (about 100 bytes each) and millions of strings, most of them repeats (a clinic has a few dozen prices, tax
rates and dates a month). Sharing one object per distinct value, as written (a Decimal's `str`, which tells 90.0
from 90.00 and -0 from 0), keeps each value exactly as the source wrote it and takes most of that memory off: both
kinds are immutable, so nothing downstream can tell the difference.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clinic_etl.ledger.money import first_positions

_SHAREABLE = {"decimal", "string"}  # pandas' inferred kinds of a column compacted (mixed columns are left alone)


def compact(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` (changed in place, and returned) with one object per distinct value in each column that holds only
    Decimals or only text (missing values aside) and repeats a value."""
    for column in frame.columns:
        values = frame[column].to_numpy()
        if values.dtype != object or len(values) < 2:
            continue
        kind = pd.api.types.infer_dtype(values, skipna=True)
        if kind not in _SHAREABLE:
            continue
        codes, _ = pd.factorize(np.array(list(map(str, values)), dtype=object) if kind == "decimal" else values)
        firsts, missing = first_positions(codes), codes < 0
        if len(firsts) == len(values) - int(missing.sum()):
            continue  # nothing repeats
        shared = values[firsts][np.maximum(codes, 0)]  # code -1 (missing text) is put back below
        shared[missing] = values[missing]
        frame[column] = pd.Series(shared, index=frame.index, dtype=object)
    return frame
