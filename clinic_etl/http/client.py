"""The one retrying core: every API call of clinic_etl goes through `ApiClient.request`.

Retries 408/429/5xx and connection errors with exponential backoff and jitter (tenacity), honouring the
server's `Retry-After` (seconds or HTTP date) or `X-RateLimit-Reset` (UNIX time, Cliniko). A wait longer
than MAX_RETRY_AFTER (a daily limit) is not slept through: the error is raised for the step to fail.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import tenacity

from clinic_etl.http import constants as c
from clinic_etl.http.errors import (
    ApiConnectionError,
    ApiDataError,
    ApiError,
    ApiStatusError,
    RateLimitError,
    error_class,
)
from clinic_etl.http.limits import CallBudget

log = logging.getLogger("clinic_etl.http")


def retry_after_seconds(response: httpx.Response, now: float) -> float | None:
    value = response.headers.get("Retry-After")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(value).timestamp() - now)
            except (TypeError, ValueError):
                pass
    reset = response.headers.get("X-RateLimit-Reset")
    if reset:
        try:
            return max(0.0, float(reset) - now) + 0.5
        except ValueError:
            return None
    return None


class ApiClient:
    service = "API"

    def __init__(
        self,
        base_url: str,
        *,
        transport: httpx.BaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
        budget: CallBudget | None = None,
        budget_key: str = "default",
        max_retries: int = c.MAX_RETRIES,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url, transport=transport, headers=dict(headers or {}), auth=auth, timeout=c.DEFAULT_TIMEOUT
        )
        self.base_url = self._http.base_url
        self._budget = budget
        self.budget_key = budget_key
        self._sleep = sleep
        self._clock = clock
        self.max_retries = max_retries
        self.calls = 0  # requests actually sent, retries included (for benchmarks and tests)
        self._counting = threading.Lock()  # a client may send from several threads (ClinikoClient.lists)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---- hooks for subclasses
    def _request_headers(self) -> dict[str, str]:
        return {}

    def _detail(self, response: httpx.Response) -> str:
        """A short, safe description of an error body."""
        try:
            body = response.json()
        except ValueError:
            return ""
        if isinstance(body, dict):
            for key in ("message", "Message", "Detail", "error", "Title"):
                if isinstance(body.get(key), str):
                    return body[key][:200]
        return ""

    def _on_auth_error(self, error: ApiStatusError) -> bool:
        """Return True if credentials were renewed and the call may be tried again once."""
        return False

    # ---- the core
    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.max_retries + 1),
            wait=self._wait,
            retry=tenacity.retry_if_exception(self._should_retry),
            sleep=self._sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            try:
                return retrying(self._send, method, url, **kwargs)
            except ApiStatusError as error:
                if error.status_code == 401 and self._on_auth_error(error):
                    return retrying(self._send, method, url, **kwargs)
                raise
        except ApiError as error:
            attempts = retrying.statistics.get("attempt_number", 1)
            if attempts > 1 and self._should_retry(error) and error.args:
                error.args = (f"{error.args[0]} (gave up after {attempts} attempts)", *error.args[1:])
            raise

    def json_object(self, response: httpx.Response) -> dict[str, Any]:
        """The body of a successful answer as a JSON object, else ApiDataError (a truncated body, an HTML page
        served with 200, a JSON array or scalar). The message never quotes the body."""
        request = response.request
        method, path = request.method, request.url.path
        media = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if media != "application/json" and not media.endswith("+json"):
            kind = media[:60] if media else "no content type"
            raise ApiDataError(
                self.service, method, path, f"answered HTTP {response.status_code} with {kind}, not JSON"
            )
        try:
            body = json.loads(response.content)
        except ValueError:  # JSONDecodeError and UnicodeDecodeError
            raise ApiDataError(self.service, method, path, "the body is not valid JSON (truncated?)") from None
        if not isinstance(body, dict):
            raise ApiDataError(self.service, method, path, f"the body is a JSON {_json_kind(body)}, not an object")
        return body

    def _send(
        self, method: str, url: str, *, headers: Mapping[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        if self._budget is not None:
            self._budget.acquire(self.budget_key)
        merged = {**self._request_headers(), **(headers or {})}
        with self._counting:
            self.calls += 1
        try:
            response = self._http.request(method, url, headers=merged, **kwargs)
        except httpx.TransportError as exc:
            raise ApiConnectionError(f"{self.service} {method} {httpx.URL(url).path}: {type(exc).__name__}") from exc
        if response.status_code >= 400:
            raise self._error(response)
        return response

    def _error(self, response: httpx.Response) -> ApiStatusError:
        response.read()
        detail = self._detail(response)
        if response.status_code == 429:
            return RateLimitError(self.service, response, detail, retry_after_seconds(response, self._clock()))
        return error_class(response.status_code)(self.service, response, detail)

    @staticmethod
    def _should_retry(exc: BaseException) -> bool:
        if isinstance(exc, ApiConnectionError):
            return True
        if isinstance(exc, RateLimitError):
            return exc.retry_after is None or exc.retry_after <= c.MAX_RETRY_AFTER
        return isinstance(exc, ApiStatusError) and exc.status_code in c.RETRYABLE_STATUS

    _backoff = tenacity.wait_exponential_jitter(initial=c.INITIAL_RETRY_DELAY, max=c.MAX_RETRY_DELAY)

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimitError) and exc.retry_after is not None:
            return exc.retry_after
        return self._backoff(state)

    def _log_retry(self, state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0
        log.warning("%s; retrying in %.1f s (attempt %d)", exc, wait, state.attempt_number)


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    return "boolean" if isinstance(value, bool) else "number"
