"""Every HTTP tunable in one place."""

import httpx

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
MAX_RETRIES = 5
INITIAL_RETRY_DELAY = 1.0  # seconds; doubles each attempt, with jitter
MAX_RETRY_DELAY = 32.0
MAX_RETRY_AFTER = 180.0  # a server asking us to wait longer than this (e.g. a daily limit) fails the step
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
MAX_PAGES = 5_000  # absolute cap on the pages of one list read, whatever its total says (500,000 rows at 100/page)
CONTACT_EMAIL = "clinic-etl@users.noreply.github.com"
USER_AGENT = f"clinic_etl/0.1 ({CONTACT_EMAIL})"
