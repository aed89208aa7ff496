"""What the resilience tests (and `scripts/soak.py`) share: a run of the real sync graph in a DAGSTER_HOME, the
practice it serves (edited or not), the write points, and a normalized snapshot of what the simulated Xero holds.

A run here is what `clinic_etl.run.run_sync` runs (the deployment's resources, its state store under
`$DAGSTER_HOME/clinic-etl/`, the Dagster instance of that DAGSTER_HOME), built with `dagster.materialize` so that
the Cliniko practice and Xero's idempotency window can be chosen: `run_sync` reads both from the environment,
which has no variable for either.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import random
import re
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import dagster as dg
import httpx

from clinic_etl import deployment
from clinic_etl.assets import sync_assets
from clinic_etl.partitions import daily_partitions
from clinic_etl.sandbox.cliniko import build_practice, create_app
from clinic_etl.sandbox.cliniko.money import invoice_amounts, item_amounts
from clinic_etl.sandbox.resources import SandboxClinikoResource, SandboxXeroResource
from clinic_etl.sandbox.transport import InProcessTransport
from clinic_etl.sandbox.xero import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from clinic_etl.sandbox.xero import create_app as xero_app
from clinic_etl.settings import Settings
from clinic_etl.store.store import StateStore
from clinic_etl.xero.auth import XeroAuth
from clinic_etl.xero.client import XeroClient

KILL_FIRST, KILL_LATER = "2026-10-14", "2026-10-16"  # the kill test's two days (busy ones, with payments)
WINDOW_S = 360.0  # the simulated Xero's Idempotency-Key window (Xero's ~6 minutes)
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
SYDNEY = dt.timezone(dt.timedelta(hours=11))  # October-November 2026: daylight saving time
READER_MINUTE_LIMIT = 1_000_000
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


# ---- homes and runs ---------------------------------------------------------------------------------------------
def prepare_home(home: str | os.PathLike[str]) -> Path:
    """A DAGSTER_HOME with telemetry off (no banner, no telemetry files)."""
    path = Path(home)
    path.mkdir(parents=True, exist_ok=True)
    config = path / "dagster.yaml"
    if not config.exists():
        config.write_text("telemetry:\n  enabled: false\n")
    return path


def settings_for(home: str | os.PathLike[str], budgets: bool = True) -> Settings:
    """The settings of this DAGSTER_HOME (nothing else from the environment); without `budgets`, no client-side
    call budget (none of pyrate-limiter's threads)."""
    env = {"DAGSTER_HOME": str(home)}
    if not budgets:
        env.update(CLINIC_ETL_XERO_CALLS_PER_MINUTE="0", CLINIC_ETL_CLINIKO_CALLS_PER_MINUTE="0")
    return Settings.from_env(env)


def xero_state(home: str | os.PathLike[str]) -> str:
    return str(settings_for(home).state_dir / "sandbox" / "xero.sqlite")


class PracticeCliniko(SandboxClinikoResource):
    """The Cliniko simulator serving a practice held in this process (edited by the harness before the run)."""

    practices: ClassVar[dict[str, Any]] = {}
    slot: str = "base"

    def _transport(self):
        return InProcessTransport(create_app(self.practices[self.slot]))


class LimitedXeroResource(SandboxXeroResource):
    """The Xero simulator with another per-minute limit than Xero's 60 calls (the chaos test injects its 429s
    itself, and would otherwise spend most of its time in the simulator's minute windows)."""

    minute_limit: int = 60

    def _transport(self):
        app = xero_app(self.state_path, idempotency_ttl_s=self.idempotency_ttl_s, calls_per_minute=self.minute_limit)
        return InProcessTransport(app)


def resources(
    home: str | os.PathLike[str],
    practice: Any = None,
    ttl: float = WINDOW_S,
    budgets: bool = True,
    minute_limit: int | None = None,
) -> dict[str, object]:
    """The deployment's resources for this DAGSTER_HOME, with the practice served and Xero's window chosen (and,
    given `minute_limit`, the simulator's calls per minute)."""
    settings = settings_for(home, budgets)
    chosen = deployment.resources(settings)
    base = chosen["xero"]
    assert isinstance(base, SandboxXeroResource), "the resilience harness runs against the embedded sandbox only"
    xero = dict(
        state_path=base.state_path,
        budget_path=base.budget_path,
        idempotency_ttl_s=ttl,
        calls_per_minute=settings.xero_calls_per_minute,
    )
    chosen["xero"] = (
        SandboxXeroResource(**xero) if minute_limit is None else LimitedXeroResource(**xero, minute_limit=minute_limit)
    )
    if practice is not None:
        slot = f"p{id(practice)}"
        PracticeCliniko.practices[slot] = practice
        chosen["source"] = PracticeCliniko(slot=slot, **({} if budgets else {"calls_per_minute": 0}))
    return chosen


def run(
    home: str | os.PathLike[str],
    first: str,
    last: str | None = None,
    *,
    practice: Any = None,
    ttl: float = WINDOW_S,
    budgets: bool = True,
    minute_limit: int | None = None,
) -> dg.ExecuteInProcessResult:
    """One in-process run of the sync graph over [first, last] (a single-run backfill when last is given)."""
    prepare_home(home)
    settings = settings_for(home)
    window = {"tags": {RANGE_START: first, RANGE_END: last}} if last and last != first else {"partition_key": first}
    with dg.DagsterInstance.from_config(str(home)) as instance:
        return dg.materialize(
            sync_assets(daily_partitions(settings)),
            resources=resources(home, practice, ttl, budgets, minute_limit),
            instance=instance,
            raise_on_error=False,
            run_config=QUIET,
            **window,
        )


def failed_steps(result: dg.ExecuteInProcessResult) -> list[str]:
    return [e.step_key or "?" for e in result.all_events if e.is_step_failure]


# ---- write points -----------------------------------------------------------------------------------------------
def _record_methods() -> list[str]:
    """`StateStore.record` and any `record_*` method it has now (some writes may be recorded through those)."""
    return sorted(n for n in dir(StateStore) if n == "record" or n.startswith("record_"))


@contextmanager
def write_points(on_point: Callable[[dict], None]) -> Iterator[None]:
    """Call `on_point` right after every Xero write returns (before the state store records it) and right after
    every state-store record returns, with the point: kind ("write"/"record"), index of its kind (1-based) and
    what it was. Patches the classes (every client and store of the process), restored on exit."""
    counts = Counter()
    patched: list[tuple[type, str, Any]] = []

    def wrap(cls: type, name: str, kind: str, describe: Callable[..., dict]) -> None:
        original = getattr(cls, name)

        def wrapper(self, *args, **kwargs):
            result = original(self, *args, **kwargs)
            counts[kind] += 1
            on_point({"kind": kind, "index": counts[kind], **describe(*args, **kwargs)})
            return result

        wrapper.__wrapped__ = original  # type: ignore[attr-defined]
        patched.append((cls, name, original))
        setattr(cls, name, wrapper)

    def describe_write(method: str, resource: str, payload: dict, **params: Any) -> dict:
        elements = payload.get(resource) if isinstance(payload, dict) else None
        return {"what": f"{method} {resource}", "elements": len(elements) if isinstance(elements, list) else 1}

    def describe_record(name: str) -> Callable[..., dict]:
        def describe(records: Any = None, *args: Any, **kwargs: Any) -> dict:
            rows = list(records) if isinstance(records, list | tuple) else [records]  # record_write: one record
            entities = sorted({str(getattr(r, "entity", "?")) for r in rows})
            keys = [str(getattr(r, "source_key", "?")) for r in rows]
            action = next((a for a in args if isinstance(a, str)), kwargs.get("action"))
            return {"what": " ".join(str(w) for w in (name, ",".join(entities), action) if w), "keys": keys}

        return describe

    wrap(XeroClient, "write", "write", describe_write)
    for name in _record_methods():
        wrap(StateStore, name, "record", describe_record(name))
    try:
        yield
    finally:
        for cls, name, original in reversed(patched):
            setattr(cls, name, original)


# ---- the practice and its edits ---------------------------------------------------------------------------------
def utc(day: str, hour: int, minute: int = 0) -> str:
    local = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour, minute), tzinfo=SYDNEY)
    return local.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def money(value: Any) -> Decimal:
    return Decimal(str(value))


