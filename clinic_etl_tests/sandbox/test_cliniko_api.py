"""The Cliniko simulator over HTTP (in-process, httpx + ASGITransport): lists, paging, filters, hiding."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from clinic_etl.sandbox.cliniko import SANDBOX_CLINIKO_API_KEY, Practice, build_practice, create_app

BASE = "http://cliniko.sandbox"
HEADERS = {"User-Agent": "clinic_etl tests (ops@example.com)", "Accept": "application/json"}
NOT_SEARCHABLE = {"message": "This column is not searchable."}


@pytest.fixture(scope="module")
def practice() -> Practice:
    return build_practice()


@pytest.fixture(scope="module")
def app(practice: Practice) -> Any:
    return create_app(practice, requests_per_minute=1_000_000)


def get(app: Any, path: str, params: Any = None, base: str = BASE) -> httpx.Response:
    async def run() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base, headers=HEADERS) as client:
            return await client.get(path, params=params, auth=(SANDBOX_CLINIKO_API_KEY, ""))

    return asyncio.run(run())


def walk(app: Any, path: str, params: Any) -> tuple[list[dict], list[httpx.Response]]:
    """Follow links.next from the first page; return every record and every response."""

    async def run() -> tuple[list[dict], list[httpx.Response]]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE, headers=HEADERS) as client:
            auth = (SANDBOX_CLINIKO_API_KEY, "")
            responses = [await client.get(path, params=params, auth=auth)]
            while "next" in responses[-1].json()["links"]:
                responses.append(await client.get(responses[-1].json()["links"]["next"], auth=auth))
        plural = path.rstrip("/").split("/")[-1]
        return [row for r in responses for row in r.json()[plural]], responses

    return asyncio.run(run())


def live(practice: Practice) -> list[dict]:
    return [i for i in practice.invoices if i["deleted_at"] is None and i["archived_at"] is None]


def ids(rows: list[dict]) -> list[str]:
    return [row["id"] for row in rows]


def test_list_envelope_links_and_wire_format(app: Any, practice: Practice) -> None:
    response = get(app, "/v1/invoices", {"per_page": 5})
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["invoices", "total_entries", "links"]
    assert body["total_entries"] == len(live(practice))
    assert body["links"]["self"] == f"{BASE}/v1/invoices?page=1&per_page=5"
    assert body["links"]["next"] == f"{BASE}/v1/invoices?page=2&per_page=5" and "previous" not in body["links"]
    first = body["invoices"][0]
    stored = next(i for i in practice.invoices if i["id"] == first["id"])
    assert first["patient"] == {"links": {"self": f"{BASE}/v1/patients/{stored['patient_id']}"}}
    assert first["invoice_items"] == {"links": {"self": f"{BASE}/v1/invoices/{first['id']}/invoice_items"}}
    assert first["links"] == {"self": f"{BASE}/v1/invoices/{first['id']}"}
    assert "patient_id" not in first and isinstance(first["id"], str) and isinstance(first["total_amount"], str)


def test_absent_relations_are_omitted(app: Any, practice: Practice) -> None:
    bare = next(i for i in live(practice) if i["practitioner_id"] is None and i["appointment_id"] is None)
    body = get(app, f"/v1/invoices/{bare['id']}").json()
    assert "practitioner" not in body and "appointment" not in body and "business" in body


def test_links_follow_the_request_host(app: Any) -> None:
    body = get(app, "/v1/taxes", base="http://127.0.0.1:8123").json()
    assert body["links"]["self"] == "http://127.0.0.1:8123/v1/taxes?page=1"
    assert body["taxes"][0]["links"]["self"] == "http://127.0.0.1:8123/v1/taxes/1"


@pytest.mark.parametrize("per_page", [100, 7])
def test_paging_by_links_next_returns_every_row_once_in_order(app: Any, practice: Practice, per_page: int) -> None:
    rows, responses = walk(app, "/v1/invoices", {"per_page": per_page})
    expected = sorted(live(practice), key=lambda i: (i["created_at"], int(i["id"])))
    assert ids(rows) == ids(expected)
    assert len(responses) == -(-len(expected) // per_page)
    assert all(r.json()["total_entries"] == len(expected) for r in responses)
    assert responses[1].json()["links"]["previous"].endswith(f"page=1&per_page={per_page}")
    assert "next" not in responses[-1].json()["links"]


def test_next_links_keep_filters_sort_and_per_page(app: Any, practice: Practice) -> None:
    params = {"q[]": ["status:=20", "issue_date:>=2026-10-12"], "sort": "number:desc", "per_page": 10}
    rows, responses = walk(app, "/v1/invoices", params)
    expected = [i for i in live(practice) if i["status"] == 20 and i["issue_date"] >= "2026-10-12"]
    assert [r["number"] for r in rows] == sorted((i["number"] for i in expected), reverse=True)
    assert len(responses) > 2 and "q%5B%5D=status%3A%3D20" in responses[0].json()["links"]["next"]


def test_per_page_above_100_is_clamped_and_bad_paging_refused(app: Any) -> None:
    body = get(app, "/v1/invoices", {"per_page": 500}).json()
    assert len(body["invoices"]) == 100 and "next" in body["links"]
    assert get(app, "/v1/invoices", {"page": 0}).status_code == 400
    assert get(app, "/v1/invoices", {"per_page": "ten"}).status_code == 400
    beyond = get(app, "/v1/invoices", {"page": 999}).json()
    assert beyond["invoices"] == [] and "next" not in beyond["links"] and "previous" in beyond["links"]


def test_sort_and_deprecated_order(app: Any, practice: Practice) -> None:
    newest = get(app, "/v1/invoices", {"order": "desc", "per_page": 3}).json()["invoices"]
    expected = sorted(live(practice), key=lambda i: (i["created_at"], int(i["id"])))
    assert [r["created_at"] for r in newest] == [i["created_at"] for i in expected[::-1][:3]]
    by_total = get(app, "/v1/invoices", {"sort": "total_amount:desc,id", "per_page": 100}).json()["invoices"]
    totals = [float(r["total_amount"]) for r in by_total]
    assert totals == sorted(totals, reverse=True)
    assert get(app, "/v1/invoices", {"sort": "nonsense"}).status_code == 400


def test_filter_issue_date_equal(app: Any, practice: Practice) -> None:
    rows, _ = walk(app, "/v1/invoices", {"q[]": "issue_date:=2026-10-06", "per_page": 100})
    expected = [i for i in live(practice) if i["issue_date"] == "2026-10-06"]
    assert sorted(ids(rows)) == sorted(ids(expected)) and len(rows) >= 15


def test_filter_updated_at_range(app: Any, practice: Practice) -> None:
    params = {
        "q[]": ["updated_at:>=2026-10-13T00:00:00Z", "updated_at:<2026-10-14T00:00:00Z"],
        "per_page": 100,
    }
    rows, _ = walk(app, "/v1/invoices", params)
    expected = [i for i in live(practice) if "2026-10-13T00:00:00Z" <= i["updated_at"] < "2026-10-14T00:00:00Z"]
    assert sorted(ids(rows)) == sorted(ids(expected)) and expected


def test_filter_id_list_and_old_single_q(app: Any, practice: Practice) -> None:
    wanted = ids(live(practice)[5:8])
    body = get(app, "/v1/invoices", {"q[]": f"id:={','.join(wanted)}"}).json()
    assert sorted(ids(body["invoices"])) == sorted(wanted) and body["total_entries"] == 3
    single = get(app, "/v1/invoices", {"q": f"id:={wanted[0]}"}).json()
    assert ids(single["invoices"]) == [wanted[0]]


def test_url_encoded_filters_are_understood(app: Any, practice: Practice) -> None:
    response = get(app, "/v1/invoices?q%5B%5D=issue_date%3A%3E%3D2026-11-06&per_page=100")
    expected = [i for i in live(practice) if i["issue_date"] >= "2026-11-06"]
    assert sorted(ids(response.json()["invoices"])) == sorted(ids(expected))


def test_invoice_items_by_invoice_id(app: Any, practice: Practice) -> None:
    invoices = [i for i in live(practice) if len(practice.items_of(i["id"])) > 1][:3]
    wanted = ",".join(ids(invoices))
    rows, _ = walk(app, "/v1/invoice_items", {"q[]": f"invoice_id:={wanted}"})
    expected = [item for i in invoices for item in practice.items_of(i["id"])]
    assert sorted(ids(rows)) == sorted(ids(expected))
    assert rows[0]["invoice"]["links"]["self"].startswith(f"{BASE}/v1/invoices/")
    nested = get(app, f"/v1/invoices/{invoices[0]['id']}/invoice_items").json()
    assert ids(nested["invoice_items"]) == ids(practice.items_of(invoices[0]["id"]))


def test_non_filterable_fields_are_refused(app: Any) -> None:
    for path, query in [
        ("/v1/invoices", "total_amount:=90.0"),
        ("/v1/invoices", "invoice_id:=1"),
        ("/v1/invoice_items", "name:~Massage"),
        ("/v1/invoices/20001", "issue_date:=2026-09-28"),
        ("/v1/invoices/20001/invoice_items", "invoice_id:=20001"),
        ("/v1/taxes/1", "archived_at:*"),
        ("/v1/practitioners", "archived_at:*"),
    ]:
        response = get(app, path, {"q[]": query})
        assert (response.status_code, response.json()) == (400, NOT_SEARCHABLE), (path, query)


@pytest.mark.parametrize(
    "query",
    [
        "updated_at:>=2026-10-01",  # date-time without time and Z
        "updated_at:>=2026-10-01T10:00:00+11:00",  # not UTC
        "created_at:=2026-10-01T00:00:00Z",  # no = on date-times
        "issue_date:=2026-13-01",
        "issue_date:~2026",
        "id:=abc",
        "id:!=1,2",
        "status:>",
        "deleted_at:*now",
        "issue_date",
    ],
)
def test_malformed_filters_are_400_with_a_message(app: Any, query: str) -> None:
    response = get(app, "/v1/invoices", {"q[]": query})
    assert response.status_code == 400
    assert isinstance(response.json()["message"], str) and response.json() != NOT_SEARCHABLE


def test_string_date_and_null_operators_on_patients(app: Any, practice: Practice) -> None:
    rows = get(app, "/v1/patients", {"q[]": "last_name:~ngstr"}).json()["patients"]
    assert [(r["first_name"], r["last_name"]) for r in rows] == [("Zoë", "Ångström")]
    like = get(app, "/v1/patients", {"q[]": "last_name:~~o'c%nor", "per_page": 100}).json()["patients"]
    assert {r["last_name"] for r in like} == {"O'Connor"}
    no_email = get(app, "/v1/patients", {"q[]": "email:!?"}).json()["patients"]
    assert no_email and all(r["email"] is None for r in no_email)
    may, _ = walk(app, "/v1/patients", {"q[]": "date_of_birth:=****-05-**", "per_page": 100})
    expected = [p for p in practice.patients if p["date_of_birth"][5:7] == "05" and p["archived_at"] is None]
    assert sorted(ids(may)) == sorted(ids(expected)) and may


def test_deleted_and_archived_invoices_hidden_unless_asked(app: Any, practice: Practice) -> None:
    deleted = [i for i in practice.invoices if i["deleted_at"]]
    archived = [i for i in practice.invoices if i["archived_at"]]
    default, _ = walk(app, "/v1/invoices", {"per_page": 100})
    assert not {i["id"] for i in deleted + archived} & set(ids(default))
    with_deleted, _ = walk(app, "/v1/invoices", {"q[]": "deleted_at:*", "per_page": 100})
    assert set(ids(with_deleted)) == set(ids(default)) | set(ids(deleted))  # archived still hidden
    only_deleted = get(app, "/v1/invoices", {"q[]": "deleted_at:?", "per_page": 100}).json()
    assert sorted(ids(only_deleted["invoices"])) == sorted(ids(deleted))
    since = get(app, "/v1/invoices", {"q[]": "deleted_at:>=2026-01-01T00:00:00Z", "per_page": 100}).json()
    assert since["total_entries"] == len(deleted)
    every, _ = walk(app, "/v1/invoices", {"q[]": ["deleted_at:*", "archived_at:*"], "per_page": 100})
    assert len(every) == len(practice.invoices)
    only_archived = get(app, "/v1/invoices", {"q[]": "archived_at:?"}).json()
    assert sorted(ids(only_archived["invoices"])) == sorted(ids(archived))


def test_single_get_of_a_deleted_invoice_is_404_unless_asked(app: Any, practice: Practice) -> None:
    deleted = next(i for i in practice.invoices if i["deleted_at"])
    response = get(app, f"/v1/invoices/{deleted['id']}")
    assert response.status_code == 404 and "message" in response.json()
    found = get(app, f"/v1/invoices/{deleted['id']}", {"q[]": "deleted_at:*"})
    assert found.status_code == 200 and found.json()["deleted_at"] == deleted["deleted_at"]
    assert get(app, f"/v1/invoices/{deleted['id']}", {"q[]": "deleted_at:!?"}).status_code == 404
    item = practice.items_of(deleted["id"])[0]
    assert get(app, f"/v1/invoice_items/{item['id']}").status_code == 404
    hidden = get(app, "/v1/invoice_items", {"q[]": f"invoice_id:={deleted['id']}"}).json()
    assert hidden["total_entries"] == 0
    shown = get(app, "/v1/invoice_items", {"q[]": [f"invoice_id:={deleted['id']}", "deleted_at:*"]}).json()
    assert shown["total_entries"] == len(practice.items_of(deleted["id"]))


def test_archived_patient_hidden_unless_asked(app: Any, practice: Practice) -> None:
    patient = next(p for p in practice.patients if p["archived_at"])
    assert get(app, f"/v1/patients/{patient['id']}").status_code == 404
    found = get(app, f"/v1/patients/{patient['id']}", {"q[]": "archived_at:*"})
    assert found.status_code == 200 and found.json()["last_name"] == patient["last_name"]
    listed = get(app, "/v1/patients", {"q[]": f"id:={patient['id']}"}).json()
    assert listed["total_entries"] == 0
    listed = get(app, "/v1/patients", {"q[]": [f"id:={patient['id']}", "archived_at:*"]}).json()
    assert listed["total_entries"] == 1


def test_inactive_practitioners_only_under_inactive(app: Any, practice: Practice) -> None:
    active = get(app, "/v1/practitioners").json()
    inactive = get(app, "/v1/practitioners/inactive").json()
    assert active["total_entries"] == sum(p["active"] for p in practice.practitioners)
    assert [p["active"] for p in inactive["practitioners"]] == [False]
    gone = inactive["practitioners"][0]["id"]
    assert gone not in ids(active["practitioners"])
    assert get(app, f"/v1/practitioners/{gone}").json()["active"] is False


def test_other_resources_and_settings(app: Any) -> None:
    items = get(app, "/v1/billable_items", {"per_page": 100}).json()
    assert all(i["archived_at"] is None for i in items["billable_items"])
    fee = next(i for i in items["billable_items"] if i["item_code"] == "DNA")
    assert "tax" not in fee
    gst = get(app, "/v1/products", {"q[]": "tax_id:=1"}).json()
    assert gst["total_entries"] >= 2 and gst["products"][0]["tax"]["links"]["self"] == f"{BASE}/v1/taxes/1"
    business = get(app, "/v1/businesses").json()["businesses"][0]
    assert business["time_zone_identifier"] == "Australia/Sydney"
    assert get(app, "/v1/businesses", {"q[]": "show_in_online_bookings:=true"}).json()["total_entries"] >= 2
    assert get(app, "/v1/settings/public").json()["account"]["country_code"] == "AU"


def test_unknown_routes_and_ids_are_json_404(app: Any) -> None:
    for path in ("/v1/payments", "/v1/invoices/abc", "/v1/invoices/1", "/invoices"):
        response = get(app, path)
        assert response.status_code == 404 and response.json()["message"], path
