"""The Dagster commands of the README in the `dg` form Dagster recommends (dagster-dg-cli): this checkout is a dg
project (pyproject's [tool.dg]), `dg check defs` loads the definitions, and `dg launch --partition-range` syncs a
range of sandbox days as one run."""

import os
import subprocess
import sys
from pathlib import Path

import httpx

from clinic_etl.sandbox.transport import InProcessTransport
from clinic_etl.sandbox.xero import create_app

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]


def dg(home: Path, *args: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CLINIC_ETL_", "XERO_", "CLINIKO_", "CLIO_"))}
    return subprocess.run(
        [str(BIN / "dg"), *args],
        env={**clean, "DAGSTER_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )


def test_dg_check_defs_and_a_launched_range_is_one_run(tmp_path):
    checked = dg(tmp_path, "check", "defs")
    assert checked.returncode == 0, checked.stderr[-2000:]
    assert "All definitions loaded successfully" in checked.stdout + checked.stderr
    assert "virtual environment" not in checked.stdout + checked.stderr  # the venv warning is suppressed

    launched = dg(tmp_path, "launch", "--assets", "*", "--partition-range", "2026-10-13...2026-10-14")
    output = launched.stdout + launched.stderr
    assert launched.returncode == 0, output[-3000:]
    assert output.count("RUN_SUCCESS") == 1  # the two days in one run
    with httpx.Client(
        transport=InProcessTransport(create_app(str(tmp_path / "clinic-etl" / "sandbox" / "xero.sqlite"))),
        base_url="http://x",
    ) as http:
        calls = http.get("/__sandbox__/stats").json()["calls"]
    assert sum(n for c, n in calls.items() if c.startswith("PUT /api.xro/2.0/Invoices")) >= 1
