"""Keep personal data out of messages: an API's error text may echo an e-mail address or a phone number."""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[^\s@<>()\"',;:]+@[^\s@<>()\"',;:]+")
_PHONE = re.compile(r"\+?\d[\d ()\-]{6,}\d")


def scrub(text: str, limit: int = 200) -> str:
    """`text` without e-mail addresses or phone-like numbers, cut to `limit` characters."""
    return _PHONE.sub("<phone>", _EMAIL.sub("<e-mail>", text))[:limit]
