"""The extract of a window of the sandbox firm: exactly the bills, line items, allocations, credit memos, refunds,
contacts and matters the firm holds for the window (the expectation computed from `build_firm()` directly; a credit
memo with all its allocations and later refunds), deleted bills as FACTS says (absent from default lists, read with
state=deleted), late-evening payments on the firm's own day (America/New_York), one pass per resource whatever the
window's length, raw frames of strings."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import httpx
import pandas as pd
import pytest

from clinic_etl.partitions import SyncWindow
from clinic_etl.sandbox.clio import FIRM_TIME_ZONE, SANDBOX_WINDOW, Firm
from clinic_etl.sources.clio.client import API_VERSION, ROUTE_FILTERS, UNORDERED
from clinic_etl.sources.clio.extract import KEEP, OVERLAP, RESOURCES, extract
from clinic_etl_tests.clio.conftest import sandbox_client

ZONE = ZoneInfo(FIRM_TIME_ZONE)
ONE_DAY = SyncWindow(date(2026, 10, 19), date(2026, 10, 19), ZONE)  # a same-day deletion, an evening payment
ISSUED_THEN_DELETED = SyncWindow(date(2026, 10, 23), date(2026, 10, 23), ZONE)  # a bill deleted six days later
TWO_WEEKS = SyncWindow(date(2026, 10, 19), date(2026, 11, 1), ZONE)  # ends on the day DST ends
WHOLE = SyncWindow(*SANDBOX_WINDOW, ZONE)


def _at(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _live(row: dict) -> bool:
    return not row.get("_deleted_at")


@dataclass
class Expected:
    bills: set[int]
    line_items: set[int]
    allocations: set[int]
    credit_memos: set[int]
    refunds: set[int]
    contacts: set[int]
    matters: set[int]


def expected(firm: Firm, window: SyncWindow) -> Expected:
    """What the firm holds for the window, from its rows (not through the API)."""
    start, end = window.bounds_utc()
    since = start - OVERLAP
    days = set(window.days)

    def changed_in(row: dict) -> bool:
        return start <= _at(row["updated_at"]) < end

    def seen_since(row: dict) -> bool:  # what an `updated_since` read returns
        return _at(row["updated_at"]) > since

    bills = {
        b["id"]
        for b in firm.bills
        if _live(b)
        and (
            (b["state"] != "deleted" and (b["issued_at"] in days or changed_in(b)))
            or (b["state"] == "deleted" and seen_since(b) and (changed_in(b) or b["issued_at"] in days))
        )
    }
    older = {
        b["id"] for b in firm.bills if b["id"] in bills and b["state"] != "deleted" and _at(b["created_at"]) < start
    }
    lines = {line["id"] for line in firm.line_items if _live(line) and line["bill_id"] in bills}
    # allocations on the extract's bills (voided ones when voided since the window began) and any dated or changed
    # in the window; a deleted allocation is gone
    allocations = {
        a["id"]
        for a in firm.allocations
        if _live(a)
        and (
            (seen_since(a) and (a["bill_id"] in bills or a["date"] in days or changed_in(a)))
            or (a["bill_id"] in older and a["voided_at"] is None)
        )
    }
    by_id = {a["id"]: a for a in firm.allocations}
    applied = {by_id[i]["parent"]["id"] for i in allocations if by_id[i]["parent"]["type"] == "CreditMemo"}
    memos = {
        m["id"]
        for m in firm.credit_memos
        if (seen_since(m) and (m["date"] in days or changed_in(m))) or m["id"] in applied
    }
    # a memo comes with all its allocations: those seen since the window began, the valid ones of older memos
    memo_rows = {m["id"]: m for m in firm.credit_memos if m["id"] in memos}
    allocations |= {
        a["id"]
        for a in firm.allocations
        if _live(a)
        and a["parent"]["type"] == "CreditMemo"
        and a["parent"]["id"] in memos
        and (seen_since(a) or (a["voided_at"] is None and _at(memo_rows[a["parent"]["id"]]["created_at"]) < start))
    }
    memo_contacts = {m["contact_id"] for m in memo_rows.values()}
    refunds = {
        t["id"]
        for t in firm.bank_transactions
        if _live(t)
        and t["transaction_type"] == "Refund"
        and seen_since(t)
        and (t["date"] in days or changed_in(t) or t["client_id"] in memo_contacts)
    }
    bill_rows = [b for b in firm.bills if b["id"] in bills]
    contacts = (
        {b["client_id"] for b in bill_rows}
        | {by_id[i]["contact_id"] for i in allocations}
        | {m["contact_id"] for m in firm.credit_memos if m["id"] in memos}
        | {t["client_id"] for t in firm.bank_transactions if t["id"] in refunds}
    )
    matters = (
        {m for b in bill_rows for m in b["matter_ids"]}
        | {line["matter_id"] for line in firm.line_items if line["id"] in lines}
        | {by_id[i]["matter_id"] for i in allocations}
    ) - {None}
    return Expected(bills, lines, allocations, memos, refunds, contacts, matters)


def _ids(frame: pd.DataFrame) -> set[int]:
    assert frame["id"].is_unique
    return {int(i) for i in frame["id"]}


@pytest.fixture(scope="module")
def extracts(firm: Firm) -> dict[SyncWindow, tuple[dict[str, pd.DataFrame], Counter]]:
    """Each window extracted by a fresh client on a fresh simulator, with the calls it made per route."""
    done = {}
    for window in (ONE_DAY, ISSUED_THEN_DELETED, TWO_WEEKS, WHOLE):
        client, _, app = sandbox_client(firm)
        frames = extract(client, window)
        done[window] = frames, Counter(app.state.stats.snapshot()["calls"])
        client.close()
    return done


@pytest.mark.parametrize(
    "window", [ONE_DAY, ISSUED_THEN_DELETED, TWO_WEEKS, WHOLE], ids=lambda w: f"{w.first}..{w.last}"
)
def test_the_extract_holds_exactly_what_the_firm_holds_for_the_window(firm: Firm, extracts, window) -> None:
    frames, _ = extracts[window]
    want = expected(firm, window)
    assert _ids(frames["bills"]) == want.bills
    assert _ids(frames["line_items"]) == want.line_items
    assert _ids(frames["allocations"]) == want.allocations
    assert _ids(frames["credit_memos"]) == want.credit_memos
    assert _ids(frames["refunds"]) == want.refunds
    assert _ids(frames["contacts"]) == want.contacts
    assert _ids(frames["matters"]) == want.matters
    assert set(frames["bank_accounts"]["type"]) == {"Operating", "Trust"}


def test_the_two_week_window_has_every_awkward_case(firm: Firm, extracts) -> None:
    frames, _ = extracts[TWO_WEEKS]
    bills = frames["bills"].set_index("id")
    assert {"deleted", "void", "paid", "awaiting_payment", "draft", "awaiting_approval"} <= set(bills["state"])
    allocations = frames["allocations"]
    assert allocations["voided_at"].notna().any()
    assert set(allocations["parent_type"]) == {"Payment", "CreditMemo"}
    assert frames["credit_memos"]["voided_at"].notna().any()
    assert (extracts[WHOLE][0]["credit_memos"]["discount"] == "True").any()  # a memo applied as a discount
    refund = frames["refunds"].iloc[0]
    assert len(frames["refunds"]) == 1 and refund["transaction_type"] == "Refund" and Decimal(refund["funds_out"]) > 0
    assert set(frames["refunds"]["client_id"]) <= set(frames["contacts"]["id"])
    deleted_payment = [a for a in firm.allocations if a.get("_deleted_at") and a["date"] in TWO_WEEKS.days]
    assert deleted_payment and not {str(a["id"]) for a in deleted_payment} & set(allocations["id"])


def test_deleted_bills_come_from_state_deleted_without_their_lines(firm: Firm, extracts) -> None:
    for window in (ONE_DAY, ISSUED_THEN_DELETED, TWO_WEEKS):
        frames, _ = extracts[window]
        deleted = frames["bills"][frames["bills"]["state"] == "deleted"]
        assert len(deleted) >= 1, window
        assert not set(deleted["id"]) & set(frames["line_items"]["bill_id"])
        for row in deleted.itertuples():
            source = firm.find("bills", int(row.id))
            deleted_on = WHOLE.local_date(source["updated_at"])
            assert deleted_on in window.days or source["issued_at"] in window.days
    # issued on 23 Oct, deleted on 29 Oct: in the extract of the day it was issued, as deleted (never to be created)
    frames, _ = extracts[ISSUED_THEN_DELETED]
    late = frames["bills"][(frames["bills"]["state"] == "deleted") & (frames["bills"]["issued_at"] == "2026-10-23")]
    assert len(late) == 1 and WHOLE.local_date(late.iloc[0]["updated_at"]) == "2026-10-29"


def test_a_late_evening_payment_lands_on_the_firms_day(firm: Firm) -> None:
    evening = [
        a for a in firm.allocations if _live(a) and _at(a["created_at"]).astimezone(UTC).date().isoformat() != a["date"]
    ]
    assert len(evening) >= 3
    after_dst = [a for a in evening if _at(a["created_at"]).utcoffset() == timedelta(hours=-5)]
    assert after_dst
    for allocation in (evening[0], after_dst[0]):
        day = date.fromisoformat(allocation["date"])
        window = SyncWindow(day, day, ZONE)
        assert window.local_date(allocation["created_at"]) == allocation["date"]  # 21:00+ in New York
        utc_day = _at(allocation["created_at"]).astimezone(UTC).date()
        assert utc_day == day + timedelta(days=1)
        client, _, _ = sandbox_client(firm)
        on_the_day = extract(client, window)
        next_day = extract(client, SyncWindow(utc_day, utc_day, ZONE))
        row = on_the_day["allocations"].set_index("id").loc[str(allocation["id"])]
        assert row["date"] == allocation["date"] and row["parent_type"] == "Payment"
        if str(allocation["bill_id"]) not in set(next_day["bills"]["id"]):
            assert str(allocation["id"]) not in set(next_day["allocations"]["id"])


def test_frames_are_raw_strings_of_the_kept_columns_only(firm: Firm, extracts) -> None:
    frames, _ = extracts[TWO_WEEKS]
    assert list(frames) == list(KEEP)
    for name, frame in frames.items():
        assert list(frame.columns) == KEEP[name], name
        for value in frame.to_numpy().ravel():
            assert value is None or isinstance(value, str), (name, value)
    private = {"note", "memo", "date_of_birth", "addresses", "phone_numbers", "primary_phone_number"}
    assert not private & {column for frame in frames.values() for column in frame.columns}
    assert "description" not in KEEP["matters"] and "subject" not in KEEP["bills"]


def test_values_are_kept_exactly_and_relations_flattened(firm: Firm, extracts) -> None:
    frames, _ = extracts[TWO_WEEKS]
    for row in frames["bills"].itertuples():
        source = firm.find("bills", int(row.id))
        assert Decimal(row.total) == source["total"] and Decimal(row.balance) == source["balance"]
        assert row.client_id == str(source["client_id"]) and row.state == source["state"]
        assert row.matter_ids == ",".join(str(m) for m in source["matter_ids"])
        assert row.destination_account_id == str(source["destination_account_id"])
        assert row.currency_code == "USD"
    assert frames["bills"]["matter_ids"].str.contains(",").any()  # a ClientBill over two matters
    for row in frames["line_items"].itertuples():
        source = next(line for line in firm.line_items if line["id"] == int(row.id))
        assert Decimal(row.total) == source["total"] and Decimal(row.quantity) == source["quantity"]
        assert row.bill_id == str(source["bill_id"]) and row.taxable in ("True", "False")
    whole, _ = extracts[WHOLE]
    accounts = whole["bank_accounts"].set_index("id")["type"].to_dict()
    trust_paid = whole["allocations"][whole["allocations"]["source_bank_account_id"].notna()]
    assert not trust_paid.empty and {accounts[i] for i in trust_paid["source_bank_account_id"]} == {"Trust"}


def test_one_pass_per_resource_whatever_the_windows_length(firm: Firm, extracts) -> None:
    for window in (ONE_DAY, TWO_WEEKS, WHOLE):
        frames, calls = extracts[window]
        start = window.bounds_utc()[0]
        older = sum(
            1
            for i in frames["bills"]["id"]
            if (bill := firm.find("bills", int(i)))["state"] != "deleted" and _at(bill["created_at"]) < start
        )
        assert calls["POST /oauth/token"] == 1
        assert calls["GET /api/v4/bills.json"] == 4  # issued in, changed in, voided in, deleted in the window
        assert calls["GET /api/v4/allocations.json"] == 2 + older  # valid, voided; per bill from before the window
        assert calls["GET /api/v4/line_items.json"] - older in (1, 2, 3, 4)  # one read, in pages
        assert calls["GET /api/v4/credit_memos.json"] <= 2
        for route in ("bank_transactions", "bank_accounts", "contacts", "matters"):
            assert calls[f"GET /api/v4/{route}.json"] == 1, (window, route)
    assert extracts[WHOLE][1]["GET /api/v4/bills.json"] == extracts[ONE_DAY][1]["GET /api/v4/bills.json"]


def test_every_request_of_an_extract_asks_for_fields_pages_by_cursor_and_pins_the_version(firm: Firm) -> None:
    client, transport, _ = sandbox_client(firm)
    extract(client, TWO_WEEKS)
    requests = transport.api()
    assert len(requests) > 10
    wanted = {resource.route: resource.fields for resource in RESOURCES.values()}
    for request in requests:
        route = request.url.path.removeprefix("/api/v4/").removesuffix(".json")
        params = request.url.params
        assert request.headers["X-API-VERSION"] == API_VERSION
        assert params["fields"] == wanted[route] and params["limit"] == "200"
        assert "offset" not in params  # cursor paging only: Clio's 10,000-record offset cap is never approached
        assert params.get("order") == (None if route in UNORDERED else "id(asc)")
        assert set(params) - {"fields", "limit", "order", "page_token"} <= ROUTE_FILTERS[route], request.url
    assert any("{" in request.url.params["fields"] for request in requests)  # nested fields


class OtherDefaults(httpx.BaseTransport):
    """The simulator as a Clio whose default bill lists differ (FACTS §6 leaves it to verify): void bills hidden
    unless asked for by `state`, deleted bills shown. Only single-page answers are rewritten (enough here)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.url.path != "/api/v4/bills.json" or "state" in request.url.params or response.status_code != 200:
            return response
        body = json.loads(response.content)
        assert "next" not in body["meta"]["paging"]
        deleted_url = request.url.copy_merge_params({"state": "deleted"})
        deleted = self.inner.handle_request(httpx.Request("GET", deleted_url, headers=request.headers))
        rows = [row for row in body["data"] if row.get("state") != "void"] + json.loads(deleted.content)["data"]
        body = {"data": sorted(rows, key=lambda row: row["id"]), "meta": {"paging": {}, "records": len(rows)}}
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() != "content-length"]
        return httpx.Response(200, headers=headers, content=json.dumps(body).encode(), request=request)

    def close(self) -> None:
        self.inner.close()


@pytest.mark.parametrize("window", [ONE_DAY, ISSUED_THEN_DELETED, TWO_WEEKS], ids=lambda w: f"{w.first}..{w.last}")
def test_the_same_extract_where_default_lists_hide_void_and_show_deleted_bills(firm: Firm, extracts, window) -> None:
    client, transport, _ = sandbox_client(firm)
    client._http._transport = OtherDefaults(transport)  # the API side only; OAuth is unchanged
    frames = extract(client, window)
    for name, frame in extracts[window][0].items():
        pd.testing.assert_frame_equal(
            frame.sort_values("id").reset_index(drop=True), frames[name].sort_values("id").reset_index(drop=True)
        )
    assert "void" in set(frames["bills"]["state"]) or window is ISSUED_THEN_DELETED
