"""The ledger contract's column-wide checks give pandera's own answers (the same failure cases, row by row), and
`compact` shares objects without changing a value as written."""

from __future__ import annotations

import random
from decimal import Decimal as D

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest
from pandera.typing import Series

from clinic_etl.ledger import checks
from clinic_etl.ledger.compact import compact
from clinic_etl.ledger.models import KEY, LEDGER_MODELS, ledger_frame


@pytest.mark.parametrize(
    "values",
    [
        [D("1"), D("-1"), D("0"), D("-0"), D("NaN"), D("Infinity"), D("sNaN"), None, 1.5, "x", float("nan"), 3],
        [D("1"), D("2.50")],
        [],
        [D("-Infinity")],
        [1.0, 2.0],
    ],
)
def test_money_checks_answer_value_by_value(values):
    series = pd.Series(values, dtype=object, index=[10 + n for n in range(len(values))])
    finite = [isinstance(v, D) and v.is_finite() for v in values]
    assert checks.money_column(series).tolist() == finite
    assert checks.positive_column(series).tolist() == [f and v > 0 for f, v in zip(finite, values, strict=True)]
    assert checks.money_column(series).index.equals(series.index)


class _Pandera(pa.DataFrameModel):  # pandera's own forms of the checks
    key: Series[str] = pa.Field(nullable=True, str_matches=KEY)
    text: Series[str] = pa.Field(nullable=True)


class _Ours(pa.DataFrameModel):
    key: Series[checks.Text] = pa.Field(nullable=True, matches=KEY)
    text: Series[checks.Text] = pa.Field(nullable=True)


def _failures(model: type[pa.DataFrameModel], frame: pd.DataFrame) -> list[tuple[str, str, object]]:
    try:
        model.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
        kinds = cases["check"].map(lambda c: "dtype" if str(c).startswith("dtype") else "pattern")
        return sorted(zip(cases["column"], kinds, cases["index"].map(repr), strict=True))
    return []


ODD = ["cliniko:invoice:1", "clio:bill:x-9", "Cliniko:invoice:1", "cliniko:invoice:", "cliniko:invoice:1 2",
       "a:b:c\n", "", "cliniko:credit_note:７", None, float("nan"), 7, D("1"), b"a:b:c", "a:b:c:d"]  # fmt: skip


@pytest.mark.parametrize("seed", range(25))
def test_text_and_pattern_fail_the_rows_pandera_fails(seed):
    rng = random.Random(seed)
    size = rng.randint(0, 12)
    clean = rng.random() < 0.3  # now and then a column of text only: the fast path
    pool = [v for v in ODD if isinstance(v, str)] if clean else ODD
    frame = pd.DataFrame(
        {"key": [rng.choice(pool) for _ in range(size)], "text": [rng.choice(pool) for _ in range(size)]},
        dtype=object,
    )
    ours, theirs = _failures(_Ours, frame), _failures(_Pandera, frame)
    texts = {repr(i) for i, v in frame["key"].items() if isinstance(v, str)}
    others = {repr(i) for i, v in frame["key"].items() if not isinstance(v, str) and not pd.isna(v)}
    assert [f for f in ours if f[1] == "dtype"] == [f for f in theirs if f[1] == "dtype"]
    # on text, the same rows fail the pattern; pandera's str_matches answers erratically on other values (a
    # whole-column failure without a row), where `matches` fails each of them
    assert [f for f in ours if f[1] == "pattern" and f[2] in texts] == [
        f for f in theirs if f[1] == "pattern" and f[2] in texts
    ]
    assert {f[2] for f in ours if f[1] == "pattern" and f[2] not in texts} == others


def test_one_bad_key_among_many():
    frame = pd.DataFrame({"key": [f"cliniko:invoice:{n}" for n in range(1_000)], "text": "x"})
    frame.loc[500, "key"] = "cliniko:invoice: 1"
    assert _failures(_Ours, frame) == [("key", "pattern", "500")]


class _Dated(pa.DataFrameModel):
    day: Series[checks.Text] = pa.Field(nullable=True, iso_date=())


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2026-10-14", True),
        ("2024-02-29", True),
        ("2026-02-29", False),  # no such day
        ("2026-13-01", False),
        ("20261014", False),
        ("2026-W42-3", False),  # an ISO week date: fromisoformat takes it, the ledger does not
        ("2026-10-14\n", False),
        ("２０２６-10-14", False),  # not ASCII digits
        ("2026-10-14T00:00", False),
        (None, True),  # nullable: the nullable check answers for it
    ],
)
def test_iso_date(value, ok):
    frame = pd.DataFrame({"day": ["2026-10-13", value, "2026-10-13"]}, dtype=object)
    failures = _failures(_Dated, frame)
    assert failures == ([] if ok else [("day", "pattern", "1")])


def test_the_ledger_models_use_the_column_checks():
    columns = LEDGER_MODELS["payments"].to_schema().columns
    assert {c.name for c in columns["payment_key"].checks} == {"matches"}
    assert {c.name for c in columns["date"].checks} == {"iso_date"}
    assert isinstance(columns["date"].dtype, checks.Text)


def test_compact_shares_objects_and_keeps_each_value_as_written():
    written = ["90", "90.0", "90.00", "-0", "0", "0.00", "1E+2", "90.0"]
    values = [D(w) for w in written] * 3
    text = [f"day-{n % 3}" for n in range(len(values))]
    text[4] = None
    frame = compact(pd.DataFrame({"amount": values, "text": text, "n": 1}, dtype=object))
    assert [str(v) for v in frame["amount"]] == [str(v) for v in values]
    assert len({id(v) for v in frame["amount"]}) == len(set(written))
    assert frame["text"].tolist() == text
    assert len({id(v) for v in frame["text"] if v is not None}) == 3
    assert frame["n"].tolist() == [1] * len(values)


def test_compact_leaves_mixed_and_unique_columns_alone():
    mixed = [D("1"), 1, D("1"), "1", None]
    unique = [f"k{n}" for n in range(5)]
    frame = pd.DataFrame({"mixed": mixed, "unique": unique}, dtype=object)
    ids = [id(v) for v in frame["mixed"]]
    compact(frame)
    assert [id(v) for v in frame["mixed"]] == ids
    assert frame["unique"].tolist() == unique


def test_ledger_frames_are_compact():
    rows = [{"payment_key": f"cliniko:payment:{n}", "invoice_key": "cliniko:invoice:1", "date": "2026-10-14",
             "day": "2026-10-14", "amount": D("50.00")} for n in range(4)]  # fmt: skip
    for row in rows:
        row["amount"] = D(str(row["amount"]))  # each its own object, as a source parses them
    frame = ledger_frame("payments", rows)
    assert len({id(v) for v in frame["amount"]}) == 1
    assert np.array_equal(frame["amount"].map(str).to_numpy(), np.array(["50.00"] * 4, dtype=object))
    LEDGER_MODELS["payments"].validate(frame)
