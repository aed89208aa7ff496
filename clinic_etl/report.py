"""What the CLI prints: the closing table of a sync, the status of a month, the quarantine (ids, amounts and
reasons only: never a name or an e-mail)."""

from __future__ import annotations

from decimal import Decimal

from rich.console import Console
from rich.table import Table

from clinic_etl.run import SyncRun
from clinic_etl.store import QuarantineRecord


def verdict(day_reconciled: bool, mismatches: int, held: int, ran: bool, dry_run: bool = False) -> str:
    if dry_run:
        return f"[yellow]would hold {held}[/]" if held else "dry run: nothing sent"
    if not ran:
        return "[red]not reached[/]"
    if day_reconciled:
        return "[green]reconciled[/]"
    if held and not mismatches:
        return f"[yellow]{held} held in quarantine[/]"
    return f"[red]{mismatches} mismatch(es)[/]"


def sync_table(run: SyncRun, currency: str) -> Table:
    span = f"{run.first}" + (f" to {run.last} (one run)" if run.last != run.first else "")
    dry = " - DRY RUN: what a run would write (nothing was sent)" if run.dry_run else ""
    table = Table(title=f"clinic-etl sync {span}{dry}")
    money = f"would be in Xero ({currency})" if run.dry_run else f"in Xero ({currency})"
    for column in ("day", "invoices", "payments", "skipped", "quarantined", money, "held back"):
        table.add_column(column, justify="right" if column != "day" else "left")
    table.add_column("reconciliation")
    totals = {"invoices": 0, "payments": 0, "skipped": 0, "quarantined": 0}
    synced = held_back = Decimal(0)
    for d in run.days:
        written = d.written
        held_money = d.money("held_total")
        table.add_row(
            d.day,
            str(written["invoice"]),
            str(written["payment"]),
            str(d.skipped),
            str(d.quarantined),
            f"{d.in_xero:,.2f}",
            f"{held_money:,.2f}" if held_money else "",
            verdict(
                d.reconciled and run.result.success,
                int(d.reconciliation.get("mismatches", 0) or 0),
                d.quarantined,
                bool(d.reconciliation),
                run.dry_run,
            ),
        )
        totals = {
            "invoices": totals["invoices"] + written["invoice"],
            "payments": totals["payments"] + written["payment"],
            "skipped": totals["skipped"] + d.skipped,
            "quarantined": totals["quarantined"] + d.quarantined,
        }
        synced += d.in_xero
        held_back += held_money
    if len(run.days) > 1:
        table.add_section()
        table.add_row(
            "total",
            *(str(totals[k]) for k in ("invoices", "payments", "skipped", "quarantined")),
            f"{synced:,.2f}",
            f"{held_back:,.2f}" if held_back else "",
            ("dry run" if run.dry_run else "[green]all reconciled[/]")
            if run.reconciled
            else "[red]not all reconciled[/]",
        )
    return table


ENTITIES = (("contact", "contacts"), ("invoice", "invoices"), ("credit_note", "credit notes"), ("payment", "payments"))
ACTIONS = ("created", "updated", "adopted", "voided", "deleted", "reversed", "archived", "sent", "failed")


def tenant_lines(run: SyncRun) -> list[str]:
    """Per Xero organisation, what the run wrote (a dry run: would write), with the money of invoices and payments;
    shown for a dry run and whenever the mapping routes to several organisations."""
    plans = run.by_tenant
    if not plans or (len(plans) == 1 and not run.dry_run):
        return []
    verb = "would write" if run.dry_run else "wrote"
    lines = []
    for name, plan in plans.items():
        parts = []
        for entity, label in ENTITIES:
            done = []
            for action in ACTIONS:
                n = int(plan.get(f"{entity}_{action}", 0) or 0)
                if n:
                    amount = plan.get(f"{entity}_{action}_amount")
                    done.append(f"{n} {action}" + (f" ({Decimal(str(amount)):,.2f})" if amount else ""))
            if done:
                parts.append(f"{label} " + ", ".join(done))
        currency = plan.get("currency", "")
        lines.append(f"Xero {name} ({currency}) {verb}: " + ("; ".join(parts) if parts else "nothing"))
    return lines


def print_sync(console: Console, run: SyncRun, currency: str, held: list[QuarantineRecord]) -> None:
    console.print(sync_table(run, currency))
    for line in tenant_lines(run):
        console.print(line, markup=False, highlight=False)
    excluded = sum(d.excluded for d in run.days)
    console.print(
        f"invoices are written in Xero's batches across the days; {run.source_calls} source calls. "
        "skipped: deleted at the source before they were ever synced (nothing to void)"
        + (
            f", or kept out by a rule ({excluded}: trust money and the like; ids and amounts in the UI)."
            if excluded
            else "."
        )
    )
    rules: dict[str, list] = {}
    for day in run.days:
        for rule, figures in day.excluded_by_rule.items():
            entry = rules.setdefault(rule, [0, Decimal(0), []])
            entry[0] += int(figures.get("records", 0))
            entry[1] += Decimal(str(figures.get("amount", "0")))
            entry[2] += list(figures.get("ids", []))
    for rule, (count, amount, ids) in sorted(rules.items()):
        shown = ", ".join(ids[:6]) + (", ..." if count > 6 else "")
        console.print(f"kept out by rule {rule}: {count} ({amount:,.2f} {currency}): {shown}", highlight=False)
    for line in engage_lines(run, currency):
        console.print(line, markup=False, highlight=False)
    for step, kind, message in run.failures[:5]:
        console.print(f"[red]{step} failed[/] ({kind}): {message}", markup=True, highlight=False)
    if held:
        console.print(f"waiting in quarantine ({len(held)}; `clinic-etl quarantine list` shows all):")
        for q in held[:5]:
            console.print(f"  {q.partition_key} {q.source}:{q.entity}:{q.source_id}: {q.reason}", highlight=False)


def quarantine_table(rows: list[QuarantineRecord]) -> Table:
    table = Table(title=f"{len(rows)} record(s) waiting in quarantine")
    for column in ("day", "record", "reason", "first seen"):
        table.add_column(column, overflow="fold")
    for q in rows:
        table.add_row(
            q.partition_key, f"{q.source}:{q.entity}:{q.source_id}", q.reason, f"{q.first_seen:%Y-%m-%d %H:%M}"
        )
    return table


def engage_lines(run: SyncRun, currency: str) -> list[str]:
    """One line per outbound system the mapping file turned on (counts and money only)."""
    lines = []
    ghl = run.engage.get("gohighlevel_onboarding")
    if ghl is not None:
        n = lambda key: int(ghl.get(key, 0) or 0)  # noqa: E731
        lines.append(
            f"GoHighLevel: {n('new_patients')} patient(s) booked a first appointment; {n('created')} contact(s) "
            f"created, {n('matched')} matched, {n('tagged')} tagged, {n('enrolled')} added to the workflow, "
            f"{n('updated')} updated; not sent: {n('declined')} without consent, {n('skipped')} skipped."
        )
    chimp = run.engage.get("mailchimp_follow_ups")
    if chimp is not None:
        m = lambda key: int(chimp.get(key, 0) or 0)  # noqa: E731
        total = Decimal(str(chimp.get("overdue_total", "0") or "0"))
        lines.append(
            f"Mailchimp (as of {chimp.get('as_of', run.last)}): {m('overdue_invoices')} overdue invoice(s), "
            f"{currency} {total:,.2f}; {m('followed_up')} followed up, {m('tagged')} debtor(s) tagged, "
            f"{m('untagged')} untagged (paid); {m('skipped')} skipped, {m('failed')} to retry."
        )
    return lines
