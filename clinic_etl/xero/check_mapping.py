"""Before any write: every Xero account, tax type and tracking option the mapping file names exists in the
organisation (pure). A mapping that names one the organisation lacks stops the run before anything is written, with
one line per key naming it and the fix; what only the data reveals (a source tax with no mapping, a business with no
tracking option) is still quarantined per record by the transform."""

from __future__ import annotations

from collections.abc import Iterator

from clinic_etl.mapping import Mapping
from clinic_etl.xero.org import XeroOrg


class MappingMismatch(ValueError):
    """The mapping names what the Xero organisation does not have."""


def _accounts(mapping: Mapping) -> Iterator[tuple[str, str]]:
    a = mapping.accounts
    yield "accounts.revenue", a.revenue
    if a.credit_notes:
        yield "accounts.credit_notes", a.credit_notes
    if a.bad_debts:
        yield "accounts.bad_debts", a.bad_debts
    for name in ("by_business", "by_practitioner", "by_item_code"):
        for key, code in getattr(a, name).items():
            yield f"accounts.{name}[{key!r}]", code


def _taxes(mapping: Mapping) -> Iterator[tuple[str, str]]:
    t = mapping.taxes
    yield "taxes.taxable", t.taxable
    yield "taxes.exempt", t.exempt
    for name, tax_type in t.by_name.items():
        yield f"taxes.by_name[{name!r}]", tax_type


def problems(mapping: Mapping, org: XeroOrg) -> list[str]:
    """One line per key of `mapping` that names an account, tax type, tracking category or option `org` lacks."""
    out = []
    for key, code in _accounts(mapping):
        if code not in org.accounts:
            out.append(f"{key}: account code {code!r} is not an active account in Xero: use one of the chart's codes")
    payments = mapping.accounts.payments
    if payments not in org.accounts:
        out.append(f"accounts.payments: account code {payments!r} is not an active account in Xero")
    elif not org.accepts_payments(payments):
        out.append(
            f"accounts.payments: account {payments!r} takes no payments: use a bank account, or enable payments to it"
        )
    for key, tax_type in _taxes(mapping):
        if tax_type not in org.tax_rates:
            out.append(f"{key}: TaxType {tax_type!r} is not an active tax rate in Xero: use one of its TaxTypes")
    if mapping.taxes.taxable in org.tax_rates and org.tax_rates[mapping.taxes.taxable] != mapping.taxes.taxable_rate:
        rate = org.tax_rates[mapping.taxes.taxable]
        out.append(f"taxes.taxable_rate: {mapping.taxes.taxable_rate}% but Xero's {mapping.taxes.taxable} is {rate}%")
    for i, tracking in enumerate(mapping.tracking):
        if tracking.name not in org.tracking:
            out.append(f"tracking[{i}].name: Xero has no active tracking category {tracking.name!r}: create it in Xero")
            continue
        for source_id, option in tracking.options.items():
            if option not in org.tracking[tracking.name]:
                out.append(
                    f"tracking[{i}].options[{source_id!r}]: {tracking.name!r} has no active option {option!r} in"
                    " Xero: add it there or fix the name"
                )
    return out


def check(mapping: Mapping, org: XeroOrg, organisation: str) -> None:
    """Raise MappingMismatch naming every problem of `mapping` against `org` (the organisation's name in the run)."""
    found = problems(mapping, org)
    if found:
        where = "" if organisation == "default" else f" (tenant {organisation})"
        raise MappingMismatch(
            f"the mapping file names what Xero{where} does not have; nothing was written. Fix CLINIC_ETL_CONFIG: "
            + "; ".join(found)
        )
