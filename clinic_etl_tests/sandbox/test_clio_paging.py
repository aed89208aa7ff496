"""Paging of the Clio simulator: cursor pagination (order=id(asc), page_token) and offset pagination with
its 10,000-record cap, `limit` bounds, `meta.records`."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from clinic_etl.sandbox.clio import Firm, build_firm, create_app
from clinic_etl_tests.sandbox.clio_helpers import Clio


@pytest.fixture(scope="module")
def firm() -> Firm:
    return build_firm()


@pytest.fixture(scope="module")
def clio(firm: Firm) -> Iterator[Clio]:
    client = Clio(create_app(firm, requests_per_minute=1_000_000))
    yield client
    client.close()


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_cursor_paging_walks_every_bill_once_in_id_order(clio: Clio, firm: Firm) -> None:
    rows, responses = clio.walk("/api/v4/bills.json", {"order": "id(asc)", "limit": 7, "fields": "id,number"})
    expected = sorted(b["id"] for b in firm.bills if b["state"] != "deleted")
    assert [row["id"] for row in rows] == expected
    assert len(responses) == -(-len(expected) // 7)
    for response in responses:
        meta = response.json()["meta"]
        assert meta["records"] == len(expected)
    first, last = responses[0].json()["meta"]["paging"], responses[-1].json()["meta"]["paging"]
    assert "previous" not in first and "next" not in last and "previous" in last
    following = _query(first["next"])
    assert following["page_token"] and following["limit"] == ["7"] and following["fields"] == ["id,number"]
    assert following["order"] == ["id(asc)"] and "offset" not in following
    back = clio.get(responses[2].json()["meta"]["paging"]["previous"]).json()["data"]
    assert back == responses[1].json()["data"]


def test_default_order_of_bills_is_cursor_paging(clio: Clio) -> None:
    paging = clio.get("/api/v4/bills.json", {"limit": 10}).json()["meta"]["paging"]
    assert "page_token" in _query(paging["next"])


def test_cursor_paging_with_a_filter(clio: Clio, firm: Firm) -> None:
    rows, _ = clio.walk("/api/v4/line_items.json", {"kind": "Expense", "limit": 25, "fields": "id,kind"})
    expected = sorted(
        line["id"] for line in firm.line_items if line["kind"] == "Expense" and not line.get("_deleted_at")
    )
    assert [row["id"] for row in rows] == expected and {row["kind"] for row in rows} == {"Expense"}


def test_allocations_default_to_date_order_and_offset_paging(clio: Clio, firm: Firm) -> None:
    rows, responses = clio.walk("/api/v4/allocations.json", {"limit": 20, "fields": "id,date"})
    live = [a for a in firm.allocations if not a.get("_deleted_at")]
    assert [row["id"] for row in rows] == [a["id"] for a in sorted(live, key=lambda a: (a["date"], a["id"]))]
    offsets = [_query(r.json()["meta"]["paging"]["next"]).get("offset") for r in responses[:-1]]
    assert offsets == [[str(20 * n)] for n in range(1, len(responses))]
    by_id, _ = clio.walk("/api/v4/allocations.json", {"order": "id(asc)", "limit": 20, "fields": "id"})
    assert [row["id"] for row in by_id] == sorted(a["id"] for a in live)


def test_custom_order_uses_offsets(clio: Clio, firm: Firm) -> None:
    rows, responses = clio.walk(
        "/api/v4/bills.json", {"order": "issued_at(desc)", "limit": 50, "fields": "id,issued_at"}
    )
    dates = [row["issued_at"] for row in rows]
    assert dates == sorted(dates, reverse=True) and len(rows) == sum(b["state"] != "deleted" for b in firm.bills)
    assert "offset" in _query(responses[0].json()["meta"]["paging"]["next"])
    second = clio.get("/api/v4/bills.json", {"order": "issued_at(desc)", "limit": 50, "offset": 50, "fields": "id"})
    assert _query(second.json()["meta"]["paging"]["previous"])["offset"] == ["0"]


@pytest.mark.parametrize("limit", ["0", "201", "-1", "ten"])
def test_limit_must_be_1_to_200(clio: Clio, limit: str) -> None:
    assert clio.get("/api/v4/bills.json", {"limit": limit}).status_code == 400


def test_default_limit_is_200(clio: Clio, firm: Firm) -> None:
    body = clio.get("/api/v4/line_items.json").json()
    assert len(body["data"]) == 200 and body["meta"]["records"] > 200


def test_bad_page_tokens_and_mixed_modes_are_400(clio: Clio) -> None:
    assert clio.get("/api/v4/bills.json", {"page_token": "!!garbage!!"}).status_code == 400
    assert clio.get("/api/v4/bills.json", {"page_token": "YWZ0ZXI6MQ", "offset": "0"}).status_code == 400
    assert clio.get("/api/v4/bills.json", {"page_token": "YWZ0ZXI6MQ", "order": "number(asc)"}).status_code == 400


def test_offset_paging_is_capped_at_10000_records(clio: Clio) -> None:
    refused = clio.get("/api/v4/bills.json", {"order": "id(desc)", "offset": "9900", "limit": "200"})
    assert refused.status_code == 422 and refused.json()["error"]["type"] == "ArgumentError"
    fine = clio.get("/api/v4/bills.json", {"order": "id(desc)", "offset": "9800", "limit": "200"})
    assert fine.status_code == 200 and fine.json()["data"] == []


def test_a_firm_over_the_cap_only_pages_fully_with_cursors() -> None:
    big = build_firm()
    template = big.contacts[-1]
    for n in range(1, 10_100):
        extra = copy.deepcopy(template)
        extra["id"] = template["id"] + 1000 + n
        big.contacts.append(extra)
    total = len(big.contacts)
    client = Clio(create_app(big, requests_per_minute=1_000_000))
    try:
        rows, _ = client.walk("/api/v4/contacts.json", {"order": "id(asc)", "limit": 200})
        assert len(rows) == total > 10_000 and len({row["id"] for row in rows}) == total
        response, seen = client.get("/api/v4/contacts.json", {"order": "id(desc)", "limit": 200}), 0
        while response.status_code == 200:
            seen += len(response.json()["data"])
            response = client.get(response.json()["meta"]["paging"]["next"])
        assert seen == 10_000 and response.status_code == 422
    finally:
        client.close()
