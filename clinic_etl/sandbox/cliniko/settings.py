"""`GET /settings/public`: a minimal PublicSettings object (schema in the spec), for an Australian account.

The account exposes a currency symbol but no ISO currency code, as in the real API.
"""

from __future__ import annotations

from typing import Any


def public_settings() -> dict[str, Any]:
    return {
        "account": {
            "id": "1",
            "name": "Harbourside Allied Health",
            "country": "Australia",
            "country_code": "AU",
            "currency_symbol": "$",
            "subdomain": "harbourside-sandbox",
            "has_time_travelers": False,
            "time_zone_support": True,
        },
        "integrations": {"mail_chimp": {"enabled": False}, "xero": {"enabled": False}},
        "online_payments": {"activated": False},
        "terminology": {"patient": "patient", "titles": ["Mr", "Mrs", "Ms", "Miss", "Dr"]},
    }
