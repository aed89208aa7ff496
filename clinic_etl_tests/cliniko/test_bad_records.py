"""The bad-input corpus, record level: one bad record never fails the day.

Each case extracts one real sandbox day, corrupts one record (on the wire, between the simulator and the client,
when the corruption is about JSON itself: a missing key, a JSON number, an escape; in the raw frames otherwise)
and runs `to_ledger`. Always: no exception; exactly the bad record is rejected (plus the invoice it belongs to, when
it is an item or the invoice's patient), each reason names its record and says what is wrong; every other invoice
of the day is in the ledger unchanged; no patient's name or e-mail is in any reason.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

import httpx
import pandas as pd
import pytest

from clinic_etl.assets.common import quarantine
from clinic_etl.ledger.quarantine import source_id_of
from clinic_etl.partitions import SyncWindow
from clinic_etl.sandbox.cliniko import SANDBOX_CLINIKO_API_KEY, create_app
from clinic_etl.sandbox.transport import InProcessTransport
from clinic_etl.sources.cliniko import to_ledger as to_ledger_module
from clinic_etl.sources.cliniko.client import ClinikoClient
from clinic_etl.sources.cliniko.extract import extract
from clinic_etl.sources.cliniko.to_ledger import to_ledger
from clinic_etl.store import StateStore

DAY = "2026-10-14"
WINDOW = SyncWindow(date(2026, 10, 14), date(2026, 10, 14), ZoneInfo("Australia/Sydney"))
Rewrite = Callable[[str, dict], None]


class Rewriting(httpx.BaseTransport):
    """Rewrites every record of a list response on its way from the simulator to the client. The body is re-encoded
    with ASCII escapes, so a lone surrogate or a NUL arrives as `\\ud800` / `\\u0000`, as from a real server (the
    simulator itself cannot render a lone surrogate: UTF-8 refuses it)."""

    def __init__(self, inner: httpx.BaseTransport, rewrite: Rewrite | None) -> None:
        self.inner, self.rewrite = inner, rewrite

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if self.rewrite is None or response.status_code != 200:
            return response
        body = json.loads(response.content)
        for name, rows in body.items() if isinstance(body, dict) else ():
            for row in rows if isinstance(rows, list) else ():
                if isinstance(row, dict):
                    self.rewrite(name, row)
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() != "content-length"]
        return httpx.Response(response.status_code, headers=headers, content=json.dumps(body).encode(), request=request)

    def close(self) -> None:
        self.inner.close()


def extract_day(practice, rewrite: Rewrite | None = None) -> dict[str, pd.DataFrame]:
    transport = Rewriting(InProcessTransport(create_app(practice)), rewrite)
    with ClinikoClient(SANDBOX_CLINIKO_API_KEY, "http://cliniko.sandbox/v1", transport=transport) as client:
        return extract(client, WINDOW)


@dataclass(frozen=True)
class Victim:
    """The invoice the corpus corrupts: issued on the day, live, paid, two items (one taxed), and the only invoice
    of the day of its patient (so a bad patient takes only it)."""

    invoice: str
    position: int  # 1-based row in the raw invoices frame
    patient: str
    item: str  # its GST line
    item_position: int  # 1-based row of that line in the raw items frame


@dataclass
class Day:
    raw: dict[str, pd.DataFrame]
    ledger: dict[str, pd.DataFrame]
    victim: Victim


@pytest.fixture(scope="module")
def day(practice) -> Day:
    raw = extract_day(practice)
    ledger, rejected = to_ledger(raw, WINDOW)
    assert rejected.empty
    invoices, items = raw["invoices"], raw["invoice_items"]
    for position, inv in enumerate(invoices.to_dict("records"), start=1):
        mine = items[items["invoice_id"] == inv["id"]]
        if (
            inv["issue_date"] == DAY
            and inv["status"] == "20"
            and not inv["deleted_at"]
            and (invoices["patient_id"] == inv["patient_id"]).sum() == 1
            and len(mine) == 2
            and "GST" in set(mine["tax_name"])
        ):
            taxed = mine[mine["tax_name"] == "GST"]
            victim = Victim(inv["id"], position, inv["patient_id"], taxed["id"].iloc[0], int(taxed.index[0]) + 1)
            return Day(raw, ledger, victim)
    raise AssertionError("no invoice fits the corpus's victim")


# ---- corruptions ------------------------------------------------------------------------------------------------
Frames = dict[str, pd.DataFrame]


def _set(frame: pd.DataFrame, record_id: str, column: str, value: object) -> None:
    frame[column] = frame[column].astype(object)
    frame.loc[frame["id"] == record_id, column] = value


def invoice(column: str, value: object) -> Callable[[Victim, Frames], None]:
    return lambda v, raw: _set(raw["invoices"], v.invoice, column, value)


def item(column: str, value: object) -> Callable[[Victim, Frames], None]:
    return lambda v, raw: _set(raw["invoice_items"], v.item, column, value)


def patient(column: str, value: object) -> Callable[[Victim, Frames], None]:
    return lambda v, raw: _set(raw["patients"], v.patient, column, value)


def invoice_id(value: object) -> Callable[[Victim, Frames], None]:
    """The invoice's own id is bad: the extract could not have read its items (they are listed by invoice id)."""

    def corrupt(v: Victim, raw: Frames) -> None:
        _set(raw["invoices"], v.invoice, "id", value)
        raw["invoice_items"] = raw["invoice_items"][raw["invoice_items"]["invoice_id"] != v.invoice]

    return corrupt


