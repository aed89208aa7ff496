"""`clinic-etl`: sync a day or a range of days into Xero, see where a month stands, work the quarantine, serve the
sandbox APIs.

Exit codes (for schedulers): 0 every day reconciled; 1 money held back (quarantine, refused writes, a
reconciliation difference) or not proven; 2 bad input or configuration, found before any API call; 3 an outage
(the source or Xero unreachable, or credentials refused): fix that, then re-run the same days.
"""

from __future__ import annotations

import calendar
import functools
import sys
import traceback
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console

from clinic_etl.mapping import MappingError
from clinic_etl.settings import Settings, SettingsError

if TYPE_CHECKING:
    from clinic_etl.store import StateStore

SANDBOX_DAYS = ("2026-09-28", "2026-11-06")
ENVIRONMENT = """\b
Environment (all optional; see the README):
  CLINIC_ETL_SOURCE            sandbox (default: built-in simulators), cliniko, clio, or clio-sandbox (the
                               built-in Clio law firm, with the built-in Xero)
  CLINIC_ETL_TIMEZONE          the practice's IANA zone (Australia/Sydney; America/New_York for clio-sandbox)
  CLINIC_ETL_START_DATE        first day that can be synced (2025-01-01; 2026-09-28 for clio-sandbox)
  CLINIC_ETL_DATABASE_URL      state store: sqlite:///path or postgresql+psycopg://...
  CLINIC_ETL_CONFIG            the mapping YAML (accounts, taxes, tracking, filters; clio-sandbox has its own)
  CLINIC_ETL_SECRET_KEY        Fernet key for credentials at rest (needed with XERO_REFRESH_TOKEN)
  CLINIKO_API_KEY, CLINIKO_BASE_URL
  CLIO_CLIENT_ID, CLIO_CLIENT_SECRET, CLIO_REFRESH_TOKEN   a Clio Manage app and its refresh token (source clio)
  CLIO_BASE_URL                the firm's Clio region (https://app.clio.com; eu., ca., au.app.clio.com)
  XERO_CLIENT_ID, XERO_CLIENT_SECRET, XERO_REFRESH_TOKEN, XERO_TENANT_ID, XERO_API_URL, XERO_IDENTITY_URL
  GHL_TOKEN, GHL_LOCATION_ID, GHL_BASE_URL              new patients into GoHighLevel (mapping: gohighlevel)
  MAILCHIMP_API_KEY, MAILCHIMP_AUDIENCE_ID, MAILCHIMP_BASE_URL   overdue follow-ups (mapping: mailchimp)
  CLINIC_ETL_XERO_CALLS_PER_DAY  clinic_etl's share of Xero's 5,000 calls a day (4800): a run stops before it
  CLINIC_ETL_CALL_BUDGET_URL   the call budgets in redis://... or postgresql://... (several machines)
  CLINIC_ETL_ALERT_WEBHOOK, CLINIC_ETL_ALERT_SMTP_HOST/_PORT/_TLS/_USER/_PASSWORD/_FROM/_TO, CLINIC_ETL_ALERT_UI_URL
                               alerts of failed runs and checks (Dagster sensors; off unless set)
  DAGSTER_HOME                 keeps runs, the state store and the sandbox's Xero between sessions
"""
EXAMPLES = f"""\b
Examples (the sandbox practice has invoices from {SANDBOX_DAYS[0]} to {SANDBOX_DAYS[1]}):
  clinic-etl sync 2026-10-14
  clinic-etl sync 2026-10-01 --until 2026-10-31
  clinic-etl sync 2026-10-14 --dry-run
  clinic-etl status --month 2026-10
  clinic-etl quarantine list
"""

WIDTH = None if sys.stdout.isatty() else 120  # a pipe or a log file gets the whole table, not 80 columns
console = Console(highlight=False, width=WIDTH)
errors = Console(stderr=True, highlight=False, soft_wrap=True)


class InputError(ValueError):
    """A bad argument: one line naming it and the fix (exit 2)."""


class OutageError(RuntimeError):
    """Something the run needs cannot be reached: one line saying what and what to do (exit 3)."""


