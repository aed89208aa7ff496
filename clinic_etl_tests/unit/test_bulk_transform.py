"""The transform works on columns (a million lines in seconds): its helpers and its bulk path give exactly what the
one-invoice-at-a-time path gives (documents, Decimal exponents and signs, content hashes, rejects), and the ledger's
money checks answer as the value-by-value ones did."""

from __future__ import annotations

import json
import random
from datetime import date
from decimal import Decimal as D

import numpy as np
import pandas as pd
import pytest

from clinic_etl.ledger import money
from clinic_etl.ledger.models import complete, ledger_frame
from clinic_etl.ledger.rules import apply_rules
from clinic_etl.mapping import Mapping
from clinic_etl.xero import contact_frames, document_hash, fitting, frames, line_items
from clinic_etl.xero.frames import clean, content_hash, to_xero
from clinic_etl.xero.org import XeroOrg

ALPHABET = "ab Z9-'\t\n\r\x00\x7f\xa0\u2028\u2029\u3000\ud800é李 \"\\"


def test_whole_cents_reads_any_exponent_and_refuses_the_rest():
    values = [D("90"), D("90.0"), D("90.000"), D("-0.00"), D("0.005"), D("NaN"), D("1E+20"), None, 1.5, D("-12.30")]
    cents, exact = money.whole_cents([np.array(values, dtype=object)])
    assert cents[0].tolist() == [9000, 9000, 9000, 0, 0, 0, 0, 0, 0, -1230]
    assert exact[0].tolist() == [True, True, True, True, False, False, False, False, False, True]


def test_rows_are_told_apart_as_written():
    column = np.array([D("90.0"), D("90.00"), D("90.0"), D("0"), D("-0"), 90, D("90.0")], dtype=object)
    codes, written = money.written_rows([column, column])
    assert codes[0] == codes[2] == codes[6] and len(set(codes.tolist())) == 5
    assert written[codes[1]] == (D("90.00"), D("90.00")) and str(written[codes[4]][0]) == "-0"
    assert written[codes[5]] is None  # not a Decimal: a code of its own, no values


def test_spreading_cents_is_allocate():
    rng = random.Random(7)
    for _ in range(3000):
        parts = [D(rng.randint(-2000, 20000)) / D(1000) for _ in range(rng.randint(1, 5))]
        total = sum((money.cents(p) for p in parts), D(0)) + D(rng.randint(-7, 7)) / 100
        expected = money.allocate(total, parts)
        rounded = [money.rounded_cents(p) for p in parts]
        residual = int(total * 100) - sum(c for _, c in rounded)
        ranks = line_items._ranks([p - r for p, (r, _) in zip(parts, rounded, strict=True)])
        owner, counts = np.zeros(len(parts), dtype=np.int64), np.array([len(parts)])
        added = line_items._spread(owner, ranks, np.array([residual]), counts)
        got = [r if not a else line_items._in_cents(c + int(a)) for (r, c), a in zip(rounded, added, strict=True)]
        assert [repr(v) for v in got] == [repr(v) for v in expected], (total, parts)


def test_fits_and_json_forms_agree_with_clean_and_json():
    rng = random.Random(3)
    for _ in range(20000):
        values = ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 5))) for _ in range(rng.randint(1, 4))]
        if rng.random() < 0.2:
            values.insert(rng.randint(0, len(values)), None)
        fits = fitting._fits(values, 4)
        expected = [not isinstance(v, str) or (len(v) <= 4 and clean(v)) for v in values]
        assert (fits is None and all(expected)) or (fits is not None and fits.tolist() == expected), values
        form, column = document_hash._json_form(values)
        assert [form % v for v in column] == [json.dumps(v) for v in values]


