"""Businesses routed to Xero organisations (`tenants:` in the mapping): each organisation gets its invoices with
their lines and payments, the contacts it holds a document of (a patient of two locations in two organisations is a
contact in each), credit notes where they are applied, and per-tenant overrides of the mapping."""

from decimal import Decimal

import pytest

from clinic_etl.ledger.models import complete, ledger_frame
from clinic_etl.mapping import Mapping, MappingError, load_mapping
from clinic_etl.xero.tenants import DEFAULT, organisations, route

D = Decimal
DAY = "2026-10-14"
MAPPING = Mapping.model_validate(
    {
        "invoice_number_prefix": "CLK-",
        "tenants": [
            {"name": "sydney", "tenant_id": "t-syd", "businesses": ["1"], "accounts": {"revenue": "260"}},
            {"name": "rest", "tenant_id": "t-rest", "invoice_number_prefix": "MEL-"},
        ],
    }
)


def invoice(n: int, business: str | None, patient: int) -> dict:
    return {
        "invoice_key": f"cliniko:invoice:{n}",
        "source_id": str(n),
        "number": str(n),
        "issue_date": DAY,
        "contact_key": f"cliniko:patient:{patient}",
        "business_id": business,
        "practitioner_id": None,
        "status": "open",
        "day": DAY,
        "total": D("110.00"),
        "tax_total": D("10.00"),
        "url": None,
        "bill_to": None,
    }


def the_ledger() -> dict:
    contacts = [{"contact_key": f"cliniko:patient:{p}", "source_id": str(p), "archived": p == 9} for p in (1, 2, 9)]
    invoices = [invoice(1, "1", 1), invoice(2, "2", 1), invoice(3, None, 2)]
    lines = [
        {"invoice_key": i["invoice_key"], "line_no": 1, "source_id": i["source_id"], "description": "Consult"}
        for i in invoices
    ]
    payments = [
        {"payment_key": "cliniko:payment:1", "invoice_key": "cliniko:invoice:1", "date": DAY, "day": DAY, "amount": 1},
        {"payment_key": "cliniko:payment:2", "invoice_key": "cliniko:invoice:2", "date": DAY, "day": DAY, "amount": 1},
    ]
    notes = [
        {"credit_note_key": "clio:credit_memo:7", "contact_key": "cliniko:patient:2", "day": DAY, "number": "7"},
        {"credit_note_key": "clio:credit_memo:8", "contact_key": "cliniko:patient:1", "day": DAY, "number": "8"},
    ]
    allocations = [
        {
            "allocation_key": "clio:allocation:1",
            "credit_note_key": "clio:credit_memo:8",
            "invoice_key": "cliniko:invoice:1",
            "date": DAY,
            "day": DAY,
            "amount": D(5),
        }
    ]
    excluded = [{"record_key": "cliniko:invoice:1", "day": DAY, "rule": "zero_total", "amount": None}]
    frames = {"contacts": contacts, "invoices": invoices, "lines": lines, "payments": payments}
    frames |= {"credit_notes": notes, "credit_allocations": allocations, "excluded": excluded}
    return complete({name: ledger_frame(name, rows) for name, rows in frames.items()})


def keys(frame, column: str) -> set[str]:
    return set(frame[column])


def test_each_business_goes_to_its_organisation_with_its_lines_payments_and_contacts():
    parts = route(the_ledger(), MAPPING)
    syd, rest = parts["sydney"], parts["rest"]
    assert keys(syd["invoices"], "invoice_key") == {"cliniko:invoice:1"}
    assert keys(rest["invoices"], "invoice_key") == {"cliniko:invoice:2", "cliniko:invoice:3"}  # the catch-all
    assert keys(syd["lines"], "invoice_key") == {"cliniko:invoice:1"}
    assert keys(rest["payments"], "payment_key") == {"cliniko:payment:2"}
    # patient 1 has an invoice in each: a contact in each; the archived patient 9 (no document) goes to both
    assert keys(syd["contacts"], "contact_key") == {"cliniko:patient:1", "cliniko:patient:9"}
    assert keys(rest["contacts"], "contact_key") == {"cliniko:patient:1", "cliniko:patient:2", "cliniko:patient:9"}
    # a credit note goes where it is applied, else where its contact's invoices go
    assert keys(syd["credit_notes"], "credit_note_key") == {"clio:credit_memo:8"}
    assert keys(syd["credit_allocations"], "allocation_key") == {"clio:allocation:1"}
    assert keys(rest["credit_notes"], "credit_note_key") == {"clio:credit_memo:7"}
    assert keys(syd["excluded"], "record_key") == {"cliniko:invoice:1"} and rest["excluded"].empty
    total = sum(len(p["invoices"]) for p in parts.values())
    assert total == len(the_ledger()["invoices"])  # nothing lost, nothing doubled


def test_a_tenant_overrides_the_top_level_keys_it_sets_and_inherits_the_rest():
    syd, rest = organisations(MAPPING)
    assert (syd.name, syd.tenant_id, syd.mapping.accounts.revenue) == ("sydney", "t-syd", "260")
    assert syd.mapping.invoice_number_prefix == "CLK-" and rest.mapping.invoice_number_prefix == "MEL-"
    assert rest.mapping.accounts.revenue == "200" and not syd.mapping.tenants


def test_without_tenants_there_is_one_organisation_of_the_resource():
    only = Mapping()
    assert [(o.name, o.tenant_id) for o in organisations(only)] == [(DEFAULT, None)]
    ledger = the_ledger()
    assert route(ledger, only)[DEFAULT] is ledger


@pytest.mark.parametrize(
    ("tenants", "says"),
    [
        ('[{name: a, tenant_id: x, businesses: ["1"]}, {name: b, tenant_id: y, businesses: ["1"]}]', "business 1"),
        ("[{name: a, tenant_id: x}, {name: b, tenant_id: y}]", "at most one tenant"),
        ('[{name: a, tenant_id: x}, {name: a, tenant_id: y, businesses: ["2"]}]', "each name"),
        ("[{name: A b, tenant_id: x}]", "tenants.0.name"),
        ("[{name: a}]", "tenants.0.tenant_id"),
    ],
)
def test_a_bad_tenants_section_fails_at_load_naming_the_key(tmp_path, tenants, says):
    path = tmp_path / "mapping.yaml"
    path.write_text(f"tenants: {tenants}\n", encoding="utf-8")
    with pytest.raises(MappingError, match=says):
        load_mapping(path)


def test_a_refusal_by_one_organisation_is_not_lifted_by_another():
    import pandas as pd

    from clinic_etl.assets.load import failures, settled_by_source

    outcomes = pd.DataFrame(
        {  # a patient seen at both businesses: one organisation writes the contact, the other refuses it
            "key": ["cliniko:patient:5", "cliniko:patient:5", "cliniko:invoice:9", "clio:contact:3"],
            "action": ["created", "failed", "unchanged", "failed"],
            "day": ["2026-10-14"] * 4,
            "reason": ["", "ValidationException: Email address must be valid", "", "refused"],
        }
    )
    assert settled_by_source(outcomes) == {"cliniko": ["cliniko:invoice:9"]}
    assert sorted(failures(outcomes)["source_id"]) == ["cliniko:patient:5", "clio:contact:3"]