def open_store(config: Settings) -> StateStore:
    """The state store, opened (and migrated) before any API call, or one line on why it cannot be."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError

    from clinic_etl.store import StateStore

    url = make_url(config.store_url).render_as_string(hide_password=True)
    try:
        return StateStore.open(config.store_url)
    except OperationalError as error:
        first = str(error.orig or error).strip().splitlines()[0]
        if "does not exist" in first:
            raise InputError(f"CLINIC_ETL_DATABASE_URL={url}: {first}: create the database or fix the URL") from None
        raise OutageError(f"the state store at CLINIC_ETL_DATABASE_URL={url} cannot be reached: {first}") from None


def guarded(command: Callable[..., int]) -> Callable[..., None]:
    """One line and an exit code for every known failure; a traceback only with --debug."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        debug = click.get_current_context().find_root().params.get("debug", False)
        try:
            code = command(*args, **kwargs)
        except (SettingsError, MappingError, InputError) as error:
            errors.print(f"clinic-etl: {error}", markup=False)
            code = 2
        except OutageError as error:
            errors.print(f"clinic-etl: {error}; fix that, then run the same command again", markup=False)
            code = 3
        except Exception as error:  # noqa: BLE001 - the last line of defence: one line, not a stack
            if debug:
                traceback.print_exc()
            errors.print(f"clinic-etl: {type(error).__name__}: {error} (run with --debug for details)", markup=False)
            code = 1
        sys.exit(code)

    return run


def settings() -> Settings:
    return Settings.from_env()


def parse_day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{name} {value!r} is not a day: use YYYY-MM-DD, e.g. 2026-10-14") from None


def check_days(config: Settings, first: date, last: date) -> None:
    if last < first:
        raise InputError(f"--until {last} is before DAY {first}: give the range's first day, then its last")
    yesterday = datetime.now(config.zone).date() - timedelta(days=1)
    for day, name in ((first, "DAY"), (last, "--until")):
        if not config.start_date <= day <= yesterday:
            raise InputError(
                f"{name} {day} is not a day that can be synced: days run from CLINIC_ETL_START_DATE "
                f"({config.start_date}) to yesterday ({yesterday}, {config.timezone}); a day is synced once it is over"
            )


