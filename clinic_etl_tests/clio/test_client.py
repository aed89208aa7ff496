"""The Clio client against the simulator: OAuth refresh (on expiry and on 401, refusals naming the variable to fix),
the pinned X-API-VERSION, `fields` and cursor paging on every list, the per-token rate limit, watermarks."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from clinic_etl.http.errors import AuthenticationError
from clinic_etl.http.limits import CallBudget, budget_id
from clinic_etl.sandbox.clio import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_REFRESH_TOKEN, Firm, create_app
from clinic_etl.sandbox.transport import InProcessTransport
from clinic_etl.sources.clio import client as clio_client
from clinic_etl.sources.clio.client import (
    API_VERSION,
    ROUTE_FILTERS,
    UNORDERED,
    ClioClient,
    RefreshRefused,
    host_of,
    watermark,
)
from clinic_etl.sources.clio.extract import RESOURCES
from clinic_etl_tests.clio.conftest import FakeClock, sandbox_client

SPEC = Path("/work/shared/reference/clio/openapi.json")
SECRETS = (SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_REFRESH_TOKEN)


def _calls(app, route: str) -> int:
    return app.state.stats.snapshot()["calls"].get(route, 0)


def _live_lines(firm: Firm) -> list[int]:
    return sorted(line["id"] for line in firm.line_items if not line.get("_deleted_at"))


def test_every_api_request_is_pinned_authorised_and_asks_for_fields(clio) -> None:
    client, transport, _ = clio
    client.list("bills", "id,number,client{id,name},matters{id,display_number}", {"state": "paid"})
    client.list("line_items", "id,total,bill{id}")
    client.list_by_ids("contacts", ["1402118002", "1402118101", "not-an-id", "007"], "id,name")
    requests = transport.api()
    assert len(requests) >= 3  # line items take several pages
    for request in requests:
        assert request.headers["X-API-VERSION"] == API_VERSION == "4.0.9"
        assert request.headers["Authorization"].startswith("Bearer ")
        assert request.headers["User-Agent"].startswith("clinic_etl/")
        params = dict(parse_qsl(request.url.query.decode()))
        assert params["fields"] and params["limit"] == "200" and "offset" not in params
        route = request.url.path.removeprefix("/api/v4/").removesuffix(".json")
        assert params.get("order") == (None if route in UNORDERED else "id(asc)")
    contacts = [v for k, v in parse_qsl(requests[-1].url.query.decode()) if k == "ids[]"]
    assert contacts == ["1402118002", "1402118101"]  # malformed ids are never sent


def test_nested_fields_come_back_flattenable(clio) -> None:
    client, _, _ = clio
    rows = client.list("bills", "id,total,client{id,name},matters{id}", {"type": "revenue"})
    assert rows and all(isinstance(r["client"]["id"], int) and isinstance(r["matters"], list) for r in rows)
    assert {"id", "total", "client", "matters"} == set(rows[0])


def test_cursor_paging_across_pages_follows_next_with_page_tokens(clio, firm: Firm) -> None:
    client, transport, app = clio
    rows = client.list("line_items", "id,bill{id}")
    assert [row["id"] for row in rows] == _live_lines(firm)
    pages = -(-len(rows) // 200)
    assert pages >= 3 and _calls(app, "GET /api/v4/line_items.json") == pages
    requests = transport.api()
    assert "page_token" not in requests[0].url.params
    for request in requests[1:]:
        assert request.url.params["page_token"] and request.url.params["fields"] == "id,bill{id}"
        assert "offset" not in request.url.params


def test_list_pages_are_checked_against_meta_records(clio, firm: Firm) -> None:
    client, _, _ = clio
    pages = list(client.pages("allocations", "id,date", {"status": "valid"}))
    valid = [a for a in firm.allocations if not a.get("_deleted_at") and a["voided_at"] is None]
    assert sum(len(page) for page in pages) == len(valid)
    ids = [row["id"] for page in pages for row in page]
    assert ids == sorted(a["id"] for a in valid)  # order=id(asc), not the route's default date(asc)


def test_token_is_cached_and_renewed_before_it_expires(firm: Firm) -> None:
    clock = FakeClock()
    client, transport, app = sandbox_client(firm, clock, token_ttl_s=3600)
    client.list("bank_accounts", "id,type")
    client.list("bank_accounts", "id,type")
    assert client.refreshes == 1
    clock.advance(3600 - 300 - 1)  # not yet within the early-renewal margin
    client.list("bank_accounts", "id,type")
    assert client.refreshes == 1
    clock.advance(2)  # 299 s before expiry: renewed before the request, which never sees a 401
    client.list("bank_accounts", "id,type")
    assert client.refreshes == 2
    assert _calls(app, "POST /oauth/token") == 2 and _calls(app, "GET /api/v4/bank_accounts.json") == 4
    assert all(status == 200 for _, status in transport.seen)
    first, last = transport.api()[0], transport.api()[-1]
    assert first.headers["Authorization"] != last.headers["Authorization"]


def test_a_401_refreshes_once_and_retries(firm: Firm) -> None:
    clock = FakeClock()
    client, transport, app = sandbox_client(firm, clock)
    client.list("bank_accounts", "id")
    app.state.tokens.access.clear()  # the access token is revoked on Clio's side
    rows = client.list("bank_accounts", "id,type")
    assert {row["type"] for row in rows} == {"Operating", "Trust"}
    assert client.refreshes == 2
    assert [status for _, status in transport.seen] == [200, 200, 401, 200, 200]  # token, GET, GET 401, token, GET


def test_an_expired_token_the_clock_missed_is_recovered_through_the_401(firm: Firm) -> None:
    clock = FakeClock()
    client, _, app = sandbox_client(firm, clock, token_ttl_s=600)
    client.list("bank_accounts", "id")
    client._renew_at = clock() + 10_000  # as if the client believed a longer lifetime than Clio granted
    clock.advance(601)
    assert client.list("bank_accounts", "id")
    assert client.refreshes == 2 and _calls(app, "POST /oauth/token") == 2


@pytest.mark.parametrize(
    ("credentials", "names", "status"),
    [
        ((SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, "revoked-refresh-token-123456"), ["CLIO_REFRESH_TOKEN"], 400),
        (
            (SANDBOX_CLIENT_ID, "wrong-secret-abcdef", SANDBOX_REFRESH_TOKEN),
            ["CLIO_CLIENT_ID", "CLIO_CLIENT_SECRET"],
            401,
        ),
        (("someone-elses-app", SANDBOX_CLIENT_SECRET, SANDBOX_REFRESH_TOKEN), ["CLIO_CLIENT_ID"], 401),
    ],
)
def test_a_refused_refresh_names_the_variable_never_its_value(
    firm: Firm, credentials: tuple[str, str, str], names: list[str], status: int
) -> None:
    client, transport, app = sandbox_client(firm, credentials=credentials)
    with pytest.raises(AuthenticationError) as caught:
        client.list("bills", "id")
    error = caught.value
    assert isinstance(error, RefreshRefused) and error.status_code == status
    message = str(error)
    for name in names:
        assert name in message
    for value in (*credentials, *SECRETS):
        assert value not in message
    assert _calls(app, "POST /oauth/token") == 1 and not transport.api()  # neither retried nor sent on


def test_missing_credentials_name_the_variables() -> None:
    with pytest.raises(ValueError, match="CLIO_CLIENT_SECRET, CLIO_REFRESH_TOKEN not set"):
        ClioClient("https://app.clio.com", "an-id", "", "")


def test_the_rate_limit_is_paced_from_the_headers_and_429_is_waited_out(firm: Firm) -> None:
    clock = FakeClock()
    client, transport, _ = sandbox_client(firm, clock, requests_per_minute=2)
    rows = client.list("line_items", "id")  # four pages with two requests a minute
    assert [row["id"] for row in rows] == _live_lines(firm)
    assert clock.sleeps and all(0 < s <= 61 for s in clock.sleeps)
    assert 429 not in [status for _, status in transport.seen]  # X-RateLimit-Remaining 0: waited for the reset
    while client._remaining != 0:
        client.list("bank_accounts", "id")
    client._remaining = None  # forget the headers: the next call draws a 429 and waits out its Retry-After
    before = len(clock.sleeps)
    assert client.list("bank_accounts", "id")
    assert [status for _, status in transport.seen[-2:]] == [429, 200]
    refusal = transport.responses[-2]
    assert clock.sleeps[before:] == [float(refusal.headers["Retry-After"])]


def test_budget_key_holds_no_secret_and_the_budget_is_drawn_per_request(firm: Firm) -> None:
    client, _, _ = sandbox_client(firm)
    assert client.budget_key.startswith("clio-clio.sandbox-")
    for value in SECRETS:
        assert value not in client.budget_key and value not in budget_id(client.budget_key)
    drawn: list[str] = []

    class Budget(CallBudget):
        def acquire(self, key: str) -> None:
            drawn.append(key)

    budgeted = ClioClient(
        "http://clio.sandbox", *SECRETS, transport=InProcessTransport(create_app(firm)), budget=Budget(50)
    )
    budgeted.list("bank_accounts", "id")
    budgeted.close()
    assert drawn == [client.budget_key]  # one API call, under the same key for the same grant


def test_regions_are_chosen_by_base_url() -> None:
    assert host_of("https://eu.app.clio.com") == "https://eu.app.clio.com"
    assert host_of("https://au.app.clio.com/api/v4/") == "https://au.app.clio.com"
    assert host_of("https://user:secret@ca.app.clio.com:8443/api/v4") == "https://ca.app.clio.com:8443"
    with pytest.raises(ValueError, match="absolute"):
        host_of("app.clio.com")
    client = ClioClient("https://ca.app.clio.com/api/v4", "id", "secret", "refresh")
    assert str(client.base_url) == "https://ca.app.clio.com/api/v4/"
    assert (
        str(ClioClient(client_id="i", client_secret="s", refresh_token="r").base_url) == "https://app.clio.com/api/v4/"
    )


def test_changed_since_sends_utc_and_the_watermark_comes_from_the_records(clio) -> None:
    client, transport, _ = clio
    since = datetime(2026, 10, 20, 4, 0, tzinfo=UTC)
    rows = client.changed_since("bills", since, "id,updated_at")
    assert transport.api()[0].url.params["updated_since"] == "2026-10-20T04:00:00Z"
    mark = watermark(rows)
    assert mark == max(rows, key=lambda r: datetime.fromisoformat(r["updated_at"]))["updated_at"]
    assert watermark([], previous=mark) == mark
    # compared as instants, not as text: 01:00 in New York (05:00 UTC) is later than 04:30 UTC
    assert (
        watermark([{"updated_at": "2026-10-20T01:00:00-04:00"}], "2026-10-20T04:30:00Z") == "2026-10-20T01:00:00-04:00"
    )
    assert watermark([{"updated_at": "not a time"}, {}]) is None


def test_a_filter_the_route_does_not_take_is_never_sent(clio) -> None:
    client, transport, _ = clio
    with pytest.raises(ValueError, match="takes no 'issued_after'"):
        client.list("allocations", "id", {"issued_after": "2026-10-01"})
    with pytest.raises(ValueError, match="fields"):
        client.list("bills", "")
    with pytest.raises(ValueError):
        client.list("bills", "id", {"offset": "0"})
    assert not transport.api()


# ---- the client's tables against the reference spec


def _spec() -> dict:
    if not SPEC.exists():
        pytest.skip("the Clio reference spec is not on this machine")
    return json.loads(SPEC.read_text(encoding="utf-8"))


def _properties(spec: dict, name: str) -> dict:
    schema = spec["components"]["schemas"][name]
    found: dict = {}
    for part in schema.get("allOf", [schema]):
        if "$ref" in part:
            found.update(_properties(spec, part["$ref"].rsplit("/", 1)[-1]))
        else:
            found.update(part.get("properties", {}))
    return found


def _route_parameters(spec: dict, route: str) -> set[str]:
    names = set()
    for parameter in spec["paths"][f"/{route}.json"]["get"]["parameters"]:
        if "$ref" in parameter:
            parameter = spec["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[-1]]
        names.add(parameter["name"])
    return names


def test_every_filter_and_paging_parameter_exists_on_its_route_in_the_spec() -> None:
    spec = _spec()
    for route, filters in ROUTE_FILTERS.items():
        offered = _route_parameters(spec, route)
        assert filters <= offered, (route, filters - offered)
        assert {"fields", "limit", "page_token"} <= offered, route
        assert ("order" in offered) == (route not in UNORDERED), route


def test_every_requested_field_exists_in_the_spec() -> None:
    spec = _spec()
    kinds = {
        "bills": "Bill", "line_items": "LineItem", "allocations": "Allocation", "credit_memos": "CreditMemo",
        "bank_transactions": "BankTransaction", "bank_accounts": "BankAccount", "contacts": "Contact",
        "matters": "Matter",
    }  # fmt: skip
    for resource in RESOURCES.values():
        properties = _properties(spec, kinds[resource.route])
        for name in resource.scalars:
            assert name in properties and "$ref" not in properties[name], (resource.route, name)
        for item in resource.nested:
            relation = properties[item.relation]
            ref = relation.get("$ref") or relation.get("items", {}).get("$ref")
            assert ref and (relation.get("type") == "array") == item.many, (resource.route, item.relation)
            assert item.field in _properties(spec, ref.rsplit("/", 1)[-1]), (resource.route, item)


def test_pinned_version_is_one_the_spec_knows() -> None:
    assert clio_client.API_VERSION in {f"4.0.{n}" for n in range(4, 11)}