def both(*corruptions: Callable[[Victim, Frames], None]) -> Callable[[Victim, Frames], None]:
    def corrupt(v: Victim, raw: Frames) -> None:
        for c in corruptions:
            c(v, raw)

    return corrupt


def appended(entity: str, record_id: Callable[[Victim], str], **changes: object) -> Callable[[Victim, Frames], None]:
    """A copy of a record appended to its frame, with some fields changed."""

    def corrupt(v: Victim, raw: Frames) -> None:
        frame = raw[entity]
        copy_ = frame[frame["id"] == record_id(v)].copy()
        for column, value in changes.items():
            copy_[column] = value
        raw[entity] = pd.concat([frame, copy_], ignore_index=True)

    return corrupt


def on_wire(entity: str, record_id: Callable[[Victim], str], change: Callable[[dict], None]):
    """Change a record of `entity` (its JSON, before the extract flattens it) wherever it is listed."""

    def rewrite_for(v: Victim) -> Rewrite:
        def rewrite(name: str, record: dict) -> None:
            if name == entity and str(record.get("id")) == record_id(v):
                change(record)

        return rewrite

    return rewrite_for


def put(key: str, value: object) -> Callable[[dict], None]:
    return lambda record: record.__setitem__(key, value)


def drop(key: str) -> Callable[[dict], None]:
    return lambda record: record.pop(key)


def as_json_number(key: str) -> Callable[[dict], None]:
    return lambda record: record.__setitem__(key, float(record[key]))


INV: Callable[[Victim], str] = lambda v: v.invoice  # noqa: E731
ITEM: Callable[[Victim], str] = lambda v: v.item  # noqa: E731
PAT: Callable[[Victim], str] = lambda v: v.patient  # noqa: E731


# ---- expected rejects -------------------------------------------------------------------------------------------
def the_invoice(v: Victim) -> set[tuple[str, str]]:
    return {("invoice", v.invoice)}


def the_item(v: Victim) -> set[tuple[str, str]]:
    return {("invoice_item", v.item), ("invoice", v.invoice)}


def the_patient(v: Victim) -> set[tuple[str, str]]:
    return {("patient", v.patient), ("invoice", v.invoice)}


def nothing(v: Victim) -> set[tuple[str, str]]:
    return set()


@dataclass(frozen=True)
class Case:
    says: str  # what the bad record's reason must say
    frames: Callable[[Victim, Frames], None] | None = None
    wire: Callable[[Victim], Rewrite] | None = None
    rejects: Callable[[Victim], set[tuple[str, str]]] = the_invoice
    primary: tuple[str, Callable[[Victim], str]] | None = None  # the record at fault (default: item/patient/invoice)
    gone: bool = True  # the victim invoice leaves the ledger


NOT_A_NUMBER = "is not a decimal number"
TOO_PRECISE = "more than 2 decimal places"
PAST_64 = "is past 64 bits"
NOT_AN_ID = "is not a numeric id"
NOT_A_DATE = "is not a real date"
NOT_AN_INSTANT = "is not a real instant"
SURROGATE = "contains a lone surrogate"
CONTROL = "contains a control character"

