"""Dagster retries only what can succeed later (issue 6.8): a 429's wait is honoured however long (up to a bound),
a permanent error stops at once."""

import dagster as dg
import httpx
import pytest

from clinic_etl.assets.failures import retry_only_what_can_succeed
from clinic_etl.http.errors import (
    ApiConnectionError,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    RateLimitError,
)


def response(status: int) -> httpx.Response:
    return httpx.Response(status, request=httpx.Request("GET", "https://api.xero.com/api.xro/2.0/TaxRates"))


def raised(error: BaseException) -> BaseException:
    with pytest.raises(BaseException) as caught, retry_only_what_can_succeed():
        raise error
    return caught.value


def test_a_429_asking_200_s_is_retried_by_dagster_after_exactly_that_wait():
    outcome = raised(RateLimitError("Xero", response(429), "", retry_after=200.0))
    assert isinstance(outcome, dg.RetryRequested) and outcome.seconds_to_wait == 200.0


def test_a_429_for_the_rest_of_the_day_stops_with_when_to_rerun():
    outcome = raised(RateLimitError("Xero", response(429), "", retry_after=7 * 3600.0))
    assert isinstance(outcome, dg.Failure) and not outcome.allow_retries and "7.0 h" in outcome.description


@pytest.mark.parametrize(
    "error",
    [
        AuthenticationError("Xero", response(401), "check XERO_CLIENT_ID and XERO_CLIENT_SECRET"),
        BadRequestError("Xero", response(400), "A validation exception occurred"),
        KeyError("InvoiceID"),
    ],
    ids=["401", "400", "KeyError"],
)
def test_what_cannot_succeed_is_not_retried(error):
    outcome = raised(error)
    assert isinstance(outcome, dg.Failure) and outcome.allow_retries is False


@pytest.mark.parametrize(
    "error", [InternalServerError("Xero", response(503)), ApiConnectionError("Xero GET /x: ConnectTimeout")]
)
def test_transient_errors_are_left_to_the_retry_policy(error):
    assert raised(error) is error


def test_every_stage_that_calls_an_api_has_a_retry_policy():
    from clinic_etl.assets import sync_assets
    from clinic_etl.partitions import daily_partitions
    from clinic_etl.settings import Settings

    assets = {a.key.to_user_string(): a for a in sync_assets(daily_partitions(Settings.from_env({})))}
    for name in ("source_records", "xero_documents", "xero_sync", "xero_reconciliation"):
        assert assets[name].op.retry_policy is not None, name
