"""A faithful, stateful simulator of the Xero Accounting API (plus Xero identity) for clinic_etl.

``create_app(state_path)`` returns a Starlette app serving ``POST /connect/token``, ``GET /connections``
and the accounting API under ``/api.xro/2.0/``; all state lives in the SQLite file ``state_path`` so that
several processes share one Xero. The app is connected to the first ``organisations`` (default 1) of the sandbox's
organisations (``SANDBOX_TENANTS``), each with books of its own behind its ``xero-tenant-id``. Request bodies are
validated against an extract of Xero's official OpenAPI schemas (MIT, see NOTICE).
"""

from .app import create_app
from .catalogue import SANDBOX_SECOND_TENANT_ID, SANDBOX_TENANT_ID, SANDBOX_TENANTS
from .org import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_REFRESH_TOKEN, add_tracking_category

__all__ = [
    "SANDBOX_CLIENT_ID",
    "SANDBOX_CLIENT_SECRET",
    "SANDBOX_REFRESH_TOKEN",
    "SANDBOX_SECOND_TENANT_ID",
    "SANDBOX_TENANTS",
    "SANDBOX_TENANT_ID",
    "add_tracking_category",
    "create_app",
]