CORPUS = [
    # -- amounts on invoices
    pytest.param(
        Case("total_amount is missing", wire=on_wire("invoices", INV, drop("total_amount"))), id="inv-total-key-missing"
    ),
    pytest.param(
        Case("total_amount is missing", wire=on_wire("invoices", INV, put("total_amount", None))), id="inv-total-null"
    ),
    pytest.param(
        Case(f"total_amount {NOT_A_NUMBER} ('abc')", invoice("total_amount", "abc")), id="inv-total-non-numeric"
    ),
    pytest.param(Case(f"total_amount {NOT_A_NUMBER} ('1e3')", invoice("total_amount", "1e3")), id="inv-total-exponent"),
    pytest.param(
        Case(f"total_amount 110.1234 has {TOO_PRECISE}", invoice("total_amount", "110.1234")), id="inv-total-4dp"
    ),
    pytest.param(
        Case(f"total_amount {NOT_A_NUMBER} ('1,000.00')", invoice("total_amount", "1,000.00")), id="inv-total-comma"
    ),
    pytest.param(Case(f"total_amount {NOT_A_NUMBER} ('')", invoice("total_amount", "")), id="inv-total-empty-string"),
    pytest.param(
        Case(f"total_amount {NOT_A_NUMBER} (' 110.0')", invoice("total_amount", " 110.0")), id="inv-total-padded"
    ),
    pytest.param(
        Case(f"total_amount {NOT_A_NUMBER} ('١١٠')", invoice("total_amount", "١١٠")), id="inv-total-arabic-digits"
    ),
    pytest.param(
        Case(f"total_amount {NOT_A_NUMBER} ('<object>')", wire=on_wire("invoices", INV, put("total_amount", {"a": 1}))),
        id="inv-total-object",
    ),
    pytest.param(Case(f"tax_amount 1.2345 has {TOO_PRECISE}", invoice("tax_amount", "1.2345")), id="inv-tax-4dp"),
    pytest.param(Case("total_amount is negative", invoice("total_amount", "-5.0")), id="inv-total-negative"),
    pytest.param(
        Case("has more than 12 digits before the point", invoice("total_amount", "1" * 40)), id="inv-total-huge"
    ),
    pytest.param(
        Case("", wire=on_wire("invoices", INV, as_json_number("total_amount")), rejects=nothing, gone=False),
        id="inv-total-json-number-taken-exactly",
    ),
    pytest.param(
        Case(TOO_PRECISE, wire=on_wire("invoices", INV, put("total_amount", 0.1 + 0.2))),
        id="inv-total-binary-float-artefact",
    ),
    # -- amounts on items
    pytest.param(
        Case(
            "total_including_tax is missing",
            wire=on_wire("invoice_items", ITEM, drop("total_including_tax")),
            rejects=the_item,
        ),
        id="item-total-key-missing",
    ),
    pytest.param(Case("net_price is missing", item("net_price", None), rejects=the_item), id="item-net-null"),
    pytest.param(
        Case(f"unit_price {NOT_A_NUMBER} ('ten')", item("unit_price", "ten"), rejects=the_item),
        id="item-price-non-numeric",
    ),
    pytest.param(
        Case(f"unit_price {NOT_A_NUMBER} ('1e2')", item("unit_price", "1e2"), rejects=the_item),
        id="item-price-exponent",
    ),
    pytest.param(
        Case(
            f"total_including_tax 70.1234 has {TOO_PRECISE}", item("total_including_tax", "70.1234"), rejects=the_item
        ),
        id="item-total-4dp",
    ),
    pytest.param(
        Case(
            f"total_including_tax {NOT_A_NUMBER} ('1,000.00')",
            item("total_including_tax", "1,000.00"),
            rejects=the_item,
        ),
        id="item-total-comma",
    ),
    pytest.param(
        Case(f"net_price {NOT_A_NUMBER} ('')", item("net_price", ""), rejects=the_item), id="item-net-empty-string"
    ),
    pytest.param(
        Case("quantity is not a whole number", item("quantity", "1.5"), rejects=the_item), id="item-quantity-fraction"
    ),
    pytest.param(
        Case(
            "", wire=on_wire("invoice_items", ITEM, as_json_number("total_including_tax")), rejects=nothing, gone=False
        ),
        id="item-total-json-number-taken-exactly",
    ),
    pytest.param(
        Case("", wire=on_wire("invoice_items", ITEM, as_json_number("tax_rate")), rejects=nothing, gone=False),
        id="item-tax-rate-json-number-taken-exactly",
    ),
    pytest.param(
        Case("", wire=on_wire("invoice_items", ITEM, as_json_number("net_price")), rejects=nothing, gone=False),
        id="item-net-3dp-json-number-taken-exactly",
    ),
    # -- totals that do not add up
    pytest.param(Case("items add up to", invoice("total_amount", "999.0")), id="inv-total-not-sum-of-items"),
    pytest.param(Case("is not net_amount", invoice("net_amount", "1.0")), id="inv-net-plus-tax-not-total"),
    pytest.param(
        Case("is not net_price", item("net_price", "10.0"), rejects=the_item), id="item-total-not-net-plus-tax"
    ),
    pytest.param(
        Case("of tax but tax_amount is", both(invoice("tax_amount", "0.0"), invoice("net_amount", None))),
        id="inv-tax-not-items-tax",
    ),
    # -- negative lines
    pytest.param(
        Case("total_including_tax is negative", item("total_including_tax", "-20.0"), rejects=the_item),
        id="item-total-negative",
    ),
    pytest.param(
        Case("unit_price is negative", item("unit_price", "-5.0"), rejects=the_item), id="item-price-negative"
    ),
    pytest.param(
        Case("discounted_amount is negative", item("discounted_amount", "-1.0"), rejects=the_item),
        id="item-discount-negative",
    ),
    # -- taxes
    pytest.param(
        Case(f"tax_rate {NOT_A_NUMBER} ('abc')", item("tax_rate", "abc"), rejects=the_item), id="tax-rate-abc"
    ),
    pytest.param(
        Case("tax_rate 10.0 has no tax_name", item("tax_name", None), rejects=the_item), id="tax-name-null-with-rate"
    ),
    pytest.param(
        Case("tax_name 'VAT' is not one of the account's taxes", item("tax_name", "VAT"), rejects=the_item),
        id="tax-unknown",
    ),
    pytest.param(Case("tax_rate is negative", item("tax_rate", "-10.0"), rejects=the_item), id="tax-rate-negative"),
    pytest.param(Case("tax_rate is over 100", item("tax_rate", "1000.0"), rejects=the_item), id="tax-rate-over-100"),
    pytest.param(Case("is not net_price", item("tax_rate", "15.0"), rejects=the_item), id="tax-rate-not-the-lines-tax"),
    # -- patients
    pytest.param(
        Case("patient_id is missing", wire=on_wire("invoices", INV, drop("patient"))), id="patient-link-missing"
    ),
    pytest.param(
        Case("patient_id is missing", wire=on_wire("invoices", INV, put("patient", None))), id="patient-link-null"
    ),
    pytest.param(
        Case(f"patient_id {NOT_AN_ID} ('<not a link>')", wire=on_wire("invoices", INV, put("patient", "1050"))),
        id="patient-link-is-a-string",
    ),
    pytest.param(
        Case(f"patient_id {NOT_AN_ID} ('<not a link>')", wire=on_wire("invoices", INV, put("patient", {"links": "x"}))),
        id="patient-link-without-self",
    ),
    pytest.param(
        Case(
            f"patient_id {NOT_AN_ID} ('abc')",
            wire=on_wire("invoices", INV, put("patient", {"links": {"self": "https://x/v1/patients/abc"}})),
        ),
        id="patient-link-to-non-numeric-id",
    ),
    pytest.param(
        Case("patient 77777 was not returned by Cliniko", invoice("patient_id", "77777")), id="patient-unknown"
    ),
    pytest.param(
        Case(
            "was not returned by Cliniko",
            lambda v, raw: raw.update(patients=raw["patients"][raw["patients"]["id"] != v.patient]),
        ),
        id="patient-not-in-extract",
    ),
    pytest.param(
        Case(
            f"id {NOT_AN_ID} ('p-1')",
            patient("id", "p-1"),
            rejects=lambda v: {("patient", "p-1"), ("invoice", v.invoice)},
            primary=("patient", lambda v: "p-1"),
        ),
        id="patient-id-non-numeric",
    ),
    pytest.param(
        Case(
            f"first_name {SURROGATE}",
            wire=on_wire("patients", PAT, put("first_name", "Zo\ud800e")),
            rejects=the_patient,
        ),
        id="patient-first-name-lone-surrogate",
    ),
    pytest.param(
        Case(
            "first_name is an object or a list, not text",
            wire=on_wire("patients", PAT, put("first_name", {"given": "Zoe"})),
            rejects=the_patient,
        ),
        id="patient-name-object",
    ),
    # -- links other than the patient
    pytest.param(
        Case(f"business_id {NOT_AN_ID} ('<not a link>')", wire=on_wire("invoices", INV, put("business", ["1"]))),
        id="business-link-is-a-list",
    ),
    # -- duplicates and orphans
    pytest.param(
        Case(
            "listed 2 times with different content (differing: total_amount)",
            appended("invoices", INV, total_amount="1.0"),
        ),
        id="invoice-id-twice-different-content",
    ),
    pytest.param(
        Case("", appended("invoices", INV), rejects=nothing, gone=False), id="invoice-listed-twice-identically"
    ),
    pytest.param(
        Case(
            "listed 2 times with different content (differing: name)",
            appended("invoice_items", ITEM, name="Other"),
            rejects=the_item,
        ),
        id="item-id-twice-different-content",
    ),
    pytest.param(
        Case(
            "listed 2 times with different content (differing: email)",
            appended("patients", PAT, email="someone.else@example.com"),
            rejects=the_patient,
        ),
        id="patient-id-twice-different-content",
    ),
    pytest.param(
        Case(
            "its invoice 88888 is not in the extract",
            appended("invoice_items", ITEM, id="99999", invoice_id="88888"),
            rejects=lambda v: {("invoice_item", "99999")},
            primary=("invoice_item", lambda v: "99999"),
            gone=False,
        ),
        id="item-of-an-invoice-not-in-the-extract",
    ),
    # -- dates and instants
    pytest.param(
        Case(f"issue_date {NOT_A_DATE}", wire=on_wire("invoices", INV, put("issue_date", "2026-13-45"))),
        id="issue-date-2026-13-45",
    ),
    pytest.param(Case(f"issue_date {NOT_A_DATE}", invoice("issue_date", "14/10/2026")), id="issue-date-not-iso"),
    pytest.param(
        Case(f"issue_date {NOT_A_DATE}", invoice("issue_date", "2026-10-14\n")), id="issue-date-trailing-newline"
    ),
    pytest.param(
        Case(f"closed_at {NOT_AN_INSTANT}", wire=on_wire("invoices", INV, put("closed_at", "2026-02-30T10:00:00Z"))),
        id="closed-at-2026-02-30",
    ),
    pytest.param(
        Case(f"updated_at {NOT_AN_INSTANT}", invoice("updated_at", "2026-10-14T25:00:00Z")), id="updated-at-hour-25"
    ),
    pytest.param(
        Case(f"closed_at {NOT_AN_INSTANT}", invoice("closed_at", "2026-10-14T10:00:00")), id="closed-at-without-offset"
    ),
    pytest.param(
        Case(f"closed_at {NOT_AN_INSTANT}", invoice("closed_at", "9999-12-31T23:00:00-05:00")),
        id="closed-at-past-year-9999",
    ),
    pytest.param(Case("", invoice("archived_at", ""), rejects=nothing, gone=False), id="archived-at-blank-means-none"),
    # -- ids
    pytest.param(
        Case(
            "invoice without id at position",
            invoice_id(None),
            rejects=lambda v: {("invoice", f"position {v.position}")},
            primary=("invoice", lambda v: f"position {v.position}"),
        ),
        id="invoice-without-id",
    ),
    pytest.param(
        Case(
            f"id {NOT_AN_ID} ('INV-9')",
            invoice_id("INV-9"),
            rejects=lambda v: {("invoice", "INV-9")},
            primary=("invoice", lambda v: "INV-9"),
        ),
        id="invoice-id-non-numeric",
    ),
    pytest.param(
        Case(
            PAST_64,
            invoice_id(str(2**64)),
            rejects=lambda v: {("invoice", str(2**64))},
            primary=("invoice", lambda v: str(2**64)),
        ),
        id="invoice-id-past-64-bits",
    ),
    pytest.param(
        Case(
            PAST_64,
            invoice_id(str(2**63)),
            rejects=lambda v: {("invoice", str(2**63))},
            primary=("invoice", lambda v: str(2**63)),
        ),
        id="invoice-id-2-to-the-63",
    ),
    pytest.param(
        Case(
            NOT_AN_ID,
            invoice_id("２０４"),
            rejects=lambda v: {("invoice", "\\uff12\\uff10\\uff14")},
            primary=("invoice", lambda v: "\\uff12\\uff10\\uff14"),
        ),
        id="invoice-id-fullwidth-digits",
    ),
    pytest.param(
        Case(
            "item without id at position",
            item("id", None),
            rejects=lambda v: {("invoice_item", f"position {v.item_position}"), ("invoice", v.invoice)},
            primary=("invoice_item", lambda v: f"position {v.item_position}"),
        ),
        id="item-without-id",
    ),
    pytest.param(
        Case(
            f"id {NOT_AN_ID}",
            item("id", "60x"),
            rejects=lambda v: {("invoice_item", "60x"), ("invoice", v.invoice)},
            primary=("invoice_item", lambda v: "60x"),
        ),
        id="item-id-non-numeric",
    ),
    pytest.param(
        Case(
            PAST_64,
            item("id", str(2**64)),
            rejects=lambda v: {("invoice_item", str(2**64)), ("invoice", v.invoice)},
            primary=("invoice_item", lambda v: str(2**64)),
        ),
        id="item-id-past-64-bits",
    ),
    pytest.param(
        Case(
            PAST_64,
            item("id", str(2**63)),
            rejects=lambda v: {("invoice_item", str(2**63)), ("invoice", v.invoice)},
            primary=("invoice_item", lambda v: str(2**63)),
        ),
        id="item-id-2-to-the-63",
    ),
    pytest.param(
        Case(
            f"id {NOT_AN_ID}",
            item("id", "1\x00"),
            rejects=lambda v: {("invoice_item", "1\\x00"), ("invoice", v.invoice)},
            primary=("invoice_item", lambda v: "1\\x00"),
        ),
        id="item-id-with-nul",
    ),
    # -- text
    pytest.param(
        Case(f"name {SURROGATE}", wire=on_wire("invoice_items", ITEM, put("name", "Massage \udc80")), rejects=the_item),
        id="item-name-lone-surrogate",
    ),
    pytest.param(Case(f"code {CONTROL}", item("code", "RM\t60"), rejects=the_item), id="item-code-tab"),
    # -- status and number
    pytest.param(
        Case(
            "status is not one of 10 (open), 20 (paid), 30 (closed), 40 (open credit) ('50')", invoice("status", "50")
        ),
        id="status-50",
    ),
    pytest.param(Case("status is missing", wire=on_wire("invoices", INV, drop("status"))), id="status-missing"),
    pytest.param(Case("status is not one of", wire=on_wire("invoices", INV, put("status", True))), id="status-boolean"),
    pytest.param(Case("number is not a whole number", invoice("number", "INV-104")), id="number-non-numeric"),
]


