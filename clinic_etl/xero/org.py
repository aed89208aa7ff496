"""What the target Xero organisation offers (accounts, tax types, tracking) and its period lock date, read once per
run, so mapping errors and locked periods are caught before anything is written."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from clinic_etl.ledger.money import to_decimal
from clinic_etl.xero.same_document import xero_day


@dataclass(frozen=True)
class XeroOrg:
    accounts: dict[str, dict] = field(default_factory=dict)  # Code -> Account (ACTIVE only)
    tax_rates: dict[str, Decimal] = field(default_factory=dict)  # TaxType -> effective rate (ACTIVE only)
    tracking: dict[str, set[str]] = field(default_factory=dict)  # category -> active option names
    lock_date: date | None = None  # nothing dated on or before it can be written (the later of Xero's two)

    @classmethod
    def from_api(
        cls, accounts: list[dict], tax_rates: list[dict], tracking: list[dict], organisation: dict | None = None
    ) -> XeroOrg:
        return cls(
            lock_date=lock_date_of(organisation or {}),
            accounts={a["Code"]: a for a in accounts if a.get("Code") and a.get("Status", "ACTIVE") == "ACTIVE"},
            tax_rates={
                t["TaxType"]: to_decimal(t.get("EffectiveRate", t.get("DisplayTaxRate", 0)))
                for t in tax_rates
                if t.get("Status", "ACTIVE") == "ACTIVE"
            },
            tracking={
                c["Name"]: {o["Name"] for o in c.get("Options") or [] if o.get("Status", "ACTIVE") == "ACTIVE"}
                for c in tracking
                if c.get("Status", "ACTIVE") == "ACTIVE"
            },
        )

    def accepts_payments(self, code: str) -> bool:
        account = self.accounts.get(code) or {}
        return account.get("Type") == "BANK" or bool(account.get("EnablePaymentsToAccount"))


def lock_date_of(organisation: dict) -> date | None:
    """The later of `PeriodLockDate` and `EndOfYearLockDate` (Microsoft JSON or ISO dates), or None."""
    found = [xero_day(organisation, f) for f in ("PeriodLockDate", "EndOfYearLockDate")]
    days = [date.fromisoformat(d) for d in found if d]
    return max(days) if days else None
