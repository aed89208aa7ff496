"""A faithful simulator of GoHighLevel's API v2 (contacts and workflows of one sub-account), state in a SQLite file.

app = create_app(state_path)     # token SANDBOX_GHL_TOKEN, location SANDBOX_LOCATION_ID, workflow SANDBOX_WORKFLOW_ID
"""

from clinic_etl.sandbox.gohighlevel.app import (
    DRAFT_WORKFLOW_ID,
    SANDBOX_GHL_TOKEN,
    SANDBOX_LOCATION_ID,
    SANDBOX_WORKFLOW_ID,
    create_app,
)

__all__ = ["DRAFT_WORKFLOW_ID", "SANDBOX_GHL_TOKEN", "SANDBOX_LOCATION_ID", "SANDBOX_WORKFLOW_ID", "create_app"]