def _expected_ledger(clean: dict[str, pd.DataFrame], gone: set[str]) -> dict[str, pd.DataFrame]:
    keys = {f"cliniko:invoice:{i}" for i in gone}
    invoices = clean["invoices"][~clean["invoices"]["invoice_key"].isin(keys)]
    return {
        **clean,
        "contacts": clean["contacts"][clean["contacts"]["contact_key"].isin(invoices["contact_key"])],
        "invoices": invoices,
        "lines": clean["lines"][~clean["lines"]["invoice_key"].isin(keys)],
        "payments": clean["payments"][~clean["payments"]["invoice_key"].isin(keys)],
    }


def assert_same_ledger(actual: dict[str, pd.DataFrame], expected: dict[str, pd.DataFrame]) -> None:
    """Equal frame by frame, value by value as text (so Decimal("110.0") and Decimal("110") differ)."""
    assert set(actual) == set(expected)
    for name in expected:
        left, right = (f.reset_index(drop=True).astype(str) for f in (actual[name], expected[name]))
        pd.testing.assert_frame_equal(left, right, obj=name)


def personal_values(*patient_frames: pd.DataFrame) -> set[str]:
    values = set()
    for frame in patient_frames:
        for column in ("first_name", "last_name", "email"):
            values |= {v for v in frame[column] if isinstance(v, str) and len(v) >= 3}
    return values


