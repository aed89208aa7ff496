"""Several call budgets held together by one client: GoHighLevel limits a location to 100 requests per 10 seconds and
200,000 a day (FACTS §7), so its client holds a 10-second window and a rolling-day window, both `CallBudget`s (shared
by every process on the machine through the budget file)."""

from __future__ import annotations

from clinic_etl.http.limits import CallBudget


class CallBudgets:
    """A call goes out when every budget has room for it (each blocks until it has)."""

    def __init__(self, *budgets: CallBudget) -> None:
        self.budgets = budgets

    def acquire(self, key: str) -> None:
        for budget in self.budgets:
            budget.acquire(key)