def _live(invoice: dict) -> bool:
    return not invoice.get("deleted_at") and not invoice.get("archived_at") and money(invoice["total_amount"]) > 0


def paid(invoice: dict) -> bool:
    return str(invoice["status"]) == "20"


def candidates(practice: Any, days: list[str]) -> list[dict]:
    """Live invoices with a positive total issued on `days`, in id order."""
    return sorted((i for i in practice.invoices if i["issue_date"] in days and _live(i)), key=lambda i: int(i["id"]))


def pay(invoice: dict, day: str, hour: int = 15) -> None:
    invoice.update(status=20, status_description="Paid", closed_at=utc(day, hour), updated_at=utc(day, hour))


def reopen(invoice: dict, day: str, hour: int = 15) -> None:
    invoice.update(status=10, status_description="Open", closed_at=None, updated_at=utc(day, hour))


def delete(invoice: dict, day: str, hour: int = 16) -> None:
    invoice.update(deleted_at=utc(day, hour), updated_at=utc(day, hour))


def rename_line(practice: Any, invoice: dict, day: str, hour: int = 14, suffix: str = "(amended)") -> None:
    """Change the description of the invoice's first line (its totals stay): the Xero invoice must be updated."""
    items = sorted(practice.items_of(invoice["id"]), key=lambda i: int(i["id"]))
    items[0].update(name=f"{items[0]['name']} {suffix}", updated_at=utc(day, hour))
    invoice.update(updated_at=utc(day, hour))