def assert_no_personal_data(rejected: pd.DataFrame, values: set[str]) -> None:
    for reason in rejected["reason"]:
        for value in values:
            assert not re.search(rf"(?<!\w){re.escape(value)}(?!\w)", reason), "a reason quotes personal data"


def name_of(entity: str, source_id: str) -> str:
    label = entity.replace("_", " ")
    if source_id.startswith("position "):
        return f"{label} without id at {source_id}: "
    return f"{label} {source_id}: "


def at_fault(case: Case, v: Victim) -> tuple[str, str]:
    """The record whose own reason must say what is wrong: the item or patient when it is rejected, else the invoice."""
    if case.primary is not None:
        return case.primary[0], case.primary[1](v)
    expected = case.rejects(v)
    return next(r for r in (("invoice_item", v.item), ("patient", v.patient), ("invoice", v.invoice)) if r in expected)


@pytest.mark.parametrize("case", CORPUS)
def test_one_bad_record_is_quarantined_and_the_day_goes_on(case: Case, day: Day, practice) -> None:
    v = day.victim
    raw = extract_day(practice, case.wire(v)) if case.wire is not None else copy.deepcopy(day.raw)
    if case.frames is not None:
        case.frames(v, raw)

    ledger, rejected = to_ledger(raw, WINDOW)  # never raises

    expected = case.rejects(v)
    assert set(zip(rejected["entity"], rejected["source_id"], strict=True)) == expected, rejected.to_string()
    assert len(rejected) == len(expected), rejected.to_string()
    assert (rejected["day"] == DAY).all()
    for entity, source_id, reason in zip(rejected["entity"], rejected["source_id"], rejected["reason"], strict=True):
        assert reason.startswith(name_of(entity, source_id)), reason
    if expected:
        entity, record = at_fault(case, v)
        reason = rejected.loc[(rejected["entity"] == entity) & (rejected["source_id"] == record), "reason"].iloc[0]
        assert case.says in reason, reason
    assert_same_ledger(ledger, _expected_ledger(day.ledger, {v.invoice} if case.gone else set()))
    assert_no_personal_data(rejected, personal_values(day.raw["patients"], raw["patients"]))


