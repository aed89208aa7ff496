"""The Cliniko client against malformed list pages (issue corpus): every page-level fault is refused with one
ApiDataError naming service, method, path and what disagreed (never a body's content), without retrying it;
401 and 5xx storms give clear HTTP errors. Pages are served by httpx.MockTransport: no network."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from clinic_etl.http import constants
from clinic_etl.http.errors import ApiDataError, ApiError, ApiStatusError, AuthenticationError, InternalServerError
from clinic_etl.sources.cliniko import client as cliniko_client
from clinic_etl.sources.cliniko.client import ClinikoClient, _list_key

API_KEY = "MS0xNzUwMDAwMDAwMDAwMDAwMDAtc2VjcmV0-au1"
BASE = "http://cliniko.test/v1"
PATH = "/v1/invoices"
PATIENT = "Mrs. Bernice Mayer"  # personal data in every served record: must never reach a message

Body = dict | list | httpx.Response


def invoice(number: int, **changes: object) -> dict:
    return {"id": str(1000 + number), "number": number, "total_amount": "108.17", "invoice_to": PATIENT, **changes}


def invoices(first: int, last: int) -> list[dict]:
    return [invoice(n) for n in range(first, last + 1)]


def link(page: int) -> str:
    return f"{BASE}/invoices?page={page}&per_page=100&sort=id"


def page(rows: object, total: object, number: int = 1, next_page: int | None = None, key: str = "invoices") -> dict:
    links = {"self": link(number)}
    if next_page is not None:
        links["next"] = link(next_page)
    return {key: rows, "total_entries": total, "links": links}


class Served:
    """Answers each request with the next body of a script (a dict/list as JSON, or a prepared Response)."""

    def __init__(self, *bodies: Body) -> None:
        self.bodies = list(bodies)
        self.urls: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(str(request.url))
        if not self.bodies:
            raise AssertionError(f"unexpected request {request.url}")
        body = self.bodies.pop(0) if len(self.bodies) > 1 else self.bodies[0]
        return body if isinstance(body, httpx.Response) else httpx.Response(200, json=body)


def client_for(handler: Callable[[httpx.Request], httpx.Response], sleeps: list[float] | None = None) -> ClinikoClient:
    return ClinikoClient(
        API_KEY,
        BASE,
        transport=httpx.MockTransport(handler),
        sleep=sleeps.append if sleeps is not None else (lambda seconds: None),
    )


def refused(served: Served, *fragments: str, filters: tuple[str, ...] = ()) -> tuple[ApiDataError, ClinikoClient]:
    client = client_for(served)
    with pytest.raises(ApiDataError) as caught:
        client.list("invoices", list(filters))
    message = str(caught.value)
    assert message.startswith(f"Cliniko GET {PATH}: "), message
    assert message.endswith("the day is refused; re-run it"), message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    for secret in (PATIENT, "Bernice", API_KEY, "per_page", "q[]", "issue_date"):
        assert secret not in message, (secret, message)
    return caught.value, client


# ---- the error class


def test_api_data_error_is_an_api_error_but_not_an_http_status_error():
    assert issubclass(ApiDataError, ApiError) and not issubclass(ApiDataError, ApiStatusError)


# ---- good paging


def test_clean_paging_returns_every_record_once():
    served = Served(
        page(invoices(1, 100), 245, 1, 2), page(invoices(101, 200), 245, 2, 3), page(invoices(201, 245), 245, 3)
    )
    client = client_for(served)
    rows = client.list("invoices", ["issue_date:=2026-10-14"])
    assert [r["number"] for r in rows] == list(range(1, 246))
    assert client.calls == 3
    assert "per_page=100" in served.urls[0] and "page=" not in served.urls[0].replace("per_page", "")
    assert served.urls[1:] == [link(2), link(3)]


def test_an_empty_list_with_total_entries_zero_is_fine():
    assert client_for(Served(page([], 0))).list("invoices") == []


def test_identical_duplicate_across_pages_is_kept_once():
    """Page-number paging can repeat a row; the same id with the same content is the same record."""
    served = Served(page(invoices(1, 100), 150, 1, 2), page(invoices(100, 150), 150, 2))
    client = client_for(served)
    pages = list(client.pages("invoices"))
    assert [len(p) for p in pages] == [100, 50]
    rows = [r for p in pages for r in p]
    assert [r["number"] for r in rows] == list(range(1, 151))
    assert rows[99] == invoice(100)


def test_list_key_follows_the_route():
    assert _list_key("invoices") == "invoices"
    assert _list_key("invoices/7/invoice_items") == "invoice_items"
    assert _list_key("practitioners/inactive") == "practitioners"
    assert _list_key("appointments/70644/invoices/deleted") == "invoices"


def test_a_state_route_reads_its_resource_key():
    served = Served({"practitioners": [{"id": "9", "active": False}], "total_entries": 1, "links": {}})
    assert client_for(served).list("practitioners/inactive") == [{"id": "9", "active": False}]


# ---- issue 3: self-referencing links.next


def test_self_referencing_links_next_is_a_cycle():
    served = Served({"invoices": invoices(1, 100), "total_entries": 250, "links": {"self": link(1), "next": link(1)}})
    _, client = refused(served, "links.next of page 1 points back to a page already read (a cycle)")
    assert client.calls == 1


def test_self_referencing_links_next_without_a_self_link_is_a_cycle():
    """The first request has no `page`; a next link to page 1 (parameters in another order) is the same page."""
    looping = f"{BASE}/invoices?sort=id&page=1&per_page=100"
    served = Served({"invoices": invoices(1, 100), "total_entries": 250, "links": {"next": looping}})
    _, client = refused(served, "a cycle")
    assert client.calls == 1


def test_links_next_back_to_an_earlier_page_is_a_cycle():
    served = Served(page(invoices(1, 100), 250, 1, 2), page(invoices(101, 200), 250, 2, 1))
    _, client = refused(served, "links.next of page 2 points back to a page already read (a cycle)")
    assert client.calls == 2


def test_links_next_running_past_the_total_is_capped():
    """ceil(150 / 100) + 1 = 3 pages at most, even when every next link is new."""

    def endless(request: httpx.Request) -> httpx.Response:
        number = int(request.url.params.get("page", "1"))
        rows = invoices(1, 100) if number == 1 else invoices(101, 150) if number == 2 else []
        return httpx.Response(200, json=page(rows, 150, number, number + 1))

    client = client_for(endless)
    with pytest.raises(ApiDataError, match=r"links.next goes on past page 3 although total_entries says 150"):
        client.list("invoices")
    assert client.calls == 3


def test_absolute_page_cap_holds_whatever_total_entries_says(monkeypatch):
    monkeypatch.setattr(cliniko_client, "MAX_PAGES", 4)
    assert constants.MAX_PAGES >= 1_000

    def endless(request: httpx.Request) -> httpx.Response:
        number = int(request.url.params.get("page", "1"))
        rows = invoices(100 * number - 99, 100 * number)
        return httpx.Response(200, json=page(rows, 10**9, number, number + 1))

    client = client_for(endless)
    with pytest.raises(ApiDataError, match=r"^Cliniko GET /v1/invoices: links.next goes on past page 4"):
        client.list("invoices")
    assert client.calls == 4


# ---- issue 4: empty pages, missing list key, total_entries


def test_empty_page_with_total_entries_above_zero_is_refused():
    _, client = refused(Served(page([], 3)), "total_entries says 3 but 0 records were received (page 1 was empty)")
    assert client.calls == 1


def test_missing_list_key_is_refused():
    refused(Served({"total_entries": 3, "links": {"self": link(1)}}), "page 1 has no `invoices` list")


def test_list_under_another_key_is_refused():
    refused(Served(page(invoices(1, 3), 3, key="patients")), "page 1 has no `invoices` list")


@pytest.mark.parametrize("rows", [{"1": "x"}, "invoices", None, 3], ids=["object", "string", "null", "number"])
def test_list_key_holding_a_non_list_is_refused(rows):
    refused(Served(page(rows, 3)), "page 1's `invoices` is a ", "not a list")


def test_records_without_an_id_are_kept_apart_for_the_ledger_to_quarantine():
    """Issue 6.5: an invoice without an id is quarantined by the ledger (by position), the rest goes on."""
    rows = [{"number": 1, "invoice_to": PATIENT}, {"number": 2, "invoice_to": PATIENT}, *invoices(1, 2)]
    assert client_for(Served(page(rows, 4))).list("invoices") == rows


def test_an_entry_that_is_not_an_object_is_refused():
    refused(Served(page([*invoices(1, 1), "x"], 2)), "page 1 holds a `invoices` entry that is not an object")


def test_empty_page_in_the_middle_while_total_entries_says_more_remain():
    served = Served(page(invoices(1, 100), 245, 1, 2), page([], 245, 2, 3), page(invoices(101, 145), 245, 3))
    _, client = refused(served, "total_entries says 245 but 100 records were received (page 2 was empty)")
    assert client.calls == 2


def test_total_entries_says_more_than_received():
    """The issue: 3 invoices missing and the run passed."""
    error, _ = refused(Served(page(invoices(1, 42), 45)), "total_entries says 45 but 42 records were received")
    assert error.path == PATH and "45" in error.problem


def test_total_entries_says_fewer_than_received():
    refused(Served(page(invoices(1, 42), 40)), "total_entries says 40 but 42 records were received")


def test_total_entries_says_more_than_received_over_several_pages():
    served = Served(
        page(invoices(1, 100), 245, 1, 2), page(invoices(101, 200), 245, 2, 3), page(invoices(201, 242), 245, 3)
    )
    refused(served, "total_entries says 245 but 242 records were received (3 pages)")


def test_total_entries_missing_is_refused():
    refused(Served({"invoices": invoices(1, 3), "links": {"self": link(1)}}), "page 1 has no total_entries")


@pytest.mark.parametrize(
    ("total", "kind"),
    [("3", "str"), (3.0, "float"), (None, "null"), (True, "bool")],
    ids=["string", "float", "null", "bool"],
)
def test_total_entries_not_an_integer_is_refused(total, kind):
    refused(Served(page(invoices(1, 3), total)), f"page 1's total_entries is a {kind}, not an integer")


def test_total_entries_negative_is_refused():
    refused(Served(page([], -1)), "page 1's total_entries is negative (-1)")


def test_total_entries_missing_on_a_later_page_is_refused():
    served = Served(page(invoices(1, 100), 150, 1, 2), {"invoices": invoices(101, 150), "links": {"self": link(2)}})
    refused(served, "page 2 has no total_entries")


def test_total_entries_changing_during_paging_is_read_again_once():
    """An invoice created while paging: the second read, consistent with itself, is taken."""
    served = Served(
        page(invoices(1, 100), 150, 1, 2),
        page(invoices(101, 151), 151, 2),
        page(invoices(1, 100), 151, 1, 2),
        page(invoices(101, 151), 151, 2),
    )
    client = client_for(served)
    rows = client.list("invoices")
    assert [r["number"] for r in rows] == list(range(1, 152))
    assert client.calls == 4
    assert "page=" not in served.urls[2].replace("per_page", "")  # the re-read starts from the first request


def test_total_entries_changing_again_when_re_read_is_refused():
    served = Served(
        page(invoices(1, 100), 150, 1, 2),
        page(invoices(101, 151), 151, 2),
        page(invoices(1, 100), 151, 1, 2),
        page(invoices(101, 152), 152, 2),
    )
    _, client = refused(
        served,
        "total_entries changed from 150 to 151 on page 2, then again when re-read "
        "(total_entries changed from 151 to 152 on page 2): the set keeps changing during paging",
    )
    assert client.calls == 4


# ---- duplicates


def test_same_id_with_different_content_across_pages_is_refused():
    changed = [invoice(100, total_amount="0.00"), *invoices(101, 150)]
    served = Served(page(invoices(1, 100), 150, 1, 2), page(changed, 150, 2))
    error, _ = refused(served, "record 1100 came twice with different content (again on page 2)")
    assert "0.00" not in str(error) and "108.17" not in str(error)


# ---- bodies that are not a JSON object


def test_truncated_json_is_refused_and_not_retried():
    text = json.dumps(page(invoices(101, 150), 150, 2))
    truncated = httpx.Response(
        200, content=text[: len(text) // 2].encode(), headers={"Content-Type": "application/json"}
    )
    served = Served(page(invoices(1, 100), 150, 1, 2), truncated)
    _, client = refused(served, "the body is not valid JSON (truncated?)")
    assert client.calls == 2


def test_html_page_with_status_200_is_refused():
    html = httpx.Response(200, html=f"<html><body>Maintenance. Hello {PATIENT}</body></html>")
    _, client = refused(Served(html), "answered HTTP 200 with text/html, not JSON")
    assert client.calls == 1


def test_json_with_a_wrong_content_type_is_refused():
    plain = httpx.Response(200, text=json.dumps(page(invoices(1, 3), 3)))
    refused(Served(plain), "answered HTTP 200 with text/plain, not JSON")


def test_json_without_a_content_type_is_refused():
    bare = httpx.Response(200, content=json.dumps(page(invoices(1, 3), 3)).encode())
    refused(Served(bare), "answered HTTP 200 with no content type, not JSON")


@pytest.mark.parametrize(
    ("body", "kind"), [(invoices(1, 3), "array"), ("invoices", "string"), (None, "null"), (3, "number")],
    ids=["array", "string", "null", "number"],
)  # fmt: skip
def test_json_body_that_is_not_an_object_is_refused(body, kind):
    served = Served(
        httpx.Response(200, content=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    )
    refused(served, f"the body is a JSON {kind}, not an object")


# ---- broken links.next


@pytest.mark.parametrize(
    "next_link",
    [
        "not a url",
        "page=2",
        "/v1/invoices?page=2",
        "?page=2",
        "//",
        "http://",
        "ftp://cliniko.test/v1/invoices?page=2",
        "",
        2,
        ["x"],
    ],
    ids=[
        "words",
        "query-only",
        "relative-path",
        "relative-query",
        "slashes",
        "no-host",
        "ftp",
        "empty",
        "number",
        "list",
    ],
)
def test_broken_links_next_is_refused(next_link):
    served = Served({"invoices": invoices(1, 100), "total_entries": 150, "links": {"self": link(1), "next": next_link}})
    _, client = refused(served, "links.next of page 1 is not an absolute URL")
    assert client.calls == 1


def test_links_that_is_not_an_object_is_refused():
    refused(Served({"invoices": invoices(1, 100), "total_entries": 150, "links": link(2)}), "page 1's links is a str")


def test_foreign_host_links_next_is_refused():
    foreign = "https://api.evil.example/v1/invoices?page=2&per_page=100&sort=id"
    served = Served({"invoices": invoices(1, 100), "total_entries": 150, "links": {"next": foreign}})
    _, client = refused(served, "links.next of page 1 leaves the API host (api.evil.example); refusing")
    assert client.calls == 1


def test_links_next_downgrading_the_scheme_or_changing_the_port_is_refused():
    for other in ("https://cliniko.test/v1/invoices?page=2", "http://cliniko.test:8080/v1/invoices?page=2"):
        served = Served({"invoices": invoices(1, 100), "total_entries": 150, "links": {"next": other}})
        refused(served, "leaves the API host (cliniko.test)")


def test_links_next_to_another_route_is_refused():
    served = Served({"invoices": invoices(1, 100), "total_entries": 150, "links": {"next": f"{BASE}/patients?page=2"}})
    refused(served, "links.next of page 1 leads to another route; refusing")


# ---- HTTP faults


def test_401_names_cliniko_api_key_and_is_not_retried():
    sleeps: list[float] = []
    served = Served(httpx.Response(401, json={"message": f"Key {API_KEY} of {PATIENT} is not valid"}))
    client = client_for(served, sleeps)
    with pytest.raises(AuthenticationError) as caught:
        client.list("invoices", ["issue_date:=2026-10-14"])
    message = str(caught.value)
    assert message.startswith(f"Cliniko GET {PATH} answered HTTP 401: ")
    assert "check CLINIKO_API_KEY" in message
    assert API_KEY not in message and API_KEY[-6:] not in message and PATIENT not in message
    assert "issue_date" not in message
    assert client.calls == 1 and sleeps == []


def test_500_storm_is_retried_with_backoff_then_fails_clearly():
    sleeps: list[float] = []
    client = client_for(Served(httpx.Response(500, json={"message": "Internal Server Error"})), sleeps)
    with pytest.raises(InternalServerError) as caught:
        client.list("invoices")
    attempts = constants.MAX_RETRIES + 1
    assert str(caught.value) == (
        f"Cliniko GET {PATH} answered HTTP 500: Internal Server Error (gave up after {attempts} attempts)"
    )
    assert client.calls == attempts
    assert len(sleeps) == constants.MAX_RETRIES
    assert all(0 < s <= constants.MAX_RETRY_DELAY for s in sleeps)
    assert sleeps[-1] > sleeps[0]  # exponential: 1, 2, 4, 8, 16 s, each plus under 1 s of jitter


def test_a_few_500s_on_a_later_page_are_retried_and_paging_completes():
    sleeps: list[float] = []
    served = Served(
        page(invoices(1, 100), 150, 1, 2), httpx.Response(502), httpx.Response(503), page(invoices(101, 150), 150, 2)
    )
    client = client_for(served, sleeps)
    assert len(client.list("invoices")) == 150
    assert client.calls == 4 and len(sleeps) == 2
    assert served.urls[1:] == [link(2)] * 3
