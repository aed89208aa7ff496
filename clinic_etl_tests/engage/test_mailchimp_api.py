"""The Mailchimp client and simulator against FACTS: the key's -usN suffix picks the data centre; the key goes as a
bearer token, only to the API host, never to a batch's pre-signed results URL (the simulator takes Basic too);
batches are polled to `finished` and their gzipped tar read in memory; members are upserted with `status_if_new`
(never re-subscribing); the compliance-state answers; tags (204); problem documents whose `detail` (which may quote an
e-mail) never reaches an error text; 429s retried."""

import gzip
import io
import json
import tarfile

import httpx
import pytest

from clinic_etl.engage.mailchimp.client import MailchimpClient, base_url_for, data_centre, subscriber_hash
from clinic_etl.http.errors import AuthenticationError
from clinic_etl.sandbox.mailchimp import (
    SANDBOX_AUDIENCE_ID,
    SANDBOX_JOURNEY_ID,
    SANDBOX_MAILCHIMP_KEY,
    SANDBOX_STEP_ID,
    create_app,
)
from clinic_etl.sandbox.transport import InProcessTransport

AUDIENCE = SANDBOX_AUDIENCE_ID
BASE = "http://us21.api.mailchimp.sandbox/3.0"


@pytest.fixture
def chimp(tmp_path):
    state = str(tmp_path / "mailchimp.sqlite")
    slept: list[float] = []
    awkward = [("gone@x.co", "forgotten"), ("held@x.co", "compliance")]  # seeded when the state file is made

    def client(key: str = SANDBOX_MAILCHIMP_KEY, base: str = BASE, **kwargs) -> MailchimpClient:
        app = create_app(state, debtors=awkward, **kwargs)
        transport = InProcessTransport(app)
        return MailchimpClient(key, base, transport=transport, sleep=slept.append, poll_sleep=slept.append)

    def admin(method: str, path: str, **kwargs):
        app = create_app(state, debtors=awkward)
        with httpx.Client(transport=InProcessTransport(app), base_url="http://us21.api.mailchimp.sandbox") as http:
            return http.request(method, path, **kwargs).json()

    return client, admin, slept


def upsert(email: str, **body) -> dict:
    return {
        "method": "PUT",
        "path": f"/lists/{AUDIENCE}/members/{subscriber_hash(email)}",
        "operation_id": email,
        "body": {"email_address": email, **body},
    }


def test_the_key_suffix_picks_the_data_centre():
    assert data_centre("0123abc-us21") == "us21" and base_url_for("k-us6") == "https://us6.api.mailchimp.com/3.0"
    with pytest.raises(ValueError, match="data-centre suffix") as raised:
        data_centre("0123456789abcdef")
    assert "0123456789abcdef" not in str(raised.value)
    assert subscriber_hash(" Jo@Example.COM ") == subscriber_hash("jo@example.com")


def test_the_key_goes_to_the_api_host_only_and_a_batch_is_polled_then_read_in_memory():
    seen: list[httpx.Request] = []
    polls = iter(["pending", "started", "finished"])
    results = [{"status_code": 200, "operation_id": "a", "response": json.dumps({"status": "subscribed"})}]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        data = json.dumps(results).encode()
        info = tarfile.TarInfo("b1/0.json")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    tar = gzip.compress(buffer.getvalue())

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "results.storage.example":
            return httpx.Response(200, content=tar)
        if request.method == "POST":
            return httpx.Response(200, json={"id": "b1", "status": "pending", "total_operations": 1})
        url = "https://results.storage.example/b1-response.tar.gz?Signature=s"
        return httpx.Response(200, json={"id": "b1", "status": next(polls), "total_operations": 1,
                                         "response_body_url": url})  # fmt: skip

    slept: list[float] = []
    client = MailchimpClient("k-us21", transport=httpx.MockTransport(handler), poll_sleep=slept.append)
    found = client.run_batch([upsert("a@x.co", status_if_new="subscribed") | {"operation_id": "a"}])
    assert found["a"].status == 200 and found["a"].body == {"status": "subscribed"}
    api = [r for r in seen if r.url.host == "us21.api.mailchimp.com"]
    assert [r.url.path for r in api] == ["/3.0/batches", "/3.0/batches/b1", "/3.0/batches/b1", "/3.0/batches/b1"]
    assert all(r.headers["Authorization"] == "Bearer k-us21" for r in api)
    assert all("Authorization" not in r.headers for r in seen if r.url.host == "results.storage.example")
    assert slept == [1.0, 2.0]  # polled at once, then after 1 s and 2 s
    body = json.loads(api[0].content)["operations"][0]
    assert isinstance(body["body"], str) and json.loads(body["body"])["status_if_new"] == "subscribed"


