"""The GoHighLevel client and simulator against FACTS: the `Version: 2021-07-28` header and the bearer token on every
call, `locationId` in an upsert's body only, upsert matching by e-mail then phone (never by name), the declared error
bodies, the 10-second and daily rate limits with their headers, and 429s waited out."""

import json

import httpx
import pytest

from clinic_etl.engage.gohighlevel.client import API_VERSION, GhlClient
from clinic_etl.http.errors import AuthenticationError, RateLimitError
from clinic_etl.sandbox.gohighlevel import SANDBOX_GHL_TOKEN, SANDBOX_LOCATION_ID, SANDBOX_WORKFLOW_ID, create_app
from clinic_etl.sandbox.transport import InProcessTransport


@pytest.fixture
def ghl(tmp_path):
    state = str(tmp_path / "ghl.sqlite")
    slept: list[float] = []

    def client(**kwargs) -> GhlClient:
        transport = InProcessTransport(create_app(state, **kwargs))
        return GhlClient(SANDBOX_GHL_TOKEN, SANDBOX_LOCATION_ID, "http://ghl", transport=transport, sleep=slept.append)

    def admin(method: str, path: str, **kwargs):
        with httpx.Client(transport=InProcessTransport(create_app(state)), base_url="http://ghl") as http:
            return http.request(method, path, **kwargs).json()

    return client, admin, slept


def test_every_call_carries_the_version_header_and_the_token_and_the_upsert_its_location():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/contacts/upsert":
            return httpx.Response(200, json={"new": True, "contact": {"id": "c1"}, "traceId": "t"})
        if request.url.path.endswith("/tags"):
            return httpx.Response(201, json={"tags": ["a"]})
        return httpx.Response(200, json={"succeded": True, "contact": {"id": "c1"}})

    client = GhlClient("pit-123", "loc-9", transport=httpx.MockTransport(handler))
    assert str(client.base_url) == "https://services.leadconnectorhq.com/"
    client.upsert_contact({"email": "x@y.co"})
    client.update_contact("c1", {"phone": "+61400000000"})
    client.add_tags("c1", ["new-patient"])
    client.add_to_workflow("c1", "wf-1")
    assert [(r.method, r.url.path) for r in seen] == [
        ("POST", "/contacts/upsert"),
        ("PUT", "/contacts/c1"),
        ("POST", "/contacts/c1/tags"),
        ("POST", "/contacts/c1/workflow/wf-1"),
    ]
    assert all(r.headers["Version"] == API_VERSION == "2021-07-28" for r in seen)
    assert all(r.headers["Authorization"] == "Bearer pit-123" for r in seen)
    bodies = [json.loads(r.content) for r in seen]
    assert bodies[0] == {"email": "x@y.co", "locationId": "loc-9"}
    assert "locationId" not in bodies[1]  # not part of UpdateContactDto
    assert bodies[2] == {"tags": ["new-patient"]} and bodies[3] == {}


def test_upsert_matches_on_email_then_phone_never_on_the_name(ghl):
    client, admin, _ = ghl
    c = client()
    new, ann = c.upsert_contact({"firstName": "Ann", "lastName": "Lee", "email": "ann@x.co", "phone": "+61400000001"})
    same_name, other = c.upsert_contact({"firstName": "Ann", "lastName": "Lee", "email": "ann2@x.co"})
    assert new and same_name and ann["id"] != other["id"]  # two people of one name: two contacts
    again, found = c.upsert_contact({"email": "ANN@x.co", "firstName": "Annie"})
    assert not again and found["id"] == ann["id"] and found["firstName"] == "Annie"
    by_phone, found = c.upsert_contact({"phone": "+61 400 000 001"})
    assert not by_phone and found["id"] == ann["id"]
    # the e-mail is one contact's and the phone another's: the first in priority (e-mail) wins, the phone is ignored
    _, split = c.upsert_contact({"email": "ann2@x.co", "phone": "+61400000001"})
    assert split["id"] == other["id"] and "phone" not in split
    # createNewIfDuplicateAllowed creates only where the location allows duplicates
    _, still = c.upsert_contact({"email": "ann@x.co", "createNewIfDuplicateAllowed": True})
    assert still["id"] == ann["id"]
    admin("PUT", "/__sandbox__/settings", json={"allow_duplicates": True})
    created, twin = c.upsert_contact({"email": "ann@x.co", "createNewIfDuplicateAllowed": True})
    assert created and twin["id"] != ann["id"]
    assert len(admin("GET", "/__sandbox__/contacts")["contacts"]) == 3