def _amounts(item: dict) -> Any:
    rate = Decimal(item["tax_rate"]) if item.get("tax_rate") is not None else None
    return item_amounts(Decimal(item["unit_price"]), int(item["quantity"]), rate)


def repriceable(practice: Any, invoice: dict) -> bool:
    """No discount on any line, and Cliniko's arithmetic gives back the amounts served (so they can be redone)."""
    items = practice.items_of(invoice["id"])
    return bool(items) and all(
        money(i["discounted_amount"]) == 0 and _amounts(i).wire() == {k: i[k] for k in _amounts(i).wire()}
        for i in items
    )


def reprice(practice: Any, invoice: dict, day: str, hour: int = 14) -> None:
    """One more of the invoice's first line: its total changes (Cliniko's arithmetic, see sandbox money.py)."""
    items = sorted(practice.items_of(invoice["id"]), key=lambda i: int(i["id"]))
    items[0].update(quantity=int(items[0]["quantity"]) + 1, updated_at=utc(day, hour))
    items[0].update(_amounts(items[0]).wire())
    invoice.update(invoice_amounts([_amounts(i) for i in items]), updated_at=utc(day, hour))


def change_email(practice: Any, patient_id: str, address: str, day: str, hour: int = 13) -> None:
    patient = next(p for p in practice.patients if str(p["id"]) == str(patient_id))
    patient.update(email=address, updated_at=utc(day, hour))