def test_status_if_new_never_resubscribes_and_the_compliance_states_answer_400(chimp):
    client, admin, _ = chimp
    admin("POST", "/__sandbox__/members", json={"email": "left@x.co", "status": "unsubscribed"})
    c = client()
    found = c.run_batch(
        [
            upsert("new@x.co", status_if_new="transactional", merge_fields={"FNAME": "Jo"}),
            upsert("left@x.co", status_if_new="subscribed"),
            upsert("gone@x.co", status_if_new="transactional"),
            upsert("held@x.co", status_if_new="transactional"),
            upsert("left@x.co", status="subscribed") | {"operation_id": "force"},
            upsert("odd@x.co", status_if_new="subscribed", merge_fields={"SHOE": "9"}),
        ]
    )
    assert found["new@x.co"].body["status"] == "transactional"  # type: ignore[index]
    assert found["left@x.co"].ok and found["left@x.co"].body["status"] == "unsubscribed"  # type: ignore[index]
    assert (found["gone@x.co"].status, found["gone@x.co"].title) == (400, "Forgotten Email Not Subscribed")
    assert (found["held@x.co"].status, found["held@x.co"].title) == (400, "Member In Compliance State")
    assert (found["force"].status, found["force"].title) == (400, "Member In Compliance State")
    assert (found["odd@x.co"].status, found["odd@x.co"].title) == (400, "Invalid Resource")
    problem = found["held@x.co"].body or {}
    assert {"type", "title", "status", "detail", "instance"} <= set(problem)  # a problem document
    statuses = {m["email_address"]: m["status"] for m in admin("GET", "/__sandbox__/members")["members"]}
    assert statuses == {"left@x.co": "unsubscribed", "new@x.co": "transactional"}


def test_tags_and_the_journey_trigger_answer_204_and_a_non_member_404(chimp):
    client, admin, _ = chimp
    c = client()
    c.run_batch([upsert("t@x.co", status_if_new="transactional")])
    tag = {"tags": [{"name": "overdue-invoice", "status": "active"}], "is_syncing": False}
    member = subscriber_hash("t@x.co")
    found = c.run_batch(
        [
            {"method": "POST", "path": f"/lists/{AUDIENCE}/members/{member}/tags", "operation_id": "tag", "body": tag},
            {
                "method": "POST",
                "path": f"/customer-journeys/journeys/{SANDBOX_JOURNEY_ID}/steps/{SANDBOX_STEP_ID}/actions/trigger",
                "operation_id": "journey",
                "body": {"email_address": "t@x.co"},
            },
            {
                "method": "POST",
                "path": f"/lists/{AUDIENCE}/members/{subscriber_hash('no@x.co')}/tags",
                "operation_id": "stranger",
                "body": tag,
            },
        ]
    )
    assert (found["tag"].status, found["tag"].body) == (204, None)
    assert found["journey"].status == 204 and found["stranger"].status == 404
    (member_row,) = admin("GET", "/__sandbox__/members")["members"]
    assert [t["name"] for t in member_row["tags"]] == ["overdue-invoice"]
    assert len(admin("GET", "/__sandbox__/triggers")["triggers"]) == 1


def test_the_wrong_data_centre_is_401_and_the_error_names_the_variable_not_the_key(chimp, tmp_path):
    client, _, _ = chimp
    basic = httpx.BasicAuth("anystring", SANDBOX_MAILCHIMP_KEY)  # the docs' other form, which the simulator accepts
    app = create_app(str(tmp_path / "mailchimp.sqlite"))
    with httpx.Client(transport=InProcessTransport(app), base_url=BASE + "/", auth=basic) as http:
        assert http.get(f"lists/{AUDIENCE}").status_code == 200
    wrong = client(key=SANDBOX_MAILCHIMP_KEY, base="http://us3.api.mailchimp.sandbox/3.0")
    with pytest.raises(AuthenticationError) as refused:
        wrong.audience(AUDIENCE)
    assert "MAILCHIMP_API_KEY" in str(refused.value) and SANDBOX_MAILCHIMP_KEY not in str(refused.value)
    assert client().audience(AUDIENCE)["double_optin"] is False


def test_an_error_text_has_the_title_never_the_detail_that_quotes_the_email():
    def handler(request: httpx.Request) -> httpx.Response:
        problem = {"type": "t", "title": "Member In Compliance State", "status": 400, "instance": "i",
                   "detail": "jo@example.com is in a compliance state"}  # fmt: skip
        return httpx.Response(400, json=problem, headers={"Content-Type": "application/problem+json"})

    client = MailchimpClient("k-us21", transport=httpx.MockTransport(handler))
    with pytest.raises(Exception) as refused:
        client.audience("l1")
    assert "Member In Compliance State" in str(refused.value) and "jo@example.com" not in str(refused.value)


def test_a_429_without_a_body_is_retried_and_a_batch_results_url_expires(chimp, tmp_path):
    client, admin, slept = chimp
    admin("POST", "/__sandbox__/faults", json={"path_prefix": "/3.0/batches", "status": 429, "body": False})
    c = client()
    assert c.run_batch([upsert("r@x.co", status_if_new="transactional")])["r@x.co"].ok
    assert len(slept) == 1 and slept[0] >= 1.0  # the core's backoff: no Retry-After to go by
    now = [2_000_000_000.0]
    late = client(clock=lambda: now[0])
    batch = late.json_object(late.request("POST", "batches", json={"operations": []}))
    url = late.json_object(late.request("GET", f"batches/{batch['id']}"))["response_body_url"]
    assert late._http.get(url).status_code == 200
    now[0] += 601  # valid 10 minutes
    assert late._http.get(url).status_code == 403
