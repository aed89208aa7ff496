"""Bad settings stop at load with one line naming the variable and the fix, and no traceback: for the CLI and
for `dagster asset materialize` (the same loader `dagster dev` uses)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def run(args: list[str], env: dict[str, str], tmp_path) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CLINIC_ETL_", "XERO_", "CLINIKO_"))}
    return subprocess.run(
        args,
        env={**clean, "DAGSTER_HOME": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )


CASES = [
    (
        {"CLINIC_ETL_SOURCE": "cliniko"},
        "clinic-etl: CLINIKO_API_KEY is not set, and CLINIC_ETL_SOURCE=cliniko needs it",
    ),
    (
        {"CLINIC_ETL_SOURCE": "cliniko", "CLINIKO_API_KEY": "k-au2"},
        "clinic-etl: XERO_CLIENT_ID is not set, and CLINIC_ETL_SOURCE=cliniko needs it",
    ),
    (
        {"CLINIC_ETL_TIMEZONE": "Europe/Londn"},
        "clinic-etl: CLINIC_ETL_TIMEZONE='Europe/Londn' is not an IANA time zone",
    ),
]


@pytest.mark.parametrize(("env", "line"), CASES)
def test_dagster_asset_materialize_prints_one_line(env, line, tmp_path):
    command = [str(BIN / "dagster"), "asset", "materialize", "-m", "clinic_etl.definitions", "--select", "*"]
    done = run([*command, "--partition", "2026-10-14"], env, tmp_path)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr + done.stdout
    ours = [x for x in done.stderr.splitlines() if x.startswith("clinic-etl:")]
    assert len(ours) == 1 and ours[0].startswith(line), done.stderr[-2000:]


@pytest.mark.parametrize(("env", "line"), CASES)
def test_the_cli_prints_one_line(env, line, tmp_path):
    done = run([str(BIN / "clinic-etl"), "sync", "2026-10-14"], env, tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [x for x in done.stderr.splitlines() if x.startswith("clinic-etl:")]
    assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith(line)


def test_a_bad_mapping_file_stops_the_load_before_any_run(tmp_path):
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("accounts:\n  revenu: '200'\n")
    command = [str(BIN / "dagster"), "asset", "materialize", "-m", "clinic_etl.definitions", "--select", "*"]
    done = run([*command, "--partition", "2026-10-14"], {"CLINIC_ETL_CONFIG": str(mapping)}, tmp_path)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert any(x.startswith("clinic-etl: mapping file") and "revenu" in x for x in done.stderr.splitlines())
    assert not (tmp_path / "clinic-etl" / "sandbox").exists()  # nothing ran: no simulated Xero was created