def others(day: Day, count: int) -> list[dict]:
    """Live invoices of the day other than the victim, each the only one of its patient, with their items."""
    invoices, items = day.raw["invoices"], day.raw["invoice_items"]
    found = []
    for inv in invoices.to_dict("records"):
        if (
            inv["id"] != day.victim.invoice
            and inv["issue_date"] == DAY
            and not inv["deleted_at"]
            and (invoices["patient_id"] == inv["patient_id"]).sum() == 1
        ):
            found.append({**inv, "items": list(items.loc[items["invoice_id"] == inv["id"], "id"])})
    return found[:count]


def test_many_bad_records_in_one_day_each_quarantined_and_storable(day: Day, tmp_path) -> None:
    """Five kinds at once, on five invoices: each is rejected alone, the rest of the day is unchanged, and every
    reject (ids with a NUL or past 64 bits, reasons about lone surrogates) can be written to the state store."""
    a, b, c, d, e = others(day, 5)
    raw = copy.deepcopy(day.raw)
    _set(raw["invoices"], a["id"], "issue_date", "2026-13-45")
    _set(raw["invoice_items"], b["items"][0], "id", str(2**64))
    _set(raw["patients"], c["patient_id"], "first_name", "Zo\ud800e")
    _set(raw["invoices"], d["id"], "id", None)
    raw["invoice_items"] = raw["invoice_items"][raw["invoice_items"]["invoice_id"] != d["id"]]
    _set(raw["invoice_items"], e["items"][0], "id", "7\x00")

    ledger, rejected = to_ledger(raw, WINDOW)

    position = 1 + [r["id"] for r in day.raw["invoices"].to_dict("records")].index(d["id"])
    assert set(zip(rejected["entity"], rejected["source_id"], strict=True)) == {
        ("invoice", a["id"]),
        ("invoice_item", str(2**64)),
        ("invoice", b["id"]),
        ("patient", c["patient_id"]),
        ("invoice", c["id"]),
        ("invoice", f"position {position}"),
        ("invoice_item", "7\\x00"),
        ("invoice", e["id"]),
    }
    assert_same_ledger(ledger, _expected_ledger(day.ledger, {a["id"], b["id"], c["id"], d["id"], e["id"]}))
    store = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}")
    assert quarantine(store, rejected) == 8
    stored = {(r.entity, r.source_id): r.reason for r in store.open_quarantine(DAY)}
    assert stored == dict(
        zip(zip(rejected["entity"], rejected["source_id"], strict=True), rejected["reason"], strict=True)
    )


