"""`clinic-etl sync` on the sandbox with the sample mapping shows both outbound steps working, after the closing table,
in counts and money only; a mapping that needs a token it does not have stops before any API call (exit 2)."""

import os
import subprocess
import sys
from pathlib import Path

from .test_engage_config import SAMPLE

BIN = Path(sys.executable).parent
OURS = ("CLINIC_ETL_", "XERO_", "CLINIKO_", "CLIO_", "GHL_", "MAILCHIMP_")


def cli(args: list[str], home: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(OURS)}
    return subprocess.run(
        [str(BIN / "clinic-etl"), *args],
        env={**clean, "DAGSTER_HOME": str(home), "COLUMNS": "140", **env},
        capture_output=True,
        text=True,
        timeout=300,
        cwd=home,
    )


def test_a_sandbox_day_shows_both_steps(tmp_path):
    done = cli(["sync", "2026-10-14"], tmp_path, CLINIC_ETL_CONFIG=SAMPLE)
    assert done.returncode == 0, done.stderr
    out = " ".join(done.stdout.split())
    assert "GoHighLevel: 2 patient(s) booked a first appointment;" in out
    assert "added to the workflow" in out
    assert "Mailchimp (as of 2026-10-14):" in out and "overdue invoice(s), AUD" in out
    assert "@" not in done.stdout + done.stderr  # counts and money, never an e-mail


def test_a_real_deployment_without_the_token_stops_before_any_call(tmp_path):
    env = {"CLINIC_ETL_SOURCE": "cliniko", "CLINIKO_API_KEY": "k-au2", "XERO_CLIENT_ID": "i",
           "XERO_CLIENT_SECRET": "s", "CLINIC_ETL_CONFIG": SAMPLE}  # fmt: skip
    done = cli(["sync", "2026-10-14"], tmp_path, **env)
    assert done.returncode == 2
    assert done.stderr.strip().startswith("clinic-etl: GHL_TOKEN is not set") and len(done.stderr.splitlines()) == 1