def test_the_declared_error_bodies(ghl, tmp_path):
    client, _, _ = ghl
    c = client()
    app = create_app(str(tmp_path / "ghl.sqlite"))
    with httpx.Client(transport=InProcessTransport(app), base_url="http://ghl") as http:
        wrong_token = http.post("/contacts/upsert", json={}, headers={"Version": API_VERSION})
        assert wrong_token.status_code == 401
        assert wrong_token.json() == {
            "statusCode": 401,
            "message": "Invalid token: access token is invalid",
            "error": "Unauthorized",
        }
        auth = {"Authorization": f"Bearer {SANDBOX_GHL_TOKEN}"}
        no_version = http.post("/contacts/upsert", json={"locationId": SANDBOX_LOCATION_ID}, headers=auth)
        assert no_version.status_code == 400 and no_version.json()["statusCode"] == 400
        bad = http.post(
            "/contacts/upsert",
            json={"locationId": SANDBOX_LOCATION_ID, "email": "not-an-email", "nickname": "x"},
            headers={**auth, "Version": API_VERSION},
        )
        assert bad.status_code == 422
        assert bad.json()["error"] == "Unprocessable Entity" and isinstance(bad.json()["message"], list)
    with pytest.raises(Exception) as refused:
        c.upsert_contact({"email": "someone@example.com", "phone": "not a phone", "nickname": "x"})
    assert refused.value.status_code == 422  # type: ignore[attr-defined]
    wrong = GhlClient("pit-wrong", SANDBOX_LOCATION_ID, "http://ghl", transport=InProcessTransport(app))
    with pytest.raises(AuthenticationError) as denied:
        wrong.upsert_contact({"email": "a@b.co"})
    assert "GHL_TOKEN" in str(denied.value) and "pit-wrong" not in str(denied.value)


def test_an_error_text_never_carries_an_email_or_a_phone():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            422, json={"statusCode": 422, "message": ["jo@example.com is taken by +61 412 345 678"], "error": "x"}
        )

    client = GhlClient("pit", "loc", transport=httpx.MockTransport(handler))
    with pytest.raises(Exception) as refused:
        client.upsert_contact({"email": "jo@example.com"})
    text = str(refused.value)
    assert "jo@example.com" not in text and "412" not in text and "<e-mail>" in text and "<phone>" in text


def test_the_burst_limit_answers_429_with_the_documented_headers_and_the_client_waits_the_interval(ghl):
    client, admin, slept = ghl
    now = [1_800_000_000.0]
    c = client(clock=lambda: now[0])
    for n in range(100):
        c.upsert_contact({"email": f"p{n}@x.co"})
    raw = c._http.post("contacts/upsert", json={"email": "p100@x.co", "locationId": SANDBOX_LOCATION_ID})
    assert raw.status_code == 429
    assert raw.headers["X-RateLimit-Max"] == "100" and raw.headers["X-RateLimit-Remaining"] == "0"
    assert raw.headers["X-RateLimit-Interval-Milliseconds"] == "10000"
    assert raw.headers["X-RateLimit-Limit-Daily"] == "200000" and raw.headers["X-RateLimit-Daily-Remaining"]
    assert "Retry-After" not in raw.headers  # not documented: the client waits the interval instead

    def advance(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    c._sleep = advance
    c.upsert_contact({"email": "p100@x.co"})  # 429, waits the 10 s interval, then goes through
    assert slept == [10.0]


def test_429s_are_retried_and_a_spent_daily_quota_is_not_waited_for(ghl):
    client, admin, slept = ghl
    admin("POST", "/__sandbox__/faults", json={"path_prefix": "/contacts/upsert", "status": 429, "count": 2})
    c = client(time_scale=100)
    new, _ = c.upsert_contact({"email": "late@x.co"})
    assert new and slept == [0.1, 0.1] and c.calls == 3

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"X-RateLimit-Daily-Remaining": "0"}, json={"statusCode": 429})

    spent = GhlClient("pit", "loc", transport=httpx.MockTransport(handler), sleep=slept.append)
    with pytest.raises(RateLimitError) as stopped:
        spent.upsert_contact({"email": "a@b.co"})
    assert stopped.value.retry_after == 86400.0 and spent.calls == 1


def test_a_workflow_enrolment_is_recorded_and_an_unknown_workflow_refused(ghl):
    client, admin, _ = ghl
    c = client()
    _, contact = c.upsert_contact({"email": "w@x.co"})
    c.add_to_workflow(contact["id"], SANDBOX_WORKFLOW_ID)
    assert [e["workflowId"] for e in admin("GET", "/__sandbox__/enrolments")["enrolments"]] == [SANDBOX_WORKFLOW_ID]
    with pytest.raises(Exception) as refused:
        c.add_to_workflow(contact["id"], "no-such-workflow")
    assert refused.value.status_code == 400  # type: ignore[attr-defined]