def kill_scenario_practice() -> Any:
    """The practice of the kill test's second run (LATER), edited after the first (FIRST) was synced: a paid
    invoice deleted (reversal + void), a paid one reopened (reversal), an open one deleted (void), an open one paid
    late (payment), a paid one and an open one with a line renamed (updates; the paid one's payment is reversed and
    applied again), a paid one and an open one with a line's quantity raised (new totals; the paid one's payment
    reversed and applied again with the new amount), and a patient's e-mail changed (contact update)."""
    practice = copy.deepcopy(build_practice())
    issued = candidates(practice, [KILL_FIRST])
    paid_ones = [i for i in issued if paid(i)]
    open_ones = [i for i in issued if not paid(i)]
    delete(paid_ones[0], KILL_LATER)
    reopen(paid_ones[1], KILL_LATER)
    rename_line(practice, paid_ones[2], KILL_LATER)
    delete(open_ones[0], KILL_LATER)
    pay(open_ones[1], KILL_LATER)
    rename_line(practice, open_ones[2], KILL_LATER)
    reprice(practice, next(i for i in paid_ones[3:] if repriceable(practice, i)), KILL_LATER)
    reprice(practice, next(i for i in open_ones[3:] if repriceable(practice, i)), KILL_LATER)
    later_patients = {i["patient_id"] for i in practice.invoices if i["issue_date"] == KILL_LATER and _live(i)}
    both = sorted((i["patient_id"] for i in issued if i["patient_id"] in later_patients), key=int)
    if both:  # a contact created by the first run, changed before the second
        change_email(practice, both[0], "changed.address@example.com", KILL_LATER)
    return practice


def random_edits(rng: random.Random, practice: Any, synced: list[str], day: str, count: int) -> list[str]:
    """`count` seeded edits, dated `day`, of invoices issued on the days already `synced`; returns what was done."""
    done: list[str] = []
    pool = candidates(practice, synced)
    rng.shuffle(pool)
    kinds = ["pay", "reopen", "delete", "rename", "reprice", "email"]
    for invoice in pool:
        if len(done) >= count:
            break
        kind = rng.choice(kinds)
        hour = rng.randint(9, 17)
        if kind == "pay" and not paid(invoice):
            pay(invoice, day, hour)
        elif kind == "reopen" and paid(invoice):
            reopen(invoice, day, hour)
        elif kind == "delete":
            delete(invoice, day, hour)
        elif kind == "reprice" and repriceable(practice, invoice):
            reprice(practice, invoice, day, hour)
        elif kind == "rename":
            rename_line(practice, invoice, day, hour, suffix=f"(amended {day})")
        elif kind == "email":
            change_email(practice, invoice["patient_id"], f"patient{invoice['patient_id']}.{day}@example.com", day)
            invoice.update(updated_at=utc(day, hour))  # the patient is read with an invoice of the window
        else:
            continue
        done.append(f"{kind} {invoice['number']}")
    return done


# ---- what Xero holds --------------------------------------------------------------------------------------------
@contextmanager
def xero_client(state_path: str) -> Iterator[XeroClient]:
    """A client of the simulated Xero kept in `state_path` (to read back what the sync wrote: no minute limit, the
    test's reads are not the sync's)."""
    transport = InProcessTransport(xero_app(state_path, calls_per_minute=READER_MINUTE_LIMIT))
    auth = XeroAuth("http://xero.sandbox", SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, store=None, transport=transport)
    client = XeroClient("http://xero.sandbox", auth, transport=transport)
    try:
        yield client
    finally:
        client.close()
        transport.close()


def read_xero(state_path: str) -> dict[str, list[dict]]:
    """Every contact (archived too), invoice (with its lines) and payment (deleted too) the simulated Xero holds."""
    with xero_client(state_path) as client:
        return {
            "contacts": client.get_all("Contacts", "Contacts", includeArchived="true"),
            "invoices": client.get_all("Invoices", "Invoices"),
            "payments": client.get_all("Payments", "Payments"),
        }


def xero_date(value: str | None) -> str | None:
    """Xero's "/Date(1760572800000+0000)/" -> "2026-10-16"."""
    found = re.match(r"/Date\((-?\d+)", value or "")
    return dt.datetime.fromtimestamp(int(found.group(1)) / 1000, dt.UTC).date().isoformat() if found else value


def _amount(value: Any) -> str:
    return str(money(value if value is not None else 0).quantize(Decimal("0.01")))


