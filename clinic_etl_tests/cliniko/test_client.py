"""The Cliniko client against the simulator: paging, filters, hidden rows, refusals and 429 waits."""

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from clinic_etl.http.errors import BadRequestError
from clinic_etl.partitions import SyncWindow
from clinic_etl.sources.cliniko.client import base_url_for, shard_of
from clinic_etl.sources.cliniko.extract import extract

from .conftest import make_client


def test_shard_comes_from_the_key_suffix():
    assert shard_of("MS0xLTEyMzQ1-au2") == "au2"
    assert shard_of("oldkeywithoutsuffix") == "au1"
    assert base_url_for("abc-uk1") == "https://api.uk1.cliniko.com/v1"


def test_paging_follows_links_next_and_returns_every_row_once(cliniko, practice):
    pages = list(cliniko.pages("patients"))
    live = [p for p in practice.patients if not p.get("archived_at") and not p.get("deleted_at")]
    assert len(pages) == -(-len(live) // 100) > 1
    ids = [p["id"] for page in pages for p in page]
    assert len(ids) == len(set(ids)) == len(live)


def test_filters_select_the_day_and_ids(cliniko, practice):
    day = "2026-10-14"
    rows = cliniko.list("invoices", [f"issue_date:={day}"])
    expected = {
        str(i["id"])
        for i in practice.invoices
        if i["issue_date"] == day and not i.get("deleted_at") and not i.get("archived_at")
    }
    assert {r["id"] for r in rows} == expected and expected
    some = sorted(expected)[:3]
    items = cliniko.list_by_ids("invoice_items", "invoice_id", some)
    assert {i["invoice"]["links"]["self"].rsplit("/", 1)[-1] for i in items} == set(some)


def test_a_non_filterable_field_is_refused(cliniko):
    with pytest.raises(BadRequestError, match="This column is not searchable"):
        cliniko.list("invoices", ["notes:~pain"])


def test_deleted_invoices_only_when_asked(cliniko, practice):
    deleted = [i for i in practice.invoices if i.get("deleted_at")]
    assert deleted
    plain = {r["id"] for r in cliniko.list("invoices", [f"id:={deleted[0]['id']}"])}
    asked = {r["id"] for r in cliniko.list("invoices", [f"id:={deleted[0]['id']}", "deleted_at:*"])}
    assert plain == set() and asked == {str(deleted[0]["id"])}


def test_429_is_honoured_by_waiting_for_the_reset(practice):
    now = [1_000_000.0]
    client, sleeps = make_client(practice, requests_per_minute=2, clock=lambda: now[0])
    client._sleep = lambda seconds: (sleeps.append(seconds), now.__setitem__(0, now[0] + seconds))
    for _ in range(3):
        client.list("taxes")
    assert client.calls == 4  # the third list was refused once, then went through after the wait
    assert len(sleeps) == 1 and 0 < sleeps[0] <= 61


def test_extract_day_takes_issued_changed_and_removed_invoices(cliniko, practice):
    zone = ZoneInfo("Australia/Sydney")
    day = date(2026, 10, 14)
    raw = extract(cliniko, SyncWindow(day, day, zone))
    ids = set(raw["invoices"]["id"])
    issued = {str(i["id"]) for i in practice.invoices if i["issue_date"] == day.isoformat()}
    assert issued <= ids
    later = ids - issued
    assert later, "invoices issued earlier but paid or deleted on the day are part of it"
    assert set(raw["patients"]["id"]) == set(raw["invoices"]["patient_id"])
    assert "notes" not in raw["invoices"].columns and "date_of_birth" not in raw["patients"].columns


def test_a_window_is_one_extract_equal_to_its_days_together(practice):
    """A 14-day window: the union of the days' invoices, with the reference lists read once, not 14 times."""
    zone = ZoneInfo("Australia/Sydney")
    first, last = date(2026, 10, 5), date(2026, 10, 18)
    by_day, daily_calls = set(), 0
    day = first
    while day <= last:
        client, _ = make_client(practice, requests_per_minute=100_000)
        by_day |= set(extract(client, SyncWindow(day, day, zone))["invoices"]["id"])
        daily_calls += client.calls
        day = date.fromordinal(day.toordinal() + 1)
    client, _ = make_client(practice, requests_per_minute=100_000)
    raw = extract(client, SyncWindow(first, last, zone))
    assert set(raw["invoices"]["id"]) == by_day
    assert len(by_day) > 200
    issued = {str(i["id"]) for i in practice.invoices if first.isoformat() <= i["issue_date"] <= last.isoformat()}
    assert issued <= by_day
    assert client.calls * 3 < daily_calls, (client.calls, daily_calls)
