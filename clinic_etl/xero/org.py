"""What the target Xero organisation offers (accounts, tax types, tracking), read once per run, so mapping
errors are caught before anything is written."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from clinic_etl.ledger.money import to_decimal


@dataclass(frozen=True)
class XeroOrg:
    accounts: dict[str, dict] = field(default_factory=dict)  # Code -> Account (ACTIVE only)
    tax_rates: dict[str, Decimal] = field(default_factory=dict)  # TaxType -> effective rate (ACTIVE only)
    tracking: dict[str, set[str]] = field(default_factory=dict)  # category -> active option names

    @classmethod
    def from_api(cls, accounts: list[dict], tax_rates: list[dict], tracking: list[dict]) -> XeroOrg:
        return cls(
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