def normalize(raw: dict[str, list[dict]]) -> tuple[dict[str, dict], list[str]]:
    """The snapshot the tests compare (no ids, no timestamps) and the duplicates found: a ContactNumber or an
    InvoiceNumber held twice, or more than one payment not DELETED on an invoice."""
    duplicates: list[str] = []
    contacts: dict[str, dict] = {}
    for c in raw["contacts"]:
        number = c.get("ContactNumber") or f"(no number) {c.get('Name')}"
        if number in contacts:
            duplicates.append(f"contact {number}")
        contacts[number] = {"Name": c.get("Name"), "Email": c.get("EmailAddress") or None}
    invoices: dict[str, dict] = {}
    number_of = {}
    for i in raw["invoices"]:
        number = i.get("InvoiceNumber") or f"(no number) {i.get('InvoiceID')}"
        number_of[i.get("InvoiceID")] = number
        if number in invoices:
            duplicates.append(f"invoice {number}")
        invoices[number] = {
            "Status": i.get("Status"),
            "Date": xero_date(i.get("Date")),
            "Reference": i.get("Reference"),
            "Total": _amount(i.get("Total")),
            "TotalTax": _amount(i.get("TotalTax")),
            "AmountPaid": _amount(i.get("AmountPaid")),
            "Contact": (i.get("Contact") or {}).get("ContactNumber") or (i.get("Contact") or {}).get("Name"),
            "LineItems": [
                [
                    line.get("Description"),
                    _amount(line.get("LineAmount")),
                    _amount(line.get("TaxAmount")),
                    str(line.get("Quantity")),
                    str(line.get("UnitAmount")),
                ]
                for line in i.get("LineItems") or []
            ],
        }
    payments: dict[str, list] = {}
    for p in raw["payments"]:
        invoice_id = (p.get("Invoice") or {}).get("InvoiceID")
        number = number_of.get(invoice_id) or (p.get("Invoice") or {}).get("InvoiceNumber") or str(invoice_id)
        payments.setdefault(number, []).append([_amount(p.get("Amount")), p.get("Status"), xero_date(p.get("Date"))])
    for number, rows in payments.items():
        rows.sort()
        if sum(1 for r in rows if r[1] != "DELETED") > 1:
            duplicates.append(f"payments on {number}: {rows}")
    return {"contacts": contacts, "invoices": invoices, "payments": payments}, duplicates


def snapshot(home_or_state: str | os.PathLike[str]) -> tuple[dict[str, dict], list[str]]:
    path = str(home_or_state)
    return normalize(read_xero(path if path.endswith(".sqlite") else xero_state(path)))


REMOVED = ("VOIDED", "DELETED")


def effective(state: dict[str, dict]) -> dict[str, dict]:
    """What the books say now, without history: invoices VOIDED or DELETED count as absent (whether one was written
    and voided, or never written, depends on when the sync first saw it), and DELETED payments are left out."""
    return {
        "contacts": state["contacts"],
        "invoices": {k: v for k, v in state["invoices"].items() if v["Status"] not in REMOVED},
        "payments": {
            k: live for k, rows in state["payments"].items() if (live := [r for r in rows if r[1] != "DELETED"])
        },
    }


def differences(expected: dict[str, dict], got: dict[str, dict]) -> dict[str, dict[str, list]]:
    """Per entity: keys missing from `got`, keys only in `got`, keys whose values differ (with both values)."""
    out: dict[str, dict[str, list]] = {}
    for entity, want in expected.items():
        have = got.get(entity, {})
        found = {
            "missing": sorted(set(want) - set(have)),
            "extra": sorted(set(have) - set(want)),
            "changed": [[k, want[k], have[k]] for k in sorted(set(want) & set(have)) if want[k] != have[k]],
        }
        if any(found.values()):
            out[entity] = {k: v for k, v in found.items() if v}
    return out


def admin(state_path: str, method: str, path: str, **kwargs: Any) -> Any:
    """A call to the simulated Xero's test-only admin routes (`/__sandbox__/faults`, `/__sandbox__/stats`)."""
    transport = InProcessTransport(xero_app(state_path))
    try:
        with httpx.Client(transport=transport, base_url="http://xero.sandbox") as http:
            response = http.request(method, path, **kwargs)
            response.raise_for_status()
            return response.json()
    finally:
        transport.close()


def stats(state_path: str) -> dict[str, Any]:
    return admin(state_path, "GET", "/__sandbox__/stats")
