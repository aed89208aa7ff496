"""Clio raw frames -> the practice ledger (pure: the extract's frames and the run's window in, frames out).

The mapping of each record is in its own module: bills and line items (`bills`: states, the tax scheme, interest),
allocations (`allocations`: payments, credit allocations, trust), credit memos and refunds (`credits`), contacts
(`contacts`). Keys: `clio:bill:<id>` (invoices, their lines), `clio:contact:<id>`, `clio:allocation:<id>` (payments
and credit allocations), `clio:credit_memo:<id>`, `clio:refund:<bank transaction id>`; a record kept out of Xero by a
rule is listed in `excluded` under its own key (a trust request as `clio:bill:<id>`, rule `trust`, with its total).

Days: a record is synced for its own date (a bill's `issued_at`, an allocation's, memo's or refund's `date`) when
that is one of the window's days, else for the firm's local day of its latest change (`updated_at`, `voided_at`),
clamped to the window.

Nothing a record holds can fail the run: a malformed record is rejected with a reason naming it (`bill 1870245001:
total is not a decimal number ('abc')`, `allocation without id at position 3: ...`) and what to fix; names, e-mails
and descriptions never enter a reason. Because the ledger lists every live payment of each of its invoices (a payment
absent is taken off in Xero), a rejection carries what depends on it:
- a line item rejected, a payment allocation rejected, or the bill's client rejected or missing rejects the bill; so
  do its own problems (lines not adding up, a bill-level discount) and live allocations in the extract that do not
  add up to Clio's `due` less `balance` (an allocation missing from the extract);
- a bill rejected rejects its live allocations (payments and credit applications), each reason saying so;
- a credit-memo allocation rejected, the memo's contact rejected or missing, allocations over its amount, or a refund
  that may be its but cannot be told apart reject the memo; a memo rejected rejects its allocations and refunds.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pandas as pd

from clinic_etl.ledger.models import complete, ledger_frame
from clinic_etl.ledger.money import cents, to_decimal
from clinic_etl.ledger.quarantine import placed
from clinic_etl.partitions import SyncWindow
from clinic_etl.sources.clio import allocations as alloc
from clinic_etl.sources.clio.bills import (
    ISSUED,
    REMOVED,
    invoice_of,
    is_trust_request,
    item_problems,
    lines_of,
    money,
    status_of,
)
from clinic_etl.sources.clio.contacts import contact_of
from clinic_etl.sources.clio.contract import contract_failures
from clinic_etl.sources.clio.credits import credit_note_of, match_refunds, refund_amount
from clinic_etl.sources.clio.records import SOURCE, TRUST, in_window, key
from clinic_etl.sources.clio.schemas import ACCOUNT_TYPES
from clinic_etl.sources.clio.validated import ENTITIES, Extract, Problems

ZERO = Decimal(0)
MISSING_CONTACT = (
    "was not returned by Clio (deleted, merged, or hidden from the authorising user by Contacts Visibility)"
)
__all__ = ["SOURCE", "to_ledger"]


class Mapper:
    """The rules of the module docstring, applied to one extract."""

    def __init__(self, extract: Extract) -> None:
        self.x = extract
        self.problems = Problems()
        self.bills = extract.ids("bills")
        self.memos = extract.ids("credit_memos")
        self.contacts = extract.ids("contacts")
        self.allocations = extract.ids("allocations")
        self.refunds = extract.ids("refunds")
        self.accounts = {
            i: ACCOUNT_TYPES[a["type"].strip().casefold()] for i, a in extract.ids("bank_accounts").items()
        }
        self.bad = {entity: extract.schema_rejected(entity) for entity in ENTITIES.values()}
        self.trust_bills = {i for i, b in self.bills.items() if is_trust_request(b)}
        self.revenue = {i: b for i, b in self.bills.items() if i not in self.trust_bills}
        self.lines: dict[str, list[dict]] = {}
        self.fates: dict[str, alloc.Fate] = {}
        self.refund_memo: dict[str, str] = {}

    # ---- helpers
    def rejected(self, entity: str) -> set[str]:
        return set(self.bad[entity]) | self.problems.ids(entity)

    def reason(self, entity: str, record_id: str) -> str:
        if record_id in self.bad[entity]:
            return self.bad[entity][record_id]
        return self.problems.text(entity, record_id)

    def live_allocations(self) -> list[dict]:
        return [a for a in self.allocations.values() if not a.get("voided_at")]

    # ---- one pass over the records
    def check(self) -> None:
        self._check_contacts()
        self._check_items()
        self._check_bills()
        self._check_allocations()
        self._check_settlement()
        self._check_memos()

    def _contact_problem(self, contact_id: str, role: str) -> str | None:
        if contact_id in self.bad["contact"]:
            return f"its {role} {contact_id} was rejected ({self.bad['contact'][contact_id]})"
        if contact_id not in self.contacts:
            return f"its {role} {contact_id} {MISSING_CONTACT}"
        return None

    def _check_contacts(self) -> None:
        for i, bill in self.revenue.items():
            if problem := self._contact_problem(bill["client_id"], "client"):
                self.problems.add("bill", i, problem)
            if bill["issued_at"] is None and bill["state"] in ISSUED:
                self.problems.add("bill", i, f"issued_at is missing on a bill in state {bill['state']}")
        for i, memo in self.memos.items():
            if problem := self._contact_problem(memo["contact_id"], "contact"):
                self.problems.add("credit_memo", i, problem)

    def _check_items(self) -> None:
        raw_bills = set(self.x.days["bill"])
        self.items: dict[str, list[dict]] = defaultdict(list)
        for i, item in self.x.ids("line_items").items():
            bill = self.revenue.get(item["bill_id"])
            if item["bill_id"] not in raw_bills:
                self.problems.add("line_item", i, f"its bill {item['bill_id']} is not in the extract")
            elif bill is not None and bill["state"] not in REMOVED:
                for problem in item_problems(item, bill):
                    self.problems.add("line_item", i, problem)
                self.items[item["bill_id"]].append(item)
        for i in sorted(self.rejected("line_item")):
            bill_id = self.x.item_bill.get(i)
            if bill_id in self.revenue and self.revenue[bill_id]["state"] not in REMOVED:
                self.problems.add("bill", bill_id, f"its line item {i} was rejected ({self.reason('line_item', i)})")

    def _check_bills(self) -> None:
        for i, bill in self.revenue.items():
            if bill["state"] in REMOVED or ("bill", i) in self.problems.reasons:
                continue
            lines, problems = lines_of(bill, self.items.get(i, []))
            for problem in problems:
                self.problems.add("bill", i, problem)
            self.lines[i] = lines

    def _check_allocations(self) -> None:
        rejected_accounts = set(self.bad["bank_account"])
        for i, a in self.allocations.items():
            credit = a["parent_type"] == "CreditMemo"
            if credit and a["parent_id"] in self.bad["credit_memo"]:
                self.problems.add("allocation", i, f"its credit memo {a['parent_id']} was rejected")
                continue
            bill = self.bills.get(a["bill_id"])
            fate = alloc.fate_of(
                a,
                bill=bill,
                bill_status=status_of(bill) if bill is not None else None,
                trust_request=a["bill_id"] in self.trust_bills,
                memo=self.memos.get(a["parent_id"]) if credit else None,
                accounts=self.accounts,
                rejected_accounts=rejected_accounts,
            )
            self.fates[i] = fate
            if fate.problem:
                self.problems.add("allocation", i, fate.problem)
        self.cascade()

    def _check_settlement(self) -> None:
        """An issued bill's live allocations in the extract must add up to what Clio says is settled (due less
        balance): otherwise one is missing, and listing the bill would take its payment off in Xero."""
        applied: dict[str, Decimal] = defaultdict(Decimal)
        for a in self.live_allocations():
            applied[a["bill_id"]] += to_decimal(a["amount"])
        for i, bill in self.revenue.items():
            if bill["state"] not in ISSUED or ("bill", i) in self.problems.reasons:
                continue
            settled = money(bill["due"] if bill.get("due") is not None else bill["total"]) - money(bill["balance"])
            if applied.get(i, ZERO) != settled:
                self.problems.add(
                    "bill",
                    i,
                    f"its live allocations in the extract add up to {cents(applied.get(i, ZERO))} but due less balance"
                    f" is {cents(settled)}: an allocation is missing from the extract (or changed while it was read);"
                    " run the day again",
                )

    def _check_memos(self) -> None:
        applied: dict[str, Decimal] = defaultdict(Decimal)
        for a in self.live_allocations():
            if a["parent_type"] == "CreditMemo":
                applied[a["parent_id"]] += to_decimal(a["amount"])
        for i, memo in self.memos.items():
            if applied.get(i, ZERO) > to_decimal(memo["amount"]):
                self.problems.add(
                    "credit_memo", i, f"its live allocations apply {applied[i]}, more than its amount {memo['amount']}"
                )
        refunds = []
        for i, refund in self.refunds.items():
            account = refund["bank_account_id"]
            if account not in self.accounts:
                state = "was rejected" if account in self.bad["bank_account"] else "is not in the extract"
                self.problems.add(
                    "refund", i, f"its bank account {account} {state}: trust cannot be told from operating"
                )
            elif self.accounts[account] != TRUST:
                refunds.append(refund)
        # a refund that cannot be read or placed may be out of any memo of its contact: those memos would lack it
        for i in sorted(self.rejected("refund")):
            client = self.x.refund_client.get(i)
            for memo_id in sorted(m for m, memo in self.memos.items() if memo["contact_id"] == client):
                self.problems.add("credit_memo", memo_id, f"refund {i} of its contact was rejected and may be its")
        for i, match in match_refunds(refunds, self.memos, applied).items():
            refund = self.refunds[i]
            if match.memo_id is not None:
                self.refund_memo[i] = match.memo_id
            elif in_window(refund["date"], [refund["updated_at"]], self.x.window):
                self.problems.add("refund", i, match.problem or "it matches no credit memo")
                for memo_id in match.candidates:
                    self.problems.add("credit_memo", memo_id, f"refund {i} may be its but cannot be told apart")

    # ---- what a rejection takes with it (repeated until nothing more is rejected)
    def cascade(self) -> None:
        """Until nothing more is rejected: a payment rejected rejects its bill (its payments would be incomplete), a
        credit application rejected its credit memo; a bill rejected rejects its live allocations, a memo its live
        allocations and refunds. (A record rejected because of another never bounces back to it.)"""
        live = self.live_allocations()
        while True:
            before = sum(len(v) for v in self.problems.reasons.values())
            bills, memos = self.rejected("bill"), self.rejected("credit_memo")
            for i in sorted(self.rejected("allocation")):
                bill_id, parent_type, parent = self.x.allocation_parent.get(i, (None, None, None))
                if parent_type != "CreditMemo" and bill_id in self.revenue and bill_id not in bills:
                    self.problems.add(
                        "bill", bill_id, f"its allocation {i} was rejected ({self.reason('allocation', i)})"
                    )
                if parent_type != "Payment" and parent in self.memos and parent not in memos:
                    self.problems.add(
                        "credit_memo", parent, f"its allocation {i} was rejected ({self.reason('allocation', i)})"
                    )
            bills, memos = self.rejected("bill"), self.rejected("credit_memo")
            for a in live:
                if a["bill_id"] in bills:
                    self.problems.add("allocation", a["id"], f"its bill {a['bill_id']} was rejected")
                if a["parent_type"] == "CreditMemo" and a["parent_id"] in memos:
                    self.problems.add("allocation", a["id"], f"its credit memo {a['parent_id']} was rejected")
            for i, memo_id in self.refund_memo.items():
                if memo_id in memos:
                    self.problems.add("refund", i, f"its credit memo {memo_id} was rejected")
            if sum(len(v) for v in self.problems.reasons.values()) == before:
                return

    # ---- the ledger
    def ledger(self) -> dict[str, pd.DataFrame]:
        days, window = self.x.days, self.x.window
        bad_bills, bad_allocations = self.rejected("bill"), self.rejected("allocation")
        bad_memos, bad_refunds = self.rejected("credit_memo"), self.rejected("refund")
        invoices, lines, excluded = [], [], []
        for i, bill in self.bills.items():
            if i in bad_bills:
                continue
            if i in self.trust_bills:
                amount = None if bill["state"] in REMOVED else cents(money(bill["total"]))
                excluded.append(_excluded(key("bill", i), days["bill"][i], TRUST, amount))
            else:
                issued = bill["issued_at"] or window.local_date(bill["created_at"])
                invoices.append(invoice_of(bill, issued, days["bill"][i]))
                lines += self.lines.get(i, [])
        payments, credit_allocations = [], []
        for i, fate in self.fates.items():
            if i in bad_allocations or fate.kind in (alloc.VOIDED, alloc.CONTEXT):
                continue
            a = self.allocations[i]
            row = {"date": a["date"], "day": days["allocation"][i], "amount": cents(to_decimal(a["amount"]))}
            if fate.kind == alloc.EXCLUDED:
                excluded.append(_excluded(key("allocation", i), row["day"], fate.rule, row["amount"]))
            elif fate.kind == alloc.PAYMENT:
                payments.append({"payment_key": key("allocation", i), "invoice_key": key("bill", a["bill_id"]), **row})
            else:
                credit_allocations.append(
                    {
                        "allocation_key": key("allocation", i),
                        "credit_note_key": key("credit_memo", a["parent_id"]),
                        "invoice_key": key("bill", a["bill_id"]),
                        **row,
                    }
                )
        credit_notes = [
            credit_note_of(memo, days["credit_memo"][i]) for i, memo in self.memos.items() if i not in bad_memos
        ]
        refunds = []
        for i, refund in self.refunds.items():
            if i in bad_refunds:
                continue
            day = days["refund"][i]
            if self.accounts.get(refund["bank_account_id"]) == TRUST:
                excluded.append(_excluded(key("refund", i), day, TRUST, refund_amount(refund)))
            elif i in self.refund_memo:
                refunds.append(
                    {
                        "refund_key": key("refund", i),
                        "credit_note_key": key("credit_memo", self.refund_memo[i]),
                        "date": refund["date"],
                        "day": day,
                        "amount": refund_amount(refund),
                    }
                )
        used = {r["contact_key"] for r in invoices} | {r["contact_key"] for r in credit_notes}
        contacts = [contact_of(c) for i, c in self.contacts.items() if key("contact", i) in used]
        rows = {
            "contacts": contacts,
            "invoices": invoices,
            "lines": lines,
            "payments": payments,
            "credit_notes": credit_notes,
            "credit_allocations": credit_allocations,
            "refunds": refunds,
            "excluded": excluded,
        }
        return complete({name: ledger_frame(name, r) for name, r in rows.items()})

    def rejects(self) -> pd.DataFrame:
        rejected = pd.concat([self.x.schema_rejects, self.problems.frame()], ignore_index=True)
        return placed(rejected, self.x.days, self.x.window.first.isoformat())


def _excluded(record_key: str, day: str, rule: str | None, amount: Decimal | None) -> dict:
    return {"record_key": record_key, "day": day, "rule": rule, "amount": amount}


def to_ledger(raw: dict[str, pd.DataFrame], window: SyncWindow) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    mapper = Mapper(Extract.read(raw, window))
    mapper.check()
    for _ in range(len(mapper.bills) + len(mapper.allocations) + len(mapper.memos) + len(mapper.refunds) + 1):
        mapper.cascade()
        ledger, failures = contract_failures(mapper.ledger())
        if not failures:
            return ledger, mapper.rejects()
        for entity, record_id, reason in failures:
            mapper.problems.add(entity, record_id, reason)
    raise RuntimeError("the ledger contract check did not converge")  # unreachable: each pass rejects a record
