"""The Clio simulator over HTTP: `fields`, record shapes, versions, hiding deleted bills, filters, ETags."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, timedelta
from decimal import Decimal

import pytest

from clinic_etl.sandbox.clio import Firm, build_firm, create_app
from clinic_etl.sandbox.clio.wire import parse_stamp
from clinic_etl_tests.sandbox.clio_helpers import Clio

BILL_FIELDS = (
    "id,etag,number,state,type,kind,issued_at,due_at,total,sub_total,tax_sum,secondary_tax_sum,total_tax,due,"
    "paid,balance,credits_issued,paid_at,created_at,updated_at,client{id,name,type},matters{id,display_number},"
    "interest,currency{code}"
)


@pytest.fixture(scope="module")
def firm() -> Firm:
    return build_firm()


@pytest.fixture(scope="module")
def clio(firm: Firm) -> Iterator[Clio]:
    client = Clio(create_app(firm, requests_per_minute=1_000_000))
    yield client
    client.close()


def _error(response, status: int) -> dict:  # noqa: ANN001
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"type", "message"} and body["error"]["message"]
    return body["error"]


def test_without_fields_only_id_and_etag(clio: Clio, firm: Firm) -> None:
    for path in ("bills", "line_items", "allocations", "credit_memos", "contacts", "matters", "bank_accounts",
                 "bank_transactions", "trust_line_items", "interest_charges"):  # fmt: skip
        response = clio.get(f"/api/v4/{path}.json", {"limit": 5})
        assert response.status_code == 200, path
        assert response.headers["content-type"] == "application/json; charset=utf-8"
        body = response.json()
        assert set(body) == {"data", "meta"} and body["data"], path
        assert all(list(row) == ["id", "etag"] for row in body["data"]), path
    bill = clio.get(f"/api/v4/bills/{firm.bills[0]['id']}.json")
    assert bill.status_code == 200 and list(bill.json()) == ["data"]
    assert list(bill.json()["data"]) == ["id", "etag"] and bill.json()["data"]["etag"] == bill.headers["etag"]


def test_fields_are_honoured_in_order_with_nested_records(clio: Clio, firm: Firm) -> None:
    row = clio.get("/api/v4/bills.json", {"fields": BILL_FIELDS, "limit": 1}).json()["data"][0]
    assert list(row) == [name.split("{")[0] for name in BILL_FIELDS.replace("{id,name,type}", "")
                         .replace("{id,display_number}", "").replace("{code}", "").split(",")]  # fmt: skip
    stored = firm.find("bills", row["id"])
    client = firm.find("contacts", stored["client_id"])
    assert row["client"] == {"id": client["id"], "name": client["name"], "type": client["type"]}
    assert [m["id"] for m in row["matters"]] == stored["matter_ids"] and row["currency"] == {"code": "USD"}
    assert isinstance(row["total"], float | int) and Decimal(str(row["total"])) == stored["total"]
    assert "client_id" not in row and "matter_ids" not in row
    nested = clio.get("/api/v4/bills.json", {"fields": "id,client,matters{id,client}", "limit": 1}).json()["data"][0]
    assert list(nested["client"]) == ["id", "etag"]  # a nested record without a brace list: its defaults
    assert list(nested["matters"][0]["client"]) == ["id", "etag"]  # a second-level relation may be named


@pytest.mark.parametrize(
    "fields",
    ["id,not_a_field", "id,client{id,nope}", "id,client{id,company{id}}", "id,total{x}", "id,client{id", "id,,etag"],
)
def test_bad_fields_are_400(clio: Clio, fields: str) -> None:
    _error(clio.get("/api/v4/bills.json", {"fields": fields}), 400)


def test_api_version_header(clio: Clio) -> None:
    default = clio.get("/api/v4/matters.json", {"limit": 1})
    assert default.headers["x-api-version"] == "4.0.9"
    pinned = clio.get("/api/v4/matters.json", {"limit": 1}, X_API_VERSION="4.0.10")
    assert pinned.status_code == 200 and pinned.headers["x-api-version"] == "4.0.10"
    for bad in ("4.0.99", "3.0.0", "latest"):
        gone = clio.get("/api/v4/matters.json", {"limit": 1}, X_API_VERSION=bad)
        _error(gone, 410)
        assert "x-api-version" not in gone.headers and "x-ratelimit-limit" in gone.headers


def test_deleted_bills_are_absent_from_lists_and_404_by_id(clio: Clio, firm: Firm) -> None:
    deleted = [b for b in firm.bills if b["state"] == "deleted"]
    listed = {row["id"] for row in clio.get("/api/v4/bills.json", {"fields": "id,state"}).json()["data"]}
    assert deleted and not listed & {b["id"] for b in deleted}
    assert listed == {b["id"] for b in firm.bills if b["state"] != "deleted"}
    for bill in deleted:
        assert _error(clio.get(f"/api/v4/bills/{bill['id']}.json"), 404)["type"] == "RecordNotFound"
    explicit = clio.get("/api/v4/bills.json", {"state": "deleted", "fields": "id,state"}).json()["data"]
    assert {row["id"] for row in explicit} == {b["id"] for b in deleted}
    lines = {row["id"] for row in clio.get("/api/v4/line_items.json", {"fields": "id"}).json()["data"]}
    assert not {line["id"] for line in firm.line_items if line["bill_id"] in {b["id"] for b in deleted}} & lines
    void = next(b for b in firm.bills if b["state"] == "void")
    shown = clio.get(f"/api/v4/bills/{void['id']}.json", {"fields": "id,state"}).json()["data"]
    assert shown == {"id": void["id"], "state": "void"} and void["id"] in listed


def test_not_found_and_read_only(clio: Clio) -> None:
    _error(clio.get("/api/v4/bills/999.json"), 404)
    _error(clio.get("/api/v4/bills/abc.json"), 404)
    _error(clio.get("/api/v4/no_such_things.json"), 404)
    _error(clio.get("/api/v4/line_items/1.json"), 404)  # the spec has no GET by id for line items
    token = clio.token or clio.login()
    refused = clio.http.delete("/api/v4/bills/1.json", headers={"Authorization": f"Bearer {token}"})
    assert _error(refused, 405)["type"] == "MethodNotAllowed"


def test_paths_work_with_and_without_json_suffix(clio: Clio, firm: Firm) -> None:
    bill_id = firm.bills[0]["id"]
    bare, suffixed = clio.get("/api/v4/bills", {"limit": 2}).json(), clio.get("/api/v4/bills.json", {"limit": 2}).json()
    assert bare["data"] == suffixed["data"]
    assert bare["meta"]["paging"]["next"].replace("/bills?", "/bills.json?") == suffixed["meta"]["paging"]["next"]
    assert clio.get(f"/api/v4/bills/{bill_id}").json() == clio.get(f"/api/v4/bills/{bill_id}.json").json()


def test_etag_and_conditional_get(clio: Clio, firm: Firm) -> None:
    path = f"/api/v4/contacts/{firm.contacts[0]['id']}.json"
    first = clio.get(path)
    assert first.headers["etag"].startswith('"') and first.headers["last-modified"].endswith("GMT")
    again = clio.get(path, If_None_Match=first.headers["etag"])
    assert again.status_code == 304 and again.content == b""
    assert clio.get(path, If_None_Match='"other"').status_code == 200
    assert clio.get(path, If_Modified_Since=first.headers["last-modified"]).status_code == 304


def test_updated_since_sees_payments_edited_voided_or_deleted_on_a_later_day(clio: Clio, firm: Firm) -> None:
    changed = [
        a for a in firm.allocations
        if a["updated_at"][:10] != a["created_at"][:10] and parse_stamp(a["updated_at"]) > parse_stamp(a["created_at"])
    ]  # fmt: skip
    assert len(changed) >= 4
    for allocation in changed:
        cut = (parse_stamp(allocation["created_at"]) + timedelta(hours=1)).isoformat()
        rows = clio.get("/api/v4/allocations.json", {"updated_since": cut, "fields": "id,amount,voided_at"}).json()
        seen = {row["id"]: row for row in rows["data"]}
        bills = clio.get("/api/v4/bills.json", {"updated_since": cut, "fields": "id"}).json()["data"]
        if allocation.get("_deleted_at"):  # deleted: gone from the list, but its bill shows the change
            assert allocation["id"] not in seen
        else:
            assert seen[allocation["id"]]["voided_at"] == allocation["voided_at"]
        bill = firm.find("bills", allocation["bill_id"])
        assert bill["id"] in {row["id"] for row in bills}


def test_updated_since_is_strictly_after(clio: Clio, firm: Firm) -> None:
    bill = max((b for b in firm.bills if b["state"] != "deleted"), key=lambda b: parse_stamp(b["updated_at"]))
    at = bill["updated_at"]
    after = {r["id"] for r in clio.get("/api/v4/bills.json", {"updated_since": at, "fields": "id"}).json()["data"]}
    assert bill["id"] not in after
    earlier = (parse_stamp(at) - timedelta(seconds=1)).isoformat()
    ids = {r["id"] for r in clio.get("/api/v4/bills.json", {"updated_since": earlier}).json()["data"]}
    assert bill["id"] in ids
    utc = parse_stamp(at).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert {r["id"] for r in clio.get("/api/v4/bills.json", {"updated_since": utc}).json()["data"]} == after
    created = clio.get("/api/v4/bills.json", {"created_since": earlier, "fields": "id,created_at"}).json()["data"]
    assert all(parse_stamp(row["created_at"]) > parse_stamp(earlier) for row in created)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("bills", {"updated_since": "yesterday"}),
        ("bills", {"state": "open"}),
        ("bills", {"client_id": "abc"}),
        ("bills", {"issued_after": "2026-13-01"}),
        ("bills", {"order": "total(asc)"}),
        ("allocations", {"status": "maybe"}),
        ("bank_accounts", {"type": "Operating"}),
    ],
)
def test_malformed_filters_are_400(clio: Clio, path: str, params: dict) -> None:
    _error(clio.get(f"/api/v4/{path}.json", params), 400)


def test_filters(clio: Clio, firm: Firm) -> None:
    def ids(path: str, **params: str) -> set[int]:
        rows, _ = clio.walk(f"/api/v4/{path}.json", {"fields": "id", "limit": 200, **params})
        return {row["id"] for row in rows}

    live = [b for b in firm.bills if b["state"] != "deleted"]
    assert ids("bills", state="paid") == {b["id"] for b in live if b["state"] == "paid"}
    assert ids("bills", type="trust") == {b["id"] for b in live if b["kind"] == "trust_kind"}
    assert ids("bills", type="revenue") == {b["id"] for b in live if b["kind"] != "trust_kind"}
    client_id = firm.bills[0]["client_id"]
    assert ids("bills", client_id=str(client_id)) == {b["id"] for b in live if b["client_id"] == client_id}
    assert ids("bills", issued_after="2026-11-03") == {b["id"] for b in live if b["issued_at"] > "2026-11-03"}
    bill = firm.bills[3]
    assert ids("line_items", bill_id=str(bill["id"])) == {
        line["id"] for line in firm.line_items if line["bill_id"] == bill["id"] and not line.get("_deleted_at")
    }
    voided = {a["id"] for a in firm.allocations if a["voided_at"] and not a.get("_deleted_at")}
    assert voided and ids("allocations", status="invalid", order="id(asc)") == voided
    memo = firm.credit_memos[0]
    assert ids("allocations", parent_type="CreditMemo", parent_id=str(memo["id"])) == {
        a["id"] for a in firm.allocations if a["parent"] == {**a["parent"], "id": memo["id"], "type": "CreditMemo"}
    }
    trust = [a for a in firm.bank_accounts if a["type"] == "Trust"]
    assert ids("bank_accounts", type="TrustAccount") == {a["id"] for a in trust}
    assert ids("bank_transactions", bank_account_id=str(trust[0]["id"])) == ids("bank_transactions", type="liability")
    assert ids("contacts", type="Company") == {c["id"] for c in firm.contacts if c["type"] == "Company"}
    assert ids("matters", status="closed,pending") == {m["id"] for m in firm.matters if m["status"] != "Open"}


def test_money_and_dates_on_the_wire(clio: Clio, firm: Firm) -> None:
    fields = "id,date,amount,created_at,parent{id,type},bill{id,number},destination_bank_account{id,type}"
    rows, _ = clio.walk("/api/v4/allocations.json", {"fields": fields, "order": "id(asc)"})
    for row in rows:
        stored = firm.find("allocations", row["id"])
        assert Decimal(str(row["amount"])) == stored["amount"]
        assert row["parent"] == {"id": stored["parent"]["id"], "type": stored["parent"]["type"]}
        assert parse_stamp(row["created_at"]).utcoffset() in (timedelta(hours=-4), timedelta(hours=-5))
    memo = clio.get(f"/api/v4/credit_memos/{firm.credit_memos[0]['id']}.json", {"fields": "id,allocations{id}"})
    assert memo.json()["data"]["allocations"]


def test_settings_who_am_i_and_bank_balances(clio: Clio, firm: Firm) -> None:
    settings = clio.get("/api/v4/settings/billing.json", {"fields": "tax_rate,secondary_tax_rate,use_secondary_tax"})
    assert settings.json()["data"] == {"tax_rate": 8.875, "secondary_tax_rate": 2.5, "use_secondary_tax": True}
    me = clio.get("/api/v4/users/who_am_i.json", {"fields": "id,name"}).json()["data"]
    assert me["id"] == firm.users[0]["id"]
    accounts = clio.get("/api/v4/bank_accounts.json", {"fields": "id,type,balance"}).json()["data"]
    for account in accounts:
        rows, _ = clio.walk("/api/v4/bank_transactions.json", {"bank_account_id": account["id"],
                                                               "fields": "funds_in,funds_out"})  # fmt: skip
        total = sum(Decimal(str(r["funds_in"])) - Decimal(str(r["funds_out"])) for r in rows)
        assert Decimal(str(account["balance"])) == total
    assert {a["type"] for a in accounts} == {"Operating", "Trust"}


def test_edits_to_the_firm_are_served(firm: Firm) -> None:
    edited = build_firm()
    client = Clio(create_app(edited, requests_per_minute=1000))
    try:
        bill = next(b for b in edited.bills if b["state"] == "awaiting_payment" and b["type"] == "MatterBill")
        line = next(line for line in edited.line_items if line["bill_id"] == bill["id"])
        line["price"], line["quantity"] = Decimal("100.00"), Decimal("1")
        line.update(sub_total=Decimal("100.00"), total=Decimal("100.00"), tax=Decimal("0.00"),
                    secondary_tax=Decimal("0.00"), taxable=False, secondary_taxable=False)  # fmt: skip
        edited.recompute()
        served = client.get(f"/api/v4/bills/{bill['id']}.json", {"fields": "total,balance"}).json()["data"]
        assert (
            Decimal(str(served["total"])) == bill["total"] and bill["total"] != firm.find("bills", bill["id"])["total"]
        )
    finally:
        client.close()


def test_stats_count_calls_per_route(firm: Firm) -> None:
    client = Clio(create_app(firm, requests_per_minute=1000))
    try:
        client.get("/api/v4/bills.json")
        client.get(f"/api/v4/bills/{firm.bills[0]['id']}.json")
        client.get(f"/api/v4/bills/{firm.bills[1]['id']}.json")
        stats = client.http.get("/__sandbox__/stats").json()
        assert stats["calls"]["GET /api/v4/bills/{id}.json"] == 2
        assert stats["calls"]["GET /api/v4/bills.json"] == 1 and stats["calls"]["POST /oauth/token"] == 1
        assert stats["total"] == 4
    finally:
        client.close()
