"""A faithful simulator of the Clio Manage API v4 (read side, plus OAuth) and the synthetic law firm it serves.

app = create_app()                       # build_firm(seed=11), access tokens valid 30 days, 50 requests/min
client = httpx.Client(transport=InProcessTransport(app), base_url="http://clio.sandbox")
token = client.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": SANDBOX_REFRESH_TOKEN,
                    "client_id": SANDBOX_CLIENT_ID, "client_secret": SANDBOX_CLIENT_SECRET}).json()["access_token"]
client.get("/api/v4/bills.json", params={"fields": "id,number,state,total", "order": "id(asc)", "limit": 200},
           headers={"Authorization": f"Bearer {token}", "X-API-VERSION": "4.0.9"})
"""

from __future__ import annotations

from clinic_etl.sandbox.clio.app import create_app
from clinic_etl.sandbox.clio.days import SANDBOX_WINDOW
from clinic_etl.sandbox.clio.firm import Firm, build_firm
from clinic_etl.sandbox.clio.guard import DEFAULT_VERSION, SUPPORTED_VERSIONS
from clinic_etl.sandbox.clio.oauth import (
    ACCESS_TOKEN_TTL_S,
    SANDBOX_AUTHORIZATION_CODE,
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_REDIRECT_URI,
    SANDBOX_REFRESH_TOKEN,
)
from clinic_etl.sandbox.clio.wire import TIME_ZONE as FIRM_TIME_ZONE

__all__ = [
    "ACCESS_TOKEN_TTL_S",
    "DEFAULT_VERSION",
    "FIRM_TIME_ZONE",
    "SANDBOX_AUTHORIZATION_CODE",
    "SANDBOX_CLIENT_ID",
    "SANDBOX_CLIENT_SECRET",
    "SANDBOX_REDIRECT_URI",
    "SANDBOX_REFRESH_TOKEN",
    "SANDBOX_WINDOW",
    "SUPPORTED_VERSIONS",
    "Firm",
    "build_firm",
    "create_app",
]