ORG = XeroOrg(
    accounts={"200": {"Type": "REVENUE"}, "090": {"Type": "BANK"}, "210": {}, "400": {}},
    tax_rates={"OUTPUT": D(10), "EXEMPTOUTPUT": D(0), "GSTONIMPORTS": D("12.5")},
    tracking={"Location": {"L1", "L2"}, "Staff": {"S1", "S2", "S3"}},
    lock_date=date(2026, 9, 5),
)
MAPPINGS = {
    "default": Mapping(),
    "rich": Mapping.model_validate(
        {
            "due_days": 14,
            "accounts": {"by_item_code": {"A": "210"}, "by_practitioner": {"p2": "400"}, "bad_debts": "400"},
            "taxes": {"by_name": {"GST Free": "EXEMPTOUTPUT", "Import": "GSTONIMPORTS"}},
            "tracking": [
                {"name": "Location", "by": "business", "options": {"b1": "L1", "b2": "L2"}},
                {"name": "Staff", "by": "practitioner", "options": {"p1": "S1", "p2": "S2", "p3": "S3"}},
            ],
            "rules": {"locked_period": "move", "closed_invoices": "written_off"},
        }
    ),
    "problems": Mapping.model_validate(
        {
            "accounts": {"by_item_code": {"B": "999"}},
            "taxes": {"by_name": {"GST": "NOPE"}},
            "rules": {"sync_payments": False},
        }
    ),
}


def random_ledger(seed: int, invoices: int = 300) -> dict[str, pd.DataFrame]:
    """Invoices of 0 to 4 lines with the amounts sources send (3-dp prices and taxes, discounts, 10.0 and 10, -0, a
    cent or a fraction of one off the total), odd text, repeated line numbers, missing ids and deleted invoices."""
    rng = random.Random(seed)
    pick = rng.choice
    contacts, rows, lines, payments = [], [], [], []
    kinds = ["cliniko:payment", "clio:allocation"] if seed == 3 else ["cliniko:payment"]  # one source, or two
    for c in range(40):
        contacts.append(
            {
                "contact_key": f"cliniko:patient:{pick(['', 1000, 'x' * 60])}{c}",
                "source_id": str(c),
                "first_name": pick(["Ann", "Bo ", "Zoë", "", None, "A\u2028B", "Ann"]),
                "last_name": pick(["Lee", "Ng  Wu", "y" * 300, None, "Lee"]),
                "email": pick(["a@example.com", None, "", "e" * 300]),
                "archived": False,
            }
        )
    for i in range(invoices):
        key = f"cliniko:invoice:{i}"
        total = tax_total = D(0)
        for n in range(pick([0, 1, 1, 1, 2, 2, 3, 4])):
            rate = pick([D("10.0"), D("10"), D("0.0"), D("0"), D("12.5")])
            quantity = pick([D(1), D(1), D(2), D("2.0"), D("1.5"), D(0), D(-1)])
            unit = pick([D("85.0"), D("36.364"), D("18.182"), D("12.34567"), D(0), D("-0.00"), D("95")])
            line_total = pick([D("90.0"), D("40.0"), D("-0.0"), D("33.335"), D("20.00"), D("104.5"), D("0.005")])
            tax = pick([D("8.182"), D("3.636"), D("0.0"), D("0.00"), D("-0.004"), D("4.545")])
            total += money.cents(line_total)
            tax_total += money.cents(tax)
            lines.append(
                {
                    "invoice_key": key,
                    "line_no": pick([1, 1, 2, 3, n + 1]),
                    "source_id": f"{i}-{n}",
                    "description": pick(["Physio", "Two  spaces", "x" * 4100, "Massage\n60", "Pilates"]),
                    "item_code": pick(["A", "B", "C", None]),
                    "quantity": quantity,
                    "unit_price": unit,
                    "tax_rate": rate,
                    "tax_name": pick(["GST", "GST Free", None, "Import"]),
                    "discount": pick([D("0.0"), D("5.0")]),
                    "total": line_total,
                    "tax": tax,
                }
            )
        off = pick([D(0), D(0), D(0), D("0.01"), D("-0.02"), D("0.03"), D("0.005"), D("1.00")])
        rows.append(
            {
                "invoice_key": key,
                "source_id": str(i),
                "number": pick([str(1000 + i), f"{1000 + i}  b", "9" * 300]) if i % 17 == 0 else str(1000 + i),
                "issue_date": pick(["2026-09-01", "2026-09-28", "2026-10-01", "2026-10-14"]),
                "contact_key": pick(contacts)["contact_key"],
                "business_id": pick(["b1", "b2", None]),
                "practitioner_id": pick(["p1", "p2", "p3", None, "p9"]),
                "status": pick(["open", "paid", "paid", "draft", "closed", "deleted"]),
                "day": "2026-10-14",
                "total": total + off,
                "tax_total": tax_total + pick([D(0), D(0), D("0.01"), D("-0.01")]),
                "url": None,
                "bill_to": None,
            }
        )
        status = rows[-1]["status"]
        for p in range(pick([0, 1] if status == "closed" else [0, 0, 1, 2])):  # a closed invoice: its one payment
            payments.append(
                {
                    "payment_key": f"{pick(kinds)}:{i}-{p}",
                    "invoice_key": key,
                    "date": pick(["2026-09-02", "2026-10-02"]),
                    "day": "2026-10-14",
                    "amount": D("10.00"),
                }
            )
    return {
        "contacts": ledger_frame("contacts", contacts),
        "invoices": ledger_frame("invoices", rows),
        "lines": ledger_frame("lines", lines),
        "payments": ledger_frame("payments", payments),
    }


