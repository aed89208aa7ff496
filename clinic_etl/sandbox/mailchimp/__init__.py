"""A faithful simulator of the Mailchimp Marketing API 3.0 (an audience's members and tags, a customer journey's API
trigger, batch operations), state in a SQLite file.

app = create_app(state_path)     # key SANDBOX_MAILCHIMP_KEY (-us21), audience SANDBOX_AUDIENCE_ID, journey 4021 step 17
"""

from clinic_etl.sandbox.mailchimp.app import (
    SANDBOX_AUDIENCE_ID,
    SANDBOX_JOURNEY_ID,
    SANDBOX_MAILCHIMP_KEY,
    SANDBOX_STEP_ID,
    create_app,
    sandbox_debtors,
    subscriber_hash,
)

__all__ = [
    "SANDBOX_AUDIENCE_ID",
    "SANDBOX_JOURNEY_ID",
    "SANDBOX_MAILCHIMP_KEY",
    "SANDBOX_STEP_ID",
    "create_app",
    "sandbox_debtors",
    "subscriber_hash",
]
