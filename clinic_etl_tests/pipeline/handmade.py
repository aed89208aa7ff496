"""A hand-made ledger (any source) loaded into the simulated Xero through `load_documents`, exactly as the load
asset calls it: the loader's behaviour without a source in the way."""

from __future__ import annotations

from decimal import Decimal

from clinic_etl.ledger.models import complete, ledger_frame
from clinic_etl.mapping import Mapping
from clinic_etl.xero.frames import to_xero
from clinic_etl.xero.load import load_documents
from clinic_etl.xero.org import XeroOrg

DAY, NEXT = "2026-10-14", "2026-10-15"
D = Decimal


def ledger(
    payments: list[tuple[str, str, str, str]],
    *,
    deleted: frozenset[str] = frozenset(),
    credit_notes: list[tuple[str, str, str, str]] = (),
    allocations: list[tuple[str, str, str, str, str]] = (),
    refunds: list[tuple[str, str, str, str]] = (),
    statuses: dict[str, str] | None = None,
    emails: dict[str, str] | None = None,
) -> dict:
    """Two invoices of 110.00 (10 % tax) to two contacts; `payments`: (id, invoice id, date, amount);
    `credit_notes`: (id, contact id, amount, status); `allocations`: (id, credit note id, invoice id, date, amount);
    `refunds`: (id, credit note id, date, amount); `statuses`: invoice id -> ledger status (default open)."""
    contacts = [
        {
            "contact_key": f"test:client:{i}",
            "source_id": str(i),
            "first_name": "Client",
            "last_name": f"Number {i}",
            "email": (emails or {}).get(str(i)),
        }
        for i in (1, 2)
    ]
    invoices, lines = [], []
    for i in (1, 2):
        key = f"test:bill:{i}"
        invoices.append(
            {
                "invoice_key": key,
                "source_id": str(i),
                "number": f"B-{i}",
                "issue_date": DAY,
                "contact_key": f"test:client:{i}",
                "business_id": None,
                "practitioner_id": None,
                "status": "deleted" if str(i) in deleted else (statuses or {}).get(str(i), "open"),
                "day": DAY,
                "total": D("110.00"),
                "tax_total": D("10.00"),
                "url": None,
            }
        )
        if str(i) not in deleted:
            lines.append(
                {
                    "invoice_key": key,
                    "line_no": 1,
                    "source_id": f"{i}1",
                    "description": "Advice",
                    "item_code": None,
                    "quantity": D("1"),
                    "unit_price": D("100.00"),
                    "tax_rate": D("10"),
                    "tax_name": "GST",
                    "discount": D("0"),
                    "total": D("110.00"),
                    "tax": D("10.00"),
                }
            )
    rows = [
        {
            "payment_key": f"test:allocation:{p}",
            "invoice_key": f"test:bill:{inv}",
            "date": on,
            "day": on,
            "amount": D(amount),
        }
        for p, inv, on, amount in payments
    ]
    notes = [
        {
            "credit_note_key": f"test:credit_memo:{n}",
            "source_id": n,
            "number": f"CM-{n}",
            "issue_date": DAY,
            "contact_key": f"test:client:{c}",
            "status": status,
            "day": DAY,
            "description": "Credit",
            "total": D(amount),
            "tax_total": D("0"),
        }
        for n, c, amount, status in credit_notes
    ]
    applied = [
        {
            "allocation_key": f"test:allocation:{a}",
            "credit_note_key": f"test:credit_memo:{n}",
            "invoice_key": f"test:bill:{inv}",
            "date": on,
            "day": DAY,
            "amount": D(amount),
        }
        for a, n, inv, on, amount in allocations
    ]
    paid_back = [
        {
            "refund_key": f"test:refund:{r}",
            "credit_note_key": f"test:credit_memo:{n}",
            "date": on,
            "day": DAY,
            "amount": D(amount),
        }
        for r, n, on, amount in refunds
    ]
    frames = {"contacts": contacts, "invoices": invoices, "lines": lines, "payments": rows, "credit_notes": notes}
    frames |= {"credit_allocations": applied, "refunds": paid_back}
    return complete({name: ledger_frame(name, r) for name, r in frames.items()})


def org_of(client) -> XeroOrg:
    """The organisation as the run reads it (accounts, tax rates, tracking, lock dates)."""
    return XeroOrg.from_api(
        client.get("Accounts")["Accounts"],
        client.get("TaxRates")["TaxRates"],
        client.get("TrackingCategories")["TrackingCategories"],
        (client.get("Organisation").get("Organisations") or [{}])[0],
    )


def loader(sandbox, mapping: Mapping | None = None, *, strict: bool = True):
    """(run, client, store): `run(ledger)` maps it with `mapping` and loads it; with `strict`, nothing may be held
    back (else `run.rejected` holds the last run's rejects)."""
    store, client = sandbox.store(), sandbox.xero()
    runs = iter(range(1, 100))
    chosen = mapping or Mapping()

    def run(frames: dict) -> dict[str, list[str]]:
        documents, rejected = to_xero(frames, chosen, org_of(client))
        assert rejected.empty or not strict, rejected.to_dict("records")
        run.rejected, run.documents = rejected, documents
        outcome = load_documents(
            client, store, documents, DAY, "AUD", run_id=f"run-{next(runs)}", send=chosen.send_invoices
        )
        return {a: sorted(outcome.loc[outcome["action"] == a, "key"]) for a in outcome["action"].unique()}

    return run, client, store


def paid_in_xero(client) -> dict[str, tuple[str, Decimal, list[tuple[str, Decimal]]]]:
    """InvoiceNumber -> (status, amount paid, live payments as (reference, amount))."""
    out = {}
    for inv in client.get_all("Invoices", "Invoices"):
        full = client.get(f"Invoices/{inv['InvoiceID']}")["Invoices"][0]
        payments = sorted((p.get("Reference", ""), D(str(p["Amount"]))) for p in full.get("Payments") or [])
        out[inv["InvoiceNumber"]] = (inv["Status"], D(str(inv["AmountPaid"])), payments)
    return out