def one_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every invoice's items through `_line_items`, every contact through `_fitted`, as before the bulk path."""
    line_sums = line_items._Items._line_sums

    def none_fast(self, owner, starts, ends):
        line_sums(self, owner, starts, ends)
        return np.zeros(len(starts), dtype=bool)

    monkeypatch.setattr(line_items._Items, "_line_sums", none_fast)
    monkeypatch.setattr(frames, "contacts_frame", contact_frames._contacts_frame_rows)


def as_written(frame: pd.DataFrame) -> tuple:
    return (list(frame.columns), [str(t) for t in frame.dtypes], frame.attrs, frame.index.tolist(),
            [[repr(v) for v in frame[c]] for c in frame.columns])  # fmt: skip


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("name", sorted(MAPPINGS))
def test_the_bulk_path_gives_what_one_invoice_at_a_time_gives(name, seed, monkeypatch):
    ledger, mapping = random_ledger(seed), MAPPINGS[name]
    documents, rejected = to_xero(ledger, mapping, ORG)
    with monkeypatch.context() as m:
        one_at_a_time(m)
        expected, expected_rejected = to_xero(ledger, mapping, ORG)
    assert set(documents) == set(expected)
    for frame in documents:
        assert as_written(documents[frame]) == as_written(expected[frame]), frame
    assert as_written(rejected) == as_written(expected_rejected)
    assert len(documents["invoices"]) and len(rejected)  # both paths exercised
    for row in documents["invoices"].to_dict("records"):  # each hash is the document's own
        document = {k: row[k] for k in ("InvoiceNumber", "contact_key", "Date", "DueDate", "Reference", "Status")}
        assert row["content_hash"] == content_hash({**document, "LineItems": row["LineItems"]})
    for row in documents["contacts"].to_dict("records"):
        fields = {k: row[k] for k in ("FirstName", "LastName", "EmailAddress")}
        assert row["content_hash"] == content_hash({**fields, "Name": row["Name"].split(" (")[0]}) or "(" in row["Name"]


def test_rules_without_copies_give_the_same_frames():
    ledger = complete(random_ledger(5, invoices=60))
    for rules in (
        Mapping().rules,
        MAPPINGS["problems"].rules,
        Mapping.model_validate({"rules": {"only_paid": True}}).rules,
    ):
        copied, shared = apply_rules(ledger, rules), apply_rules(ledger, rules, copy=False)
        for name in copied:
            assert as_written(copied[name]) == as_written(shared[name]), name
