"""A crash, then the practice changes, then the re-run: the sync is SIGKILLed at a write point of a day, staff edit
that day's invoices and a patient before anyone re-runs it (a paid invoice deleted, one reopened, an open one
deleted, line descriptions changed, quantities raised, an e-mail changed: `harness.kill_scenario_practice`), then
the day is re-run. Xero must then say what the source says, as it does when the same edits follow an
uninterrupted run: compared on the effective state (`harness.effective`: voided or deleted invoices count as
absent, deleted payments are history), since what the killed run never wrote is rightly never written.

Before the pending writes journal, six of these points left Xero wrong for good: an invoice the killed run created
and the source then deleted stayed AUTHORISED (no record, so never voided); an adopted invoice kept its old lines
(adoption compared totals only); a payment the killed run applied was never reversed (no record), so a reopened
invoice stayed PAID and edited paid invoices could not be updated; an adopted contact kept its old e-mail. Each
point below is one of those or a control.
"""

import signal

import pytest

from clinic_etl_tests.resilience import harness, kills

# symbolic points, resolved against the write points of the uninterrupted run
POINTS = [
    "after PUT Contacts",  # contact created, not recorded; its e-mail then changes at the source
    "after the first contact record",
    "after the last contact record",
    "after PUT Invoices",  # invoices created, not recorded; then deleted, or their lines edited, at the source
    "after the first invoice record",
    "after the last invoice record",
    "after PUT Payments",  # payments applied, not recorded; then reopened, edited or deleted at the source
    "after the first payment record",
    "after the last payment record",
]


def resolve(name: str, points: list[kills.Point]) -> kills.Point:
    if name.startswith("after PUT "):
        return next(p for p in points if p.kind == "write" and p.what == name.removeprefix("after "))
    which, entity = name.removeprefix("after the ").removesuffix(" record").split()
    records = [p for p in points if p.kind == "record" and f" {entity} " in f" {p.what} "]
    return records[0] if which == "first" else records[-1]


@pytest.fixture(scope="module")
def edited(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("kill-then-edit")
    server = kills.KillServer(tmp / "server.log")
    try:
        points, expected = kills.edited_reference(server, tmp, harness.WINDOW_S)
        yield server, tmp, points, expected
    finally:
        server.close()


@pytest.mark.parametrize("name", POINTS)
def test_killed_then_edited_then_rerun_xero_says_what_the_source_says(edited, name):
    server, tmp, points, expected = edited
    point = resolve(name, points)
    outcome = kills.kill_edit_rerun(server, tmp, expected, point, harness.WINDOW_S)
    detail = {"point": str(point), "differences": outcome.differences, "failed_steps": outcome.failed_steps}
    assert outcome.killed_code == -signal.SIGKILL, detail
    assert not outcome.duplicates, outcome.duplicates
    assert not outcome.differences, detail
    assert outcome.codes == [0], detail
