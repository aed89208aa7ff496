"""One exception per HTTP status family. Messages carry method, path and status, never secrets or bodies
that may hold personal data (only a short server message)."""

from __future__ import annotations

import httpx


class ApiError(Exception):
    """Base of every error raised by clinic_etl's API clients."""


class ApiConnectionError(ApiError):
    """The request never got an answer (DNS, refused, reset, timeout)."""


class ApiDataError(ApiError):
    """A 2xx answer whose content cannot be trusted: not JSON, not the expected shape, or disagreeing with itself
    (a paging cycle, a `total_entries` that does not match the records received). Not a transient HTTP status, so
    the retrying core never retries it; the whole read is refused. The message names the service, method, path
    and what disagreed, never the body's content (bodies hold personal data)."""

    advice = "the day is refused; re-run it"

    def __init__(self, service: str, method: str, path: str, problem: str) -> None:
        self.service = service
        self.method = method
        self.path = path
        self.problem = problem
        super().__init__(f"{service} {method} {path}: {problem}: {self.advice}")


class QuotaSpent(ApiError):
    """The client's own daily call budget for an API is spent: the call was not sent, so the run stops before the API's
    own limit (Xero: 5,000 calls a day per organisation). `retry_after`: seconds until a call fits again."""

    def __init__(self, service: str, per_day: int, retry_after: float) -> None:
        self.service = service
        self.per_day = per_day
        self.retry_after = retry_after
        super().__init__(
            f"{service}: the daily call budget ({per_day:,} calls in 24 h) is spent; stopped before {service}'s "
            "own limit"
        )


class ApiStatusError(ApiError):
    status_code: int = 0

    def __init__(self, service: str, response: httpx.Response, detail: str = "") -> None:
        self.response = response
        self.status_code = response.status_code
        self.service = service
        request = response.request
        where = f"{request.method} {request.url.path}" if request is not None else "request"
        hint = f": {detail}" if detail else ""
        super().__init__(f"{service} {where} answered HTTP {response.status_code}{hint}")


class BadRequestError(ApiStatusError):
    pass


class AuthenticationError(ApiStatusError):
    pass


class PermissionDeniedError(ApiStatusError):
    pass


class NotFoundError(ApiStatusError):
    pass


class RateLimitError(ApiStatusError):
    def __init__(self, service: str, response: httpx.Response, detail: str = "", retry_after: float | None = None):
        super().__init__(service, response, detail)
        self.retry_after = retry_after


class InternalServerError(ApiStatusError):
    pass


_BY_STATUS: dict[int, type[ApiStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
}


def error_class(status: int) -> type[ApiStatusError]:
    if status >= 500:
        return InternalServerError
    return _BY_STATUS.get(status, ApiStatusError)
