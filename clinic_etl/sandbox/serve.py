"""`clinic-etl sandbox serve`: the Cliniko and Xero simulators over real HTTP on loopback, one port.

Cliniko answers under /v1; Xero's identity (/connect/token), /connections and /api.xro/2.0 share the rest.
The Xero organisation lives in the same state file the embedded sandbox uses, so runs and the server agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def combined_app(xero_state: Path) -> Any:
    from clinic_etl.sandbox.cliniko import build_practice
    from clinic_etl.sandbox.cliniko import create_app as cliniko_app
    from clinic_etl.sandbox.xero import create_app as xero_app

    cliniko, xero = cliniko_app(build_practice()), xero_app(xero_state)

    async def app(scope: dict, receive: Any, send: Any) -> None:
        target = cliniko if scope.get("path", "").startswith("/v1") else xero
        await target(scope, receive, send)

    return app


def environment(host: str, port: int) -> dict[str, str]:
    from clinic_etl.sandbox.cliniko import SANDBOX_CLINIKO_API_KEY
    from clinic_etl.sandbox.xero import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET

    root = f"http://{host}:{port}"
    return {
        "CLINIC_ETL_SOURCE": "cliniko",
        "CLINIKO_API_KEY": SANDBOX_CLINIKO_API_KEY,
        "CLINIKO_BASE_URL": f"{root}/v1",
        "XERO_CLIENT_ID": SANDBOX_CLIENT_ID,
        "XERO_CLIENT_SECRET": SANDBOX_CLIENT_SECRET,
        "XERO_API_URL": root,
        "XERO_IDENTITY_URL": root,
    }


def serve(host: str, port: int, xero_state: Path) -> None:
    import uvicorn

    path = Path(xero_state)
    path.parent.mkdir(parents=True, exist_ok=True)
    print("Sandbox APIs on loopback. Point clinic_etl at them with:")
    for name, value in environment(host, port).items():
        print(f"  export {name}={value}")
    uvicorn.run(combined_app(path), host=host, port=port, lifespan="off", log_level="warning")
