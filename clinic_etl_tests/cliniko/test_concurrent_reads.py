"""Cliniko's list reads go several at once (`ClinikoClient.lists`, up to `max_in_flight`), with the same answers, in
the same order, as one at a time."""

from __future__ import annotations

import threading
import time
from datetime import date
from zoneinfo import ZoneInfo

import httpx
import pytest

from clinic_etl.http.errors import ApiStatusError
from clinic_etl.partitions import SyncWindow
from clinic_etl.sandbox.cliniko import SANDBOX_CLINIKO_API_KEY, create_app
from clinic_etl.sandbox.transport import InProcessTransport
from clinic_etl.sources.cliniko.client import ClinikoClient
from clinic_etl.sources.cliniko.extract import extract

WINDOW = SyncWindow(date(2026, 10, 5), date(2026, 10, 11), ZoneInfo("Australia/Sydney"))


class Slow(httpx.BaseTransport):
    """Each request takes `delay` seconds on the way (a network's latency); counts how many are in flight at once."""

    def __init__(self, inner: httpx.BaseTransport, delay: float = 0.02) -> None:
        self.inner, self.delay = inner, delay
        self.now = self.most = self.sent = 0
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.now += 1
            self.sent += 1
            self.most = max(self.most, self.now)
        try:
            time.sleep(self.delay)
            return self.inner.handle_request(request)
        finally:
            with self._lock:
                self.now -= 1


def _client(practice, in_flight: int) -> tuple[ClinikoClient, Slow]:
    transport = Slow(InProcessTransport(create_app(practice, requests_per_minute=100_000)))
    client = ClinikoClient(
        SANDBOX_CLINIKO_API_KEY, "http://cliniko.sandbox/v1", transport=transport, max_in_flight=in_flight
    )
    return client, transport


QUERIES = [
    ("invoices", ["issue_date:>=2026-10-01", "issue_date:<=2026-10-20"]),
    ("patients", []),
    ("practitioners", []),
    ("invoices", ["issue_date:=2026-10-14"]),
    ("businesses", []),
    ("taxes", []),
]


def test_lists_answer_in_the_order_asked_with_reads_in_flight_together(practice):
    one, alone = _client(practice, 1)
    four, together = _client(practice, 4)
    expected = [one.list(resource, filters) for resource, filters in QUERIES]
    assert four.lists(QUERIES) == expected == one.lists(QUERIES)
    assert all(expected) and len(expected[0]) > 100  # the first list has pages to follow
    assert alone.most == 1 and together.most > 1
    assert four.calls == together.sent == alone.sent // 2  # the same requests (alone served both reads above)


def test_an_extract_is_the_same_whatever_the_reads_in_flight(practice):
    one, alone = _client(practice, 1)
    four, together = _client(practice, 4)
    first, second = extract(one, WINDOW), extract(four, WINDOW)
    assert first.keys() == second.keys()
    for name, frame in first.items():
        assert frame.equals(second[name]), name
    assert alone.sent == together.sent and together.most > 1
    appointments = extract(four, WINDOW, invoice_from="appointments")
    assert appointments["appointments"].equals(extract(one, WINDOW, invoice_from="appointments")["appointments"])


def test_an_error_of_one_read_is_raised(practice):
    four, _ = _client(practice, 4)
    with pytest.raises(ApiStatusError) as raised:
        four.lists([*QUERIES[:3], ("invoices", ["not_a_field:=1"]), *QUERIES[3:]])
    assert raised.value.status_code == 400