def test_a_column_missing_from_a_frame_rejects_its_rows_not_the_day(day: Day) -> None:
    """Every patient lacks `email`: each patient is rejected with that reason, and so is each invoice (all have a
    patient); nothing raises."""
    raw = copy.deepcopy(day.raw)
    raw["patients"] = raw["patients"].drop(columns=["email"])
    ledger, rejected = to_ledger(raw, WINDOW)
    patients = rejected[rejected["entity"] == "patient"]
    assert len(patients) == len(raw["patients"])
    assert all(r.endswith(": column 'email' is not in the extract") for r in patients["reason"])
    assert set(rejected.loc[rejected["entity"] == "invoice", "source_id"]) == set(raw["invoices"]["id"])
    assert all(frame.empty for frame in ledger.values())


def test_a_gap_in_the_checks_rejects_the_invoice_at_the_ledger_contract(day: Day, monkeypatch) -> None:
    """Should a value pass every check above and still break the ledger's contract, the invoice is rejected with
    the rule it breaks: the day does not fail."""
    real = to_ledger_module._line

    def blank(item: dict, line_no: int) -> dict:
        line = real(item, line_no)
        return {**line, "description": ""} if item["id"] == day.victim.item else line

    monkeypatch.setattr(to_ledger_module, "_line", blank)
    ledger, rejected = to_ledger(copy.deepcopy(day.raw), WINDOW)
    assert list(zip(rejected["entity"], rejected["source_id"], strict=True)) == [("invoice", day.victim.invoice)]
    assert rejected["reason"].iloc[0].startswith(f"invoice {day.victim.invoice}: lines.description fails")
    assert_same_ledger(ledger, _expected_ledger(day.ledger, {day.victim.invoice}))


