"""The firm's fixed set-up: users, practice areas, the currency, billing settings, the bill theme and the two
bank accounts (operating and trust).

A New York firm billing in USD. Two tax slots per the billing settings: the primary "NY Sales Tax" 8.875 %
and a secondary "Admin Surcharge" 2.5 %, applied separately to the line subtotal (`secondary_tax_rule`
"Pre"). Bills copy both rates; a line is taxed only where it is `taxable` / `secondary_taxable`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

FIRM_NAME = "Whitfield Delgado & Raman LLP"
TAX_NAME, TAX_RATE = "NY Sales Tax", Decimal("8.875")
SECONDARY_TAX_NAME, SECONDARY_TAX_RATE = "Admin Surcharge", Decimal("2.5")
INTEREST_RATE, INTEREST_PERIOD = Decimal("1.5"), 30  # % per 30 days, simple, on overdue balances
USD_ID, BILLING_SETTING_ID, BILL_THEME_ID = 1, 1, 7_700_001
OPERATING_ID, TRUST_ID = 18_400_101, 18_400_102
SET_UP_AT = "2021-03-01T09:00:00-05:00"
USER_TIME_ZONE = "Eastern Time (US & Canada)"

# (id, first, last, subscription type, hourly rate, roles, account owner)
USERS = (
    (345_678_901, "Eleanor", "Whitfield", "Attorney", "550", ["admin"], True),
    (345_678_917, "Marcus", "Delgado", "Attorney", "425", ["billing"], False),
    (345_678_934, "Priya", "Raman", "Attorney", "375", [], False),
    (345_679_002, "Tom", "Okafor", "NonAttorney", "185", [], False),
    (345_679_021, "Grace", "Liu", "NonAttorney", "0", ["accounts", "billing", "reports"], False),
)
ATTORNEYS = tuple(row for row in USERS if row[3] == "Attorney")
# (id, name, category, code)
PRACTICE_AREAS = (
    (5_100_001, "Litigation", "civil_litigation", "LIT"),
    (5_100_002, "Real Estate", "real_estate", "RE"),
    (5_100_003, "Estate Planning", "wills_and_estates", "EST"),
    (5_100_004, "Corporate", "business_formation_and_compliance", "CORP"),
    (5_100_005, "Family", "family", "FAM"),
    (5_100_006, "Employment", "employment_and_labor", "EMP"),
)


def _stamps(text: str = SET_UP_AT) -> dict[str, str]:
    return {"created_at": text, "updated_at": text}


def users() -> list[dict[str, Any]]:
    rows = []
    for user_id, first, last, subscription, rate, roles, owner in USERS:
        rows.append({
            "id": user_id, "name": f"{first} {last}", "first_name": first, "last_name": last,
            "initials": first[0] + last[0], "email": f"{first.lower()}.{last.lower()}@wdr-law.example.com",
            "enabled": True, "account_owner": owner, "clio_connect": False, "court_rules_default_attendee": False,
            "default_calendar_id": user_id + 1000, "phone_number": "212-555-01" + str(user_id)[-2:],
            "rate": Decimal(rate), "roles": list(roles), "subscription_type": subscription,
            "time_zone": USER_TIME_ZONE, **_stamps(),
        })  # fmt: skip
    return rows


def practice_areas() -> list[dict[str, Any]]:
    return [
        {"id": area_id, "name": name, "category": category, "code": code, **_stamps()}
        for area_id, name, category, code in PRACTICE_AREAS
    ]


def currencies() -> list[dict[str, Any]]:
    return [{"id": USD_ID, "code": "USD", "sign": "$", **_stamps("2014-01-01T00:00:00-05:00")}]


def billing_settings() -> list[dict[str, Any]]:
    return [{
        "id": BILLING_SETTING_ID, "rounded_duration": None, "rounding": 6, "use_decimal_rounding": True,
        "currency": "USD", "currency_sign": "$", "tax_rate": TAX_RATE, "tax_name": TAX_NAME,
        "apply_tax_by_default": False, "time_on_flat_rate_contingency_matters_is_non_billable": True,
        "use_secondary_tax": True, "secondary_tax_rate": SECONDARY_TAX_RATE, "secondary_tax_rule": "Pre",
        "secondary_tax_name": SECONDARY_TAX_NAME, "notify_after_bill_created": False, "use_utbms_codes": False,
        **_stamps(),
    }]  # fmt: skip


def bill_themes() -> list[dict[str, Any]]:
    return [{"id": BILL_THEME_ID, "account_id": 9_900_001, "default": True, "name": "Default", "config": None,
             **_stamps()}]  # fmt: skip


def bank_accounts() -> list[dict[str, Any]]:
    common = {
        "currency": "USD", "currency_symbol": "$", "currency_id": Decimal(USD_ID), "holder": FIRM_NAME,
        "institution": "JPMorgan Chase Bank, N.A.", "swift": "CHASUS33", "transit_number": "021000021",
        "domicile_branch": "Madison Ave & 40th St", "controlled_account": False, "clio_payments_enabled": False,
        "clio_payment_page_link": None, "clio_payment_page_qr_code": None, "user_id": None, **_stamps(),
    }  # fmt: skip
    return [
        {"id": OPERATING_ID, "name": "Operating — Chase ...4417", "type": "Operating", "account_number": "4417",
         "default_account": True, "general_ledger_number": "1000", **common},
        {"id": TRUST_ID, "name": "IOLA Trust — Chase ...9023", "type": "Trust", "account_number": "9023",
         "default_account": False, "general_ledger_number": "1050", **common},
    ]  # fmt: skip
