"""The labelled lines `clinic-etl bench` prints: each figure on its own line, its label first, then its number.

Ids and counts only: no patient's name or e-mail is ever part of a figure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from clinic_etl.bench.limits import CLINIKO, XERO, XERO_SMALLEST_TIER_DAY, lower_bound
from clinic_etl.sources.cliniko.client import MAX_IN_FLIGHT

TIME_SCALE = "time scale"
PER_INVOICE_BACKFILL = "xero calls per invoice, month backfill"
PER_INVOICE_DAILY = "xero calls per invoice, daily runs"
RERUN_WRITES = "xero writes, unchanged re-run"
PER_RECORD_CALLS = "per-record loader, xero calls"
CALLS_RATIO = "per-record / batch, xero calls"
WALL_RATIO = "per-record / batch, wall time"
CLINIKO_PER_100 = "cliniko requests per 100 extracted records"
BOUND = "month backfill wall vs rate-limit bound"
QUOTA = "month's xero calls / one day's quota"
LINES_PER_SECOND = "transform+validate lines per second"
TRANSFORM_MEMORY = "transform+validate peak memory"
YEAR_MEMORY = "year backfill peak memory, month by month"
REAL_SPEED = "month backfill wall vs bound, real speed"  # with --real-speed only
PER_INVOICE_SUMMARY = "xero calls per source invoice, summary mode"

PER_CLINIC = (
    PER_INVOICE_BACKFILL,
    PER_INVOICE_DAILY,
    RERUN_WRITES,
    PER_RECORD_CALLS,
    CALLS_RATIO,
    WALL_RATIO,
    CLINIKO_PER_100,
    BOUND,
    QUOTA,
    PER_INVOICE_SUMMARY,
)
ONCE = (TIME_SCALE, LINES_PER_SECOND, TRANSFORM_MEMORY, YEAR_MEMORY)
WIDTH = 44

Print = Callable[[str], None]


def line(out: Print, label: str, value: str) -> None:
    out(f"  {label:<{WIDTH}} {value}")


def duration(seconds: float) -> str:
    """3.2 s, 4 min 10 s, 2 d 0 h 8 min."""
    if seconds < 120:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if hours else f"{minutes} min {secs} s"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h {minutes} min"


def time_scale(out: Print, scale: float) -> None:
    line(
        out,
        TIME_SCALE,
        f"{scale:g}x (a minute of the simulators' rate-limit windows lasts {60 / scale:.2f} s, a day "
        f"{duration(86400 / scale)}; enforced: Xero 60 calls/min and 5,000/day per organisation, Cliniko 200 "
        "requests/min; the client's call budgets are scaled with them)",
    )


def _ok(runs: dict[str, Any]) -> str:
    failed = runs["runs"] - runs["succeeded"]
    unreconciled = runs["days"] - runs["days_reconciled"]
    if failed or unreconciled:
        return f"; {failed} runs FAILED, {unreconciled} days NOT reconciled"
    return ""


def summary_mode(out: Print, summary: dict, detailed: dict) -> None:
    """The month's backfill in summary mode (one invoice per day and business), next to the detailed mode's."""
    invoices = max(int(summary["source_invoices"]), 1)
    x, d = summary["xero"], detailed["xero"]
    written = summary["written"]
    line(
        out,
        PER_INVOICE_SUMMARY,
        f"{x['api'] / invoices:.3f} ({x['api']} calls for {summary['source_invoices']:,} source invoices: "
        f"{written.get('invoice', 0):,} summaries, {written.get('contact', 0):,} contacts, "
        f"{written.get('payment', 0):,} payments; detailed mode {d['api'] / max(int(detailed['invoices']), 1):.3f}"
        f" per invoice{_ok(summary)})",
    )


def clinic(out: Print, title: str, scale: float, b: dict, rerun: dict, daily: dict, rec: dict) -> None:
    """One clinic's figures: b the month's backfill run, rerun it again, daily its day-by-day runs, rec the
    per-record loader on the same month."""
    invoices = max(int(b["invoices"]), 1)
    out(f"{title}: {b['invoices']:,} invoices, {sum(b['written'].values()):,} records written "
        f"({b['written'].get('contact', 0):,} contacts, {b['written'].get('invoice', 0):,} invoices, "
        f"{b['written'].get('payment', 0):,} payments)")  # fmt: skip
    for failure in b["failures"] + daily["failures"] + rerun["failures"]:
        out(f"  FAILED {failure}")
    x = b["xero"]
    line(
        out,
        PER_INVOICE_BACKFILL,
        f"{x['api'] / invoices:.3f} ({x['api']} calls in 1 run: {x['writes']} writes, {x['api'] - x['writes']} reads; "
        f"token calls apart; target <= 0.05{_ok(b)})",
    )
    d = daily["xero"]
    line(
        out,
        PER_INVOICE_DAILY,
        f"{d['api'] / invoices:.3f} ({d['api']} calls in {daily['runs']} daily runs, "
        f"{d['api'] / max(daily['runs'], 1):.1f} a run, for the same {b['invoices']:,} invoices; "
        f"target <= 0.15{_ok(daily)})",
    )
    line(
        out,
        RERUN_WRITES,
        f"{sum(rerun['written'].values())} (Xero write calls {rerun['xero']['writes']}, reads {rerun['xero']['api']}; "
        f"target 0{_ok(rerun)})",
    )
    needed, made = sum(rec["needed"].values()), rec["xero"]["api"]
    parts = ", ".join(f"{rec['needed'][k]:,} {k}s" for k in ("contact", "invoice", "payment"))
    stopped = f"; STOPPED: {rec['stopped']}" if rec["stopped"] else ""
    line(out, PER_RECORD_CALLS, f"{needed:,} needed, one each for {parts}; {made:,} made{stopped}")
    line(out, CALLS_RATIO, f"{needed / max(x['api'], 1):.1f}x ({needed:,} vs {x['api']})")
    if rec["stopped"]:  # it met the daily quota: compare what the limits allow each, at real speed
        slow, fast = lower_bound(needed, XERO), lower_bound(x["limited"], XERO)
        line(
            out,
            WALL_RATIO,
            f">= {slow / max(fast, 60):,.0f}x (it needs {duration(slow)} at real speed by Xero's limits alone, "
            f"{needed / XERO[1].calls:.1f} days of quota; the batch run's bound is {duration(fast)}, counted as at "
            "least a minute)",
        )
    else:
        line(
            out,
            WALL_RATIO,
            f"{rec['wall'] / max(b['wall'], 1e-9):.1f}x ({rec['wall']:.1f} s posting alone vs {b['wall']:.1f} s for "
            "the whole batch run, extract to reconciliation, at this time scale; at real speed Xero's limits alone "
            f"hold the per-record loader {duration(lower_bound(needed, XERO))}, the batch run's calls "
            f"{duration(lower_bound(x['limited'], XERO))})",
        )
    c = b["cliniko_calls"]
    line(
        out,
        CLINIKO_PER_100,
        f"{100 * c / max(b['extracted'], 1):.2f} ({c} requests for {b['extracted']:,} records, 100 a page, "
        f"up to {MAX_IN_FLIGHT} lists read at once, within the 200/min budget)",
    )
    xero_bound = lower_bound(x["limited"], XERO, scale)
    cliniko_bound = lower_bound(c, CLINIKO, scale)
    bound = xero_bound + cliniko_bound
    ratio = f"ratio {b['wall'] / bound:.2f}" if bound else "ratio undefined: every call fits in its first window"
    line(
        out,
        BOUND,
        f"{b['wall']:.1f} s vs {bound:.1f} s, {ratio} (bound: {x['limited']} Xero calls {duration(xero_bound)} + "
        f"{c} Cliniko requests {duration(cliniko_bound)} at this time scale; "
        f"{duration(lower_bound(x['limited'], XERO) + lower_bound(c, CLINIKO))} at real speed; target <= 1.15)",
    )
    smallest = "fits" if x["api"] <= XERO_SMALLEST_TIER_DAY else "does NOT fit"
    line(
        out,
        QUOTA,
        f"{100 * x['api'] / XERO[1].calls:.1f}% ({x['api']} of 5,000: {'fits' if x['api'] <= 5000 else 'does NOT fit'} "
        f"in one day; {smallest} in the smallest tier's 1,000; the per-record loader needs "
        f"{100 * needed / XERO[1].calls:.0f}% of a day's quota)",
    )


def throughput(out: Print, t: dict) -> None:
    line(
        out,
        LINES_PER_SECOND,
        f"{t['lines_per_second']:,.0f} ({t['lines']:,} lines, {t['invoices']:,} invoices in {t['seconds']:.1f} s, "
        f"{t['cpu_seconds']:.1f} s of CPU: pandera contract {t['validate_seconds']:.1f} s, to_xero "
        f"{t['transform_seconds']:.1f} s; one process, one core; target 1,000,000 in <= 10 s)",
    )
    line(
        out,
        TRANSFORM_MEMORY,
        f"{t['peak_rss']:,.0f} MiB (the process's peak; {t['rss_before']:,.0f} MiB before the transform, the "
        "ledger built; target <= 2,048 MiB)",
    )


def year(out: Print, y: dict, first: str, last: str) -> None:
    after = y["rss_after_run"]
    shown = ", ".join(f"{m:.0f}" for m in after)
    line(
        out,
        YEAR_MEMORY,
        f"{y['peak_rss']:,.0f} MiB peak over {y['runs']} monthly runs {first}..{last} in one process "
        f"({y['invoices']:,} invoices); resident after each run: {shown} MiB; last - first "
        f"{after[-1] - after[0]:+.0f} MiB{_ok(y)}",
    )


def real_speed(out: Print, label: str, b: dict) -> None:
    """The large clinic's month backfill with the simulators' windows at real time (`--real-speed`)."""
    x, c = b["xero"], b["cliniko_calls"]
    xero_bound, cliniko_bound = lower_bound(x["limited"], XERO), lower_bound(c, CLINIKO)
    bound = xero_bound + cliniko_bound
    ratio = f"ratio {b['wall'] / bound:.3f}" if bound else "ratio undefined: every call fits in its first window"
    line(
        out,
        REAL_SPEED,
        f"{b['wall']:.1f} s vs {bound:.1f} s, {ratio} ({label}, {b['invoices']:,} invoices; bound: {x['limited']} "
        f"Xero calls {duration(xero_bound)} + {c} Cliniko requests {duration(cliniko_bound)}; target <= 1.15{_ok(b)})",
    )
