"""A faithful simulator of the Cliniko API v1 (read side) and the synthetic practice it serves.

app = create_app()                       # build_practice(seed=7), key SANDBOX_CLINIKO_API_KEY
httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cliniko.sandbox")
# -> GET /v1/invoices?q[]=issue_date:=2026-10-01 with Basic auth and "name (e-mail)" User-Agent
"""

from __future__ import annotations

from clinic_etl.sandbox.cliniko.app import create_app
from clinic_etl.sandbox.cliniko.guard import SANDBOX_CLINIKO_API_KEY
from clinic_etl.sandbox.cliniko.practice import SANDBOX_WINDOW, Practice, build_practice

__all__ = ["SANDBOX_CLINIKO_API_KEY", "SANDBOX_WINDOW", "Practice", "build_practice", "create_app"]
