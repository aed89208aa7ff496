"""The context of one accounting request: its organisation (tenant), transaction, clock, query options and cached
settings."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from .serialize import parse_date
from .state import Tx

ORG_TZ = ZoneInfo("Australia/Sydney")  # Xero's AUSEASTERNSTANDARDTIME (with daylight saving)


class Ctx:
    """One request to one organisation (`tenant`, whose documents alone it sees): its transaction, clock, options and
    cached look-ups of the organisation's settings."""

    def __init__(self, tx: Tx, tenant: str, now: float, query: dict[str, str], method: str = "GET") -> None:
        self.tx, self.tenant, self.now, self.query, self.method = tx, tenant, now, query, method
        self.now_ms = int(now * 1000)
        self.unitdp = 4 if query.get("unitdp", "").strip() == "4" else 2
        self.summarize = query.get("summarizeErrors", "true").strip().lower() not in ("false", "0")
        self._accounts: list[dict[str, Any]] | None = None
        self._taxes: dict[str, dict[str, Any]] | None = None
        self._tracking: list[dict[str, Any]] | None = None
        self.cache: dict[str, Any] = {}

    def clear_cache(self) -> None:
        """Forget per-request look-ups of documents (after a write changed them)."""
        self.cache.clear()

    def today(self) -> date:
        return datetime.fromtimestamp(self.now, ORG_TZ).date()

    def org(self) -> dict[str, Any]:
        return self.tx.get("org", self.tenant, self.tenant) or {}

    def accounts(self) -> list[dict[str, Any]]:
        if self._accounts is None:
            self._accounts = self.tx.all("account", self.tenant)
        return self._accounts

    def account(self, code: str | None = None, account_id: str | None = None) -> dict[str, Any] | None:
        for acct in self.accounts():
            if (account_id and acct["AccountID"] == account_id.lower()) or (
                code is not None and acct["Code"].lower() == code.strip().lower()
            ):
                return acct
        return None

    def tax_rate(self, tax_type: str) -> dict[str, Any] | None:
        if self._taxes is None:
            self._taxes = {t["TaxType"].upper(): t for t in self.tx.all("taxrate", self.tenant)}
        return self._taxes.get(tax_type.strip().upper())

    def tracking(self) -> list[dict[str, Any]]:
        if self._tracking is None:
            self._tracking = self.tx.all("tracking", self.tenant)
        return self._tracking


def new_id() -> str:
    return str(uuid.uuid4())


def read_date(element: dict[str, Any], field: str, errors: list[str]) -> str | None:
    if field not in element:
        return None
    try:
        return parse_date(element[field]).isoformat()
    except ValueError as exc:
        errors.append(str(exc))
        return None
