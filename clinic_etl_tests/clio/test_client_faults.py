"""The Clio client against faulty answers served by httpx.MockTransport (no network): paging that cycles, leaves the
host or the route, drops the request's fields, pages by offset past the cap or disagrees with `meta.records` is
refused with one ApiDataError naming the service, method and path (never a body or a secret); 429, 5xx, 401 and 410
are handled by the retrying core with clear messages."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs

import httpx
import pytest

from clinic_etl.http.errors import ApiDataError, ApiStatusError, AuthenticationError
from clinic_etl.sources.clio.client import ClioClient

HOST = "https://eu.app.clio.com"
PATH = "/api/v4/bills.json"
FIELDS = "id,number,client{id,name}"
CLIENT_ID, SECRET, REFRESH = "app-id-0123456789", "app-secret-9876543210", "refresh-token-abcdefghij"
CLIENT_NAME = "Maria Garcia"  # client data in every served record: never in a message

Body = dict | httpx.Response


def bill(n: int, **changes: object) -> dict:
    return {"id": 1000 + n, "number": str(n), "client": {"id": 7, "name": CLIENT_NAME}, **changes}


def page(rows: list, next_url: str | None = None, records: int | None = None, **meta: object) -> dict:
    paging = {"next": next_url} if next_url else {}
    body_meta: dict = {"paging": paging, **meta}
    if records is not None:
        body_meta["records"] = records
    return {"data": rows, "meta": body_meta}


def next_link(token: str, host: str = HOST, path: str = PATH, **params: str) -> str:
    query = {"fields": FIELDS, "limit": "200", "order": "id(asc)", "page_token": token, **params}
    return str(httpx.URL(f"{host}{path}", params={k: v for k, v in query.items() if v is not None}))


class Clio:
    """A scripted Clio: the token endpoint answers `token` (a body or a Response); API requests get the next of
    `bodies` (the last one repeats). Every request is kept."""

    def __init__(self, *bodies: Body | Callable[[httpx.Request], Body], token: Body | None = None) -> None:
        self.bodies = list(bodies)
        self.token = token or {"access_token": "at-1", "token_type": "bearer", "expires_in": 2_592_000}
        self.requests: list[httpx.Request] = []
        self.forms: list[dict[str, list[str]]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/oauth/token":
            self.forms.append(parse_qs(request.content.decode()))
            token = self.token(request) if callable(self.token) else self.token
            return token if isinstance(token, httpx.Response) else httpx.Response(200, json=token)
        if not self.bodies:
            raise AssertionError(f"unexpected request {request.url}")
        body = self.bodies.pop(0) if len(self.bodies) > 1 else self.bodies[0]
        if callable(body):
            body = body(request)
        return body if isinstance(body, httpx.Response) else httpx.Response(200, json=body)

    def api(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.startswith("/api/v4/")]


def client_for(served: Clio, sleeps: list[float] | None = None, **options) -> ClioClient:
    return ClioClient(
        HOST,
        CLIENT_ID,
        SECRET,
        REFRESH,
        transport=httpx.MockTransport(served),
        sleep=sleeps.append if sleeps is not None else (lambda seconds: None),
        **options,
    )


def refused(served: Clio, *fragments: str) -> ApiDataError:
    with pytest.raises(ApiDataError) as caught:
        client_for(served).list("bills", FIELDS)
    message = str(caught.value)
    assert message.startswith(f"Clio GET {PATH}: "), message
    assert message.endswith("the day is refused; re-run it"), message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    for secret in (CLIENT_NAME, "Maria", CLIENT_ID, SECRET, REFRESH, "at-1", "page_token=", FIELDS):
        assert secret not in message, (secret, message)
    return caught.value


def test_a_self_referencing_next_is_refused_before_it_is_sent() -> None:
    served = Clio(lambda request: page([bill(1)], str(request.url)))
    refused(served, "points back to a page already read")
    assert len(served.api()) == 1


def test_a_next_that_cycles_back_is_refused() -> None:
    served = Clio(page([bill(1)], next_link("p2")), page([bill(2)], next_link("p2")))
    refused(served, "page 2", "points back")
    assert len(served.api()) == 2


def test_a_next_on_a_foreign_host_is_refused() -> None:
    served = Clio(page([bill(1)], next_link("p2", host="https://evil.example.com")))
    refused(served, "leaves the API host (evil.example.com)")
    assert len(served.api()) == 1
    served = Clio(page([bill(1)], next_link("p2", host="http://eu.app.clio.com")))  # https -> http downgrade
    refused(served, "leaves the API host")


def test_a_next_to_another_route_or_a_relative_one_is_refused() -> None:
    refused(Clio(page([bill(1)], next_link("p2", path="/api/v4/contacts.json"))), "another route")
    refused(Clio(page([bill(1)], "/api/v4/bills.json?page_token=p2")), "not an absolute URL")


def test_a_next_that_drops_the_fields_gets_them_back() -> None:
    served = Clio(page([bill(1)], next_link("p2", fields=None)), page([bill(2)]))
    assert [row["id"] for row in client_for(served).list("bills", FIELDS)] == [1001, 1002]
    assert all("fields" in request.url.params for request in served.api())


def test_offset_paging_is_never_followed_past_the_cap() -> None:
    served = Clio(page([bill(1)], next_link(None, offset="9900", page_token=None)))  # type: ignore[arg-type]
    refused(served, "offset page past Clio's 10,000-record cap")
    assert len(served.api()) == 1
    below = Clio(page([bill(1)], next_link(None, offset="200", page_token=None)), page([bill(2)]))  # type: ignore[arg-type]
    assert [row["id"] for row in client_for(below).list("bills", FIELDS)] == [1001, 1002]


def test_the_records_received_must_match_meta_records() -> None:
    refused(Clio(page([bill(1), bill(2)], records=3)), "meta.records says 3 but 2 records were received")
    refused(Clio(page([bill(1)], next_link("p2"), records=1), page([bill(2)], records=1)), "meta.records says 1")
    ok = Clio(page([bill(1)], next_link("p2"), records=2), page([bill(2)], records=2))
    assert len(client_for(ok).list("bills", FIELDS)) == 2


def test_a_set_that_changes_during_paging_is_read_again_once() -> None:
    moving = Clio(
        page([bill(1)], next_link("p2"), records=2),
        page([bill(2), bill(3)], records=3),  # a record was added under us
        page([bill(1)], next_link("p2"), records=3),
        page([bill(2), bill(3)], records=3),
    )
    assert [row["id"] for row in client_for(moving).list("bills", FIELDS)] == [1001, 1002, 1003]
    assert len(moving.api()) == 4
    restless = Clio(
        page([bill(1)], next_link("p2"), records=2),
        page([bill(2), bill(3)], records=3),
        page([bill(1)], next_link("p2"), records=3),
        page([bill(2), bill(3), bill(4)], records=4),
    )
    refused(restless, "keeps changing during paging")


def test_paging_stops_at_the_cap_meta_records_allows() -> None:
    pages = iter(range(2, 100))
    served = Clio(lambda request: page([bill(len(served.api()))], next_link(f"p{next(pages)}"), records=1))
    refused(served, "goes on past page 2 although meta.records says 1")
    assert len(served.api()) == 2


def test_an_empty_page_with_a_next_is_refused() -> None:
    refused(Clio(page([], next_link("p2"))), "page 1 is empty but meta.paging.next goes on")


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"meta": {}}, "no `data` list"),
        ({"data": {"id": 1}}, "no `data` list"),
        ({"data": [1, 2]}, "not an object"),
        ({"data": [bill(1)], "meta": []}, "meta is a list"),
        ({"data": [bill(1)], "meta": {"paging": "next"}}, "meta.paging is a str"),
        ({"data": [bill(1)], "meta": {"records": "1"}}, "meta.records is not a count"),
        ({"data": [{"id": 1, "etag": '"x"'}]}, "without any requested field (fields ignored?)"),
        ({"data": [bill(1), bill(1, number="other")]}, "record 1001 came twice with different content"),
        (httpx.Response(200, text="<html>Maintenance</html>", headers={"Content-Type": "text/html"}), "not JSON"),
    ],
)
def test_malformed_pages_are_refused(body: Body, fragment: str) -> None:
    refused(Clio(body), fragment)


def test_a_429_waits_its_retry_after_then_recovers() -> None:
    sleeps: list[float] = []
    limited = httpx.Response(
        429,
        json={"error": {"type": "RateLimited", "message": "slow down"}},
        headers={"Retry-After": "7", "X-RateLimit-Remaining": "0"},
    )
    served = Clio(limited, page([bill(1)]))
    assert len(client_for(served, sleeps).list("bills", FIELDS)) == 1
    assert sleeps == [7.0] and len(served.api()) == 2


def test_a_5xx_is_retried_with_backoff() -> None:
    sleeps: list[float] = []
    served = Clio(httpx.Response(503), httpx.Response(502), page([bill(1)]))
    assert len(client_for(served, sleeps).list("bills", FIELDS)) == 1
    assert len(sleeps) == 2 and all(s > 0 for s in sleeps)


def test_a_401_that_survives_a_refresh_names_the_variables() -> None:
    served = Clio(httpx.Response(401, json={"error": "invalid_token", "error_description": "expired"}))
    with pytest.raises(AuthenticationError) as caught:
        client_for(served).list("bills", FIELDS)
    message = str(caught.value)
    assert "CLIO_CLIENT_ID" in message and "CLIO_REFRESH_TOKEN" in message and HOST in message
    for secret in (CLIENT_ID, SECRET, REFRESH, "at-1"):
        assert secret not in message
    assert len(served.forms) == 2 and len(served.api()) == 2  # one refresh, one retry, then the error


def test_a_retired_api_version_says_so() -> None:
    served = Clio(httpx.Response(410, json={"error": {"type": "UnsupportedApiVersion", "message": "gone"}}))
    with pytest.raises(ApiStatusError, match="X-API-VERSION 4.0.9 is invalid or retired") as caught:
        client_for(served).list("bills", FIELDS)
    assert caught.value.status_code == 410 and len(served.api()) == 1


def test_the_refresh_grant_goes_to_the_regions_oauth_endpoint() -> None:
    served = Clio(page([bill(1)]))
    client_for(served).list("bills", FIELDS)
    token = served.requests[0]
    assert (token.method, str(token.url)) == ("POST", f"{HOST}/oauth/token")
    assert "Authorization" not in token.headers
    assert served.forms[0] == {
        "grant_type": ["refresh_token"],
        "refresh_token": [REFRESH],
        "client_id": [CLIENT_ID],
        "client_secret": [SECRET],
    }
    assert str(served.api()[0].url).startswith(f"{HOST}/api/v4/bills.json?")


def test_expires_in_is_honoured_and_a_missing_one_falls_back_short() -> None:
    now = [1_000_000.0]
    served = Clio(page([bill(1)]), token={"access_token": "at-1", "expires_in": 900})
    client = client_for(served, clock=lambda: now[0])
    client.list("bills", FIELDS)
    now[0] += 900 - 89  # within a tenth of the token's life of its end: renewed
    client.list("bills", FIELDS)
    assert client.refreshes == 2
    served = Clio(page([bill(1)]), token={"access_token": "at-1"})
    client = client_for(served, clock=lambda: now[0])
    client.list("bills", FIELDS)
    now[0] += 3600
    client.list("bills", FIELDS)
    assert client.refreshes == 2


def test_a_token_answer_without_a_token_is_refused() -> None:
    served = Clio(page([bill(1)]), token={"token_type": "bearer", "expires_in": 60})
    with pytest.raises(ApiDataError, match="no access_token"):
        client_for(served).list("bills", FIELDS)


def test_a_rotated_refresh_token_is_used_from_then_on() -> None:
    tokens = iter([{"access_token": "at-1", "expires_in": 60, "refresh_token": "rotated-token"}])
    served = Clio(page([bill(1)]), token=lambda request: next(tokens, {"access_token": "at-2", "expires_in": 60}))
    now = [0.0]
    client = client_for(served, clock=lambda: now[0])
    client.list("bills", FIELDS)
    now[0] += 120
    client.list("bills", FIELDS)
    assert [form["refresh_token"] for form in served.forms] == [[REFRESH], ["rotated-token"]]


def test_an_oauth_server_error_is_retried_not_reported_as_refused() -> None:
    sleeps: list[float] = []
    answers = iter([httpx.Response(503), {"access_token": "at-1", "expires_in": 600}])
    served = Clio(page([bill(1)]), token=lambda request: next(answers))
    assert client_for(served, sleeps).list("bills", FIELDS)
    assert len(served.forms) == 2 and len(sleeps) == 1