def test_hand_built_frames_with_numbers_and_nan_read_as_the_extract_would(day: Day) -> None:
    """A frame built by hand (ints, floats, NaN for null) is read as text, exactly: 110.0 -> "110.0", NaN -> None."""
    raw = copy.deepcopy(day.raw)
    invoices = raw["invoices"]
    invoices["number"] = [int(n) for n in invoices["number"]]
    invoices["status"] = [int(n) for n in invoices["status"]]
    invoices["total_amount"] = [float(t) for t in invoices["total_amount"]]
    invoices["closed_at"] = invoices["closed_at"].astype(object).where(invoices["closed_at"].notna(), float("nan"))
    ledger, rejected = to_ledger(raw, WINDOW)
    assert rejected.empty, rejected.to_string()
    assert_same_ledger(ledger, day.ledger)


def test_source_ids_are_storable_text() -> None:
    assert source_id_of("20444", 1) == "20444"
    assert source_id_of(None, 3) == source_id_of("", 3) == "position 3"
    assert source_id_of("1\x00\ud800é", 1) == "1\\x00\\ud800\\xe9"
    assert source_id_of("9" * 500, 1) == "9" * 61 + "..."


@pytest.mark.parametrize(
    ("table", "column", "value", "sent"),
    [
        ("patients", "first_name", "Zoe\r\nMarie", "Zoe Marie"),
        ("patients", "last_name", "Smith\x00", "Smith"),
        ("patients", "email", "zoe@example.com\n", "zoe@example.com"),
        ("patients", "last_name", "x" * 300, "x" * 255),
    ],
    ids=["patient-name-crlf", "patient-last-name-nul", "patient-email-newline", "patient-name-too-long"],
)
def test_text_xero_would_refuse_is_cleaned_to_its_schema_not_quarantined(table, column, value, sent, day: Day) -> None:
    """Line breaks, control characters and over-long names are not bad records: Xero's own schema says how to send
    them (one line, cut to maxLength; issue 6.10), so the invoice goes on and the contact carries the cleaned text."""
    from decimal import Decimal

    from clinic_etl.mapping import Mapping
    from clinic_etl.xero.frames import to_xero
    from clinic_etl.xero.org import XeroOrg

    raw = copy.deepcopy(day.raw)
    patients = raw[table]
    patients.loc[patients["id"] == day.victim.patient, column] = value
    ledger, rejected = to_ledger(raw, WINDOW)
    assert rejected.empty, rejected.to_string()
    org = XeroOrg(
        accounts={"200": {"Type": "REVENUE"}, "090": {"Type": "BANK"}},
        tax_rates={"OUTPUT": Decimal(10), "EXEMPTOUTPUT": Decimal(0)},
    )
    documents, rejected = to_xero(ledger, Mapping(), org)
    assert rejected.empty, rejected.to_string()
    contact = documents["contacts"].set_index("contact_key").loc[f"cliniko:patient:{day.victim.patient}"]
    field = {"first_name": "FirstName", "last_name": "LastName", "email": "EmailAddress"}[column]
    assert contact[field] == sent and "\n" not in contact["Name"] and len(contact["Name"]) <= 255


@pytest.mark.parametrize(("change", "start"), [(drop("id"), "invoice without id"), (put("id", "INV-9"), "invoice INV")])
def test_an_invoice_served_without_a_usable_id_is_quarantined_and_the_day_goes_on(change, start, day: Day, practice):
    """On the wire, through the client and the extract (neither refuses the day, nor sends the bad id back)."""
    raw = extract_day(practice, on_wire("invoices", INV, change)(day.victim))
    ledger, rejected = to_ledger(raw, WINDOW)
    assert len(rejected) >= 1 and set(rejected["entity"]) == {"invoice"}
    assert all(reason.startswith(start) for reason in rejected["reason"]), rejected.to_string()
    assert_same_ledger(ledger, _expected_ledger(day.ledger, {day.victim.invoice}))