@click.group(epilog=ENVIRONMENT + "\n" + EXAMPLES, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Print a traceback for unexpected errors.")
def main(debug: bool) -> None:
    """Keep Xero in step with the practice's system, to the cent: sync days, check them, work the quarantine."""


@main.command(epilog=EXAMPLES)
@click.argument("day")
@click.option("--until", help="Last day of a range (inclusive): the range is one run (a single-run backfill).")
@click.option("--dry-run", is_flag=True, help="Read the source and Xero and show what would be written; send nothing.")
@guarded
def sync(day: str, until: str | None, dry_run: bool = False) -> int:
    """Sync DAY (YYYY-MM-DD, the practice's local day) or DAY..UNTIL into Xero and reconcile each day."""
    from clinic_etl.mapping import load_mapping
    from clinic_etl.report import print_sync
    from clinic_etl.run import STAGES, run_sync

    config = settings()
    mapping = load_mapping(config.config_path)  # validated before any API call
    first = parse_day(day, "DAY")
    last = parse_day(until, "--until") if until else first
    check_days(config, first, last)
    open_store(config).dispose()  # reachable and migrated, before any API call
    with console.status("starting") as status:

        def progress(stage: str, state: str) -> None:
            n = STAGES.index(stage) + 1 if stage in STAGES else 0
            status.update(f"[{n}/{len(STAGES)}] {stage} {state}")
            if state != "started":
                console.print(f"  {stage} {state}", style="red" if state == "failed" else "dim")

        run = run_sync(config, first.isoformat(), last.isoformat(), progress, dry_run=dry_run)
    days = {d.day for d in run.days}
    with open_store(config) as store:
        held = [q for q in store.open_quarantine() if q.partition_key in days]
    print_sync(console, run, mapping.currency, held)
    if run.exit_code == 3:
        errors.print("clinic-etl: an outage stopped the run: fix the connection or credentials, then run it again")
    elif run.exit_code == 2:
        errors.print("clinic-etl: the mapping file must change before this range can sync (see above)")
    elif run.exit_code == 1:
        errors.print("clinic-etl: not every day reconciled: money is held back or not proven (see above)")
    return run.exit_code


@main.command(epilog=EXAMPLES)
@click.option("--month", help="YYYY-MM (default: this month).")
@guarded
def status(month: str | None) -> int:
    """Each day of a month: records in Xero, waiting in quarantine, the last run and its reconciliation."""
    import dagster as dg
    from rich.table import Table

    from clinic_etl.status import month_status

    config = settings()
    try:
        year, number = (int(p) for p in (month or date.today().strftime("%Y-%m")).split("-"))
        days = [date(year, number, d).isoformat() for d in range(1, calendar.monthrange(year, number)[1] + 1)]
    except ValueError:
        raise InputError(f"--month {month!r} is not a month: use YYYY-MM, e.g. 2026-10") from None
    instance = dg.DagsterInstance.get() if config.dagster_home else None
    with open_store(config) as store:
        rows = month_status(store, instance, days)
    table = Table(title=f"clinic-etl status {month or days[0][:7]}")
    for column in ("day", "contacts", "invoices", "payments", "quarantined", "last run", "reconciliation"):
        table.add_column(column)
    for r in rows:
        verdict = {True: "[green]reconciled[/]", False: "[red]not reconciled[/]", None: ""}[r.reconciled]
        table.add_row(
            r.day,
            *(str(r.synced[e]) for e in ("contact", "invoice", "payment")),
            str(r.quarantined),
            r.last_run or "",
            verdict,
        )
    console.print(table)
    if instance is None:
        console.print("runs are not kept without DAGSTER_HOME: the last run and reconciliation columns stay empty")
    return 0


@main.group()
def quarantine() -> None:
    """Records held back with a reason (ids and reasons only)."""


@quarantine.command("list")
@guarded
def quarantine_list() -> int:
    """Every record waiting in quarantine."""
    from clinic_etl.report import quarantine_table

    with open_store(settings()) as store:
        console.print(quarantine_table(store.open_quarantine()))
    return 0


@quarantine.command("show")
@click.argument("record")
@guarded
def quarantine_show(record: str) -> int:
    """A record's reason: RECORD is its id or its key (e.g. cliniko:invoice:20444)."""
    from clinic_etl.report import quarantine_table

    with open_store(settings()) as store:
        rows = [q for q in store.open_quarantine() if record in (q.source_id, f"{q.source}:{q.entity}:{q.source_id}")]
    if not rows:
        raise InputError(f"no record {record!r} waits in quarantine: `clinic-etl quarantine list` shows them")
    console.print(quarantine_table(rows))
    return 0


@quarantine.command("retry")
@guarded
def quarantine_retry() -> int:
    """Sync again the days that have records waiting (after the source or the mapping was fixed)."""

    with open_store(settings()) as store:
        days = sorted({q.partition_key for q in store.open_quarantine()})
    if not days:
        console.print("nothing waits in quarantine")
        return 0
    return click.get_current_context().invoke(sync, day=days[0], until=days[-1] if len(days) > 1 else None)


@main.group()
def sandbox() -> None:
    """The built-in Cliniko and Xero simulators."""


@sandbox.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=int)
@click.option("--xero-state", help="SQLite file of the simulated Xero (default: under DAGSTER_HOME).")
@click.option(
    "--organisations",
    default=1,
    show_default=True,
    type=click.IntRange(1, 2),
    help="Xero organisations the practice's app is connected to (2 for a mapping with two tenants).",
)
@guarded
def sandbox_serve(host: str, port: int, xero_state: str | None, organisations: int) -> int:
    """Serve both simulators over HTTP on loopback and print the variables that point clinic_etl at them."""
    from clinic_etl.sandbox.serve import serve

    serve(host, port, xero_state or settings().state_dir / "sandbox" / "xero.sqlite", organisations)
    return 0


@main.command()
@click.option("--quick", is_flag=True, help="A smoke run in well under a minute: 3 days, a smaller large clinic.")
@click.option(
    "--scale",
    type=float,
    help="How many times faster than real time the rate-limit windows run [60; 600 with --quick].",
)
@click.option("--lines", type=int, help="Invoice lines for the transform throughput [1,000,000; 20,000 with --quick].")
@click.option("--real-speed", is_flag=True, help="Also the large clinic's month backfill at real speed (~6 min more).")
@guarded
def bench(quick: bool, scale: float | None, lines: int | None, real_speed: bool = False) -> int:
    """Measure the sync on the built-in simulators (Xero's and Cliniko's limits enforced, time-scaled): Xero calls
    per invoice, the per-record comparison, wall time against the rate-limit bound, throughput and memory."""
    from clinic_etl.bench.command import Options, run

    if scale is not None and not 1 <= scale <= 100_000:
        raise InputError(f"--scale {scale:g} is out of range: give 1 (real time) to 100000, e.g. --scale 60")
    if lines is not None and lines < 1_000:
        raise InputError(f"--lines {lines} is too few to measure: give at least 1000, e.g. --lines 1000000")
    printed: list[str] = []
    with console.status("bench: starting") as status:
        code = run(Options(quick, scale, lines, real_speed), printed.append, lambda n: status.update(f"bench: {n}"))
    for text in printed:
        console.print(text, markup=False, soft_wrap=True)
    return code
