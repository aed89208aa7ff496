"""`clinic-etl sandbox serve`: the Cliniko, Clio and Xero simulators over real HTTP on loopback, one port.

Cliniko answers under /v1; Clio under /api/v4 (its API) and /oauth (its token endpoint); Xero's identity
(/connect/token), /connections, /api.xro/2.0 and the sandbox's admin routes share the rest. The paths do not clash:
no Xero or Cliniko route starts with /api/v4 or /oauth. The clinic's Xero organisation lives in the same state file
the embedded sandbox uses, so runs and the server agree; the law firm's own (US, USD) Xero organisation answers the
same routes under /us (its state file beside the other, `xero-us.sqlite`). The GoHighLevel and Mailchimp simulators
answer under /gohighlevel and /mailchimp (their state files beside Xero's, as the embedded sandbox keeps them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CLIO_PREFIXES = ("/api/v4/", "/oauth/")
LAW_FIRM_XERO = "/us"  # the law firm's Xero organisation: XERO_API_URL and XERO_IDENTITY_URL end with it
ENGAGE_PREFIXES = ("/gohighlevel", "/mailchimp")  # GHL_BASE_URL and MAILCHIMP_BASE_URL (+ /3.0) end with them


def combined_app(xero_state: Path, organisations: int = 1) -> Any:
    """Every simulator behind one ASGI app; the practice's Xero app is connected to `organisations` of the
    sandbox's organisations (2: a second one for a mapping's `tenants`)."""
    from clinic_etl.sandbox.cliniko import build_practice
    from clinic_etl.sandbox.cliniko import create_app as cliniko_app
    from clinic_etl.sandbox.clio import build_firm
    from clinic_etl.sandbox.clio import create_app as clio_app
    from clinic_etl.sandbox.gohighlevel import create_app as ghl_app
    from clinic_etl.sandbox.mailchimp import create_app as mailchimp_app
    from clinic_etl.sandbox.xero import create_app as xero_app

    cliniko, clio = cliniko_app(build_practice()), clio_app(build_firm())
    xero = xero_app(xero_state, organisations=organisations)
    law_firm_xero = xero_app(Path(xero_state).with_name("xero-us.sqlite"), region="US")
    engage = {
        "/gohighlevel": ghl_app(str(Path(xero_state).with_name("gohighlevel.sqlite"))),
        "/mailchimp": mailchimp_app(str(Path(xero_state).with_name("mailchimp.sqlite"))),
    }

    async def app(scope: dict, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if path.startswith("/v1"):
            target = cliniko
        elif path.startswith(CLIO_PREFIXES):
            target = clio
        elif path.startswith(tuple(p + "/" for p in ENGAGE_PREFIXES)):
            prefix = "/" + path.split("/")[1]  # mounted there: the app sees its own paths, its links keep the prefix
            target = engage[prefix]
            scope = {
                **scope,
                "path": path[len(prefix) :],
                "raw_path": path[len(prefix) :].encode(),
                "root_path": scope.get("root_path", "") + prefix,
            }
        elif path.startswith(LAW_FIRM_XERO + "/"):
            target = law_firm_xero
            scope = {**scope, "path": path[len(LAW_FIRM_XERO) :], "raw_path": path[len(LAW_FIRM_XERO) :].encode()}
        else:
            target = xero
        await target(scope, receive, send)

    return app


def _xero(root: str) -> dict[str, str]:
    from clinic_etl.sandbox.xero import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET

    return {
        "XERO_CLIENT_ID": SANDBOX_CLIENT_ID,
        "XERO_CLIENT_SECRET": SANDBOX_CLIENT_SECRET,
        "XERO_API_URL": root,
        "XERO_IDENTITY_URL": root,
    }


def environment(host: str, port: int) -> dict[str, str]:
    from clinic_etl.sandbox.cliniko import SANDBOX_CLINIKO_API_KEY

    root = f"http://{host}:{port}"
    return {
        "CLINIC_ETL_SOURCE": "cliniko",
        "CLINIKO_API_KEY": SANDBOX_CLINIKO_API_KEY,
        "CLINIKO_BASE_URL": f"{root}/v1",
        **_xero(root),
    }


def clio_environment(host: str, port: int) -> dict[str, str]:
    """The variables that point `CLINIC_ETL_SOURCE=clio` at the served Clio (and Xero), with the firm's zone, first
    day and mapping file."""
    from clinic_etl.sandbox.clio import FIRM_TIME_ZONE, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_REFRESH_TOKEN
    from clinic_etl.sandbox.clio import SANDBOX_WINDOW as CLIO_WINDOW
    from clinic_etl.settings import CLIO_SANDBOX_DEFAULTS

    root = f"http://{host}:{port}"
    return {
        "CLINIC_ETL_SOURCE": "clio",
        "CLIO_CLIENT_ID": SANDBOX_CLIENT_ID,
        "CLIO_CLIENT_SECRET": SANDBOX_CLIENT_SECRET,
        "CLIO_REFRESH_TOKEN": SANDBOX_REFRESH_TOKEN,
        "CLIO_BASE_URL": root,
        "CLINIC_ETL_TIMEZONE": FIRM_TIME_ZONE,
        "CLINIC_ETL_START_DATE": CLIO_WINDOW[0].isoformat(),
        "CLINIC_ETL_CONFIG": CLIO_SANDBOX_DEFAULTS["CLINIC_ETL_CONFIG"],  # the firm's mapping file
        **_xero(root + LAW_FIRM_XERO),
    }


def engage_environment(host: str, port: int) -> dict[str, str]:
    """The variables that point the GoHighLevel and Mailchimp clients at the served simulators (with a mapping file
    that turns them on, e.g. clinic_etl/sandbox/engage.yaml)."""
    from clinic_etl.sandbox.gohighlevel import SANDBOX_GHL_TOKEN, SANDBOX_LOCATION_ID
    from clinic_etl.sandbox.mailchimp import SANDBOX_AUDIENCE_ID, SANDBOX_MAILCHIMP_KEY

    root = f"http://{host}:{port}"
    return {
        "GHL_TOKEN": SANDBOX_GHL_TOKEN,
        "GHL_LOCATION_ID": SANDBOX_LOCATION_ID,
        "GHL_BASE_URL": f"{root}/gohighlevel",
        "MAILCHIMP_API_KEY": SANDBOX_MAILCHIMP_KEY,
        "MAILCHIMP_AUDIENCE_ID": SANDBOX_AUDIENCE_ID,
        "MAILCHIMP_BASE_URL": f"{root}/mailchimp/3.0",
    }


def serve(host: str, port: int, xero_state: Path, organisations: int = 1) -> None:
    import uvicorn

    path = Path(xero_state)
    path.parent.mkdir(parents=True, exist_ok=True)
    print("Sandbox APIs on loopback. Point clinic_etl at them with:")
    for name, value in environment(host, port).items():
        print(f"  export {name}={value}")
    print("and for GoHighLevel and Mailchimp (with CLINIC_ETL_CONFIG=clinic_etl/sandbox/engage.yaml):")
    for name, value in engage_environment(host, port).items():
        print(f"  export {name}={value}")
    print("or, for the Clio law firm instead of the Cliniko practice:")
    for name, value in clio_environment(host, port).items():
        print(f"  export {name}={value}")
    if organisations > 1:
        from clinic_etl.sandbox.xero.catalogue import SANDBOX_ORGANISATIONS

        print(f"The practice's Xero app is connected to {organisations} organisations (a mapping's tenants):")
        for tenant in SANDBOX_ORGANISATIONS[:organisations]:
            print(f"  {tenant.name}: tenant_id {tenant.tenant_id}")
    uvicorn.run(combined_app(path, organisations), host=host, port=port, lifespan="off", log_level="warning")
