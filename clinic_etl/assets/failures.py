"""How a stage's errors meet Dagster's retries: retry what can succeed later, stop at once on what cannot.

- 429 with a known wait: Dagster retries the step after exactly that wait (`RetryRequested`), up to a bound; a
  wait longer than MAX_WAIT_S (a daily quota) stops the step with the time to re-run.
- Connection errors and 5xx: raised as they are, for the step's `RetryPolicy` (the HTTP core already retried them).
- Any other API error (400, 401, 403, 404, a page that does not add up) and data errors: `Failure` with
  `allow_retries=False`: a retry would fail the same way and only delay the alert. The failure's metadata `error`
  names the original class (the CLI's exit code tells an outage from bad data by it); `service` names the API, and
  `reconnect` is set when the API refused clinic_etl's credentials (an expired or revoked connection: the alert
  says to reconnect, then re-run).
- The client's daily quota spent (`QuotaSpent`: the run stopped before Xero's own limit): `Failure` with
  `resume_after`, the time a re-run can go on; what was written is in the state store, so the re-run resumes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import dagster as dg

from clinic_etl.http.errors import (
    ApiConnectionError,
    ApiError,
    ApiStatusError,
    AuthenticationError,
    InternalServerError,
    PermissionDeniedError,
    QuotaSpent,
    RateLimitError,
)

MAX_WAIT_S = 3600.0
MAX_RATE_LIMIT_RETRIES = 3


@contextmanager
def retry_only_what_can_succeed() -> Iterator[None]:
    try:
        yield
    except RateLimitError as error:
        if error.retry_after is None:
            raise
        if error.retry_after > MAX_WAIT_S:
            hours = error.retry_after / 3600
            raise dg.Failure(
                description=f"{error}: the API's quota is spent for {hours:.1f} h; re-run this range after that",
                allow_retries=False,
                metadata={"error": "RateLimitError"},
            ) from None
        raise dg.RetryRequested(max_retries=MAX_RATE_LIMIT_RETRIES, seconds_to_wait=error.retry_after) from error
    except QuotaSpent as error:
        resume = (datetime.now(UTC) + timedelta(seconds=error.retry_after)).replace(microsecond=0)
        raise dg.Failure(
            description=f"{error}. What was written is recorded: re-run this range after {resume:%Y-%m-%d %H:%M:%S} "
            "UTC and it writes only the rest",
            allow_retries=False,
            metadata={
                "error": "QuotaSpent",
                "service": error.service,
                "calls_per_day": error.per_day,
                "resume_after": resume.isoformat(),
            },
        ) from None
    except (ApiConnectionError, InternalServerError):
        raise
    except ApiError as error:
        raise dg.Failure(description=str(error), allow_retries=False, metadata=_describe(error)) from None
    except (KeyError, ValueError, TypeError) as error:
        raise dg.Failure(
            description=f"{type(error).__name__}: {error} (a defect or unexpected data, not retried)",
            allow_retries=False,
            metadata={"error": type(error).__name__},
        ) from error


def _describe(error: ApiError) -> dict[str, object]:
    metadata: dict[str, object] = {"error": type(error).__name__}
    if isinstance(error, ApiStatusError):
        metadata["service"] = error.service
    if isinstance(error, AuthenticationError | PermissionDeniedError):
        metadata["reconnect"] = True
    return metadata
