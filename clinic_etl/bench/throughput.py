"""Transform and validation throughput: the practice ledger -> Xero frames on 1,000,000 invoice lines, the ledger's
pandera contract validated on the way (as `to_ledger` validates it), in one process on one core.

The ledger is the sandbox practice's own (its six weeks extracted and mapped to the ledger once), repeated with
fresh keys and numbers until it holds `lines` lines: the mix of services, products, discounts, 3-dp prices, GST and
GST-free lines, payments and deleted invoices is the practice's. Money stays Decimal, and every frame holds one
object per distinct Decimal and text value, as a source's ledger frames do (`ledger.compact`, which `ledger_frame`
applies to the rows a source parsed). Peak memory is the process's peak resident set (getrusage).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from clinic_etl.ledger.compact import compact
from clinic_etl.ledger.models import LEDGER_MODELS
from clinic_etl.mapping import Mapping
from clinic_etl.xero.frames import to_xero
from clinic_etl.xero.org import XeroOrg

ORG = XeroOrg(
    accounts={"200": {"Type": "REVENUE"}, "090": {"Type": "BANK"}},
    tax_rates={"OUTPUT": Decimal(10), "EXEMPTOUTPUT": Decimal(0)},
)
OFFSET = 100_000_000  # between the ids of two copies (beyond any id of the sandbox practice)
KEYED = {  # frame -> key columns ("source:entity:id") and plain id columns to shift per copy
    "contacts": (["contact_key"], ["source_id"]),
    "invoices": (["invoice_key", "contact_key"], ["source_id", "number"]),
    "lines": (["invoice_key"], ["source_id"]),
    "payments": (["payment_key", "invoice_key"], []),
}


def sandbox_ledger() -> dict[str, pd.DataFrame]:
    """The sandbox practice's whole window, extracted in-process and mapped to the ledger."""
    from clinic_etl.partitions import SyncWindow
    from clinic_etl.sandbox.cliniko import SANDBOX_CLINIKO_API_KEY, SANDBOX_WINDOW, build_practice, create_app
    from clinic_etl.sandbox.transport import InProcessTransport
    from clinic_etl.sources.cliniko.client import ClinikoClient
    from clinic_etl.sources.cliniko.extract import extract
    from clinic_etl.sources.cliniko.to_ledger import to_ledger

    transport = InProcessTransport(create_app(build_practice(), requests_per_minute=1_000_000))
    with ClinikoClient(SANDBOX_CLINIKO_API_KEY, "http://cliniko.sandbox/v1", transport=transport) as client:
        window = SyncWindow(*SANDBOX_WINDOW, ZoneInfo("Australia/Sydney"))
        ledger, _ = to_ledger(extract(client, window), window)
    transport.close()
    return ledger


def _shifted(values: pd.Series, copies: int, keyed: bool) -> pd.Series:
    """`values` repeated `copies` times, the ids of copy k moved up by k * OFFSET."""
    text = values.astype(str)
    head, ids = (text.str.rpartition(":")[0] + ":", text.str.rpartition(":")[2]) if keyed else ("", text)
    shift = np.repeat(np.arange(copies, dtype="int64") * OFFSET, len(values))
    numbers = np.tile(ids.astype("int64").to_numpy(), copies) + shift
    prefix = np.tile(np.asarray(head, dtype=object), copies) if keyed else ""
    return pd.Series(prefix + numbers.astype(str).astype(object), dtype=object)


def repeated(ledger: dict[str, pd.DataFrame], lines: int) -> dict[str, pd.DataFrame]:
    """The ledger repeated (fresh keys, ids and numbers per copy) to exactly `lines` lines."""
    copies = -(-lines // len(ledger["lines"]))
    out = dict(ledger)
    for name, (keys, ids) in KEYED.items():
        base = ledger[name]
        frame = pd.concat([base] * copies, ignore_index=True)
        for column in keys:
            frame[column] = _shifted(base[column], copies, keyed=True)
        for column in ids:
            frame[column] = _shifted(base[column], copies, keyed=False)
        compact(frame)  # as `ledger_frame` hands a source's rows on: one object per distinct value
        out[name] = frame
    out["lines"] = out["lines"].iloc[:lines]
    kept = out["invoices"]["invoice_key"].isin(set(out["lines"]["invoice_key"])) | (
        out["invoices"]["status"] == "deleted"
    )
    out["invoices"] = out["invoices"][kept].reset_index(drop=True)
    invoices = set(out["invoices"]["invoice_key"])
    out["payments"] = out["payments"][out["payments"]["invoice_key"].isin(invoices)].reset_index(drop=True)
    used = set(out["invoices"]["contact_key"])
    out["contacts"] = out["contacts"][out["contacts"]["contact_key"].isin(used)].reset_index(drop=True)
    return out


@dataclass
class Throughput:
    lines: int
    invoices: int
    seconds: float
    cpu_seconds: float  # this process's CPU time over the same span (the machine may be busy with other work)
    validate_seconds: float
    transform_seconds: float
    documents: int  # Xero invoices made

    @property
    def lines_per_second(self) -> float:
        return self.lines / self.seconds if self.seconds else 0.0


def transform(ledger: dict[str, pd.DataFrame]) -> Throughput:
    """Validate the ledger's contract (every frame, as `to_ledger` does) and map it to Xero frames, timed.

    Each frame of `ledger` is replaced by its validated copy as it is checked: a run holds only what `to_ledger`
    hands on, the validated frames, and so does the benchmark (keeping the unvalidated ones as well held a second
    set of the frames' columns, about 200 MiB at a million lines, through the transform)."""
    started, cpu = time.perf_counter(), time.process_time()
    for name in list(ledger):
        ledger[name] = LEDGER_MODELS[name].validate(ledger[name], lazy=True)
    checked = time.perf_counter()
    documents, rejected = to_xero(ledger, Mapping(), ORG)
    done, cpu_done = time.perf_counter(), time.process_time()
    if not rejected.empty:
        raise RuntimeError(f"{len(rejected)} invoices rejected by to_xero: the benchmark's ledger is not clean")
    return Throughput(
        lines=len(ledger["lines"]),
        invoices=len(ledger["invoices"]),
        seconds=done - started,
        cpu_seconds=cpu_done - cpu,
        validate_seconds=checked - started,
        transform_seconds=done - checked,
        documents=len(documents["invoices"]),
    )
