"""As a user runs it: `dagster asset materialize --partition-range` over 14 sandbox days with a real DAGSTER_HOME
is one run that reconciles every day; a re-run writes nothing; and afterwards no file under DAGSTER_HOME (run
storage, event logs, captured compute logs, the state store) nor the command's output holds a patient's name
or e-mail. The one file exempt is the simulated Xero organisation itself: it is Xero, where names must go."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import httpx

from clinic_etl.sandbox.cliniko import build_practice
from clinic_etl.sandbox.transport import InProcessTransport
from clinic_etl.sandbox.xero import create_app

BIN = Path(sys.executable).parent
FIRST, LAST = "2026-10-05", "2026-10-18"


def materialize(home: Path) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CLINIC_ETL_", "XERO_", "CLINIKO_"))}
    command = [str(BIN / "dagster"), "asset", "materialize", "-m", "clinic_etl.definitions", "--select", "*"]
    return subprocess.run(
        [*command, "--partition-range", f"{FIRST}...{LAST}"],
        env={**clean, "DAGSTER_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=300,
        cwd=home,
    )


def xero_writes(xero_file: Path) -> dict[str, int]:
    with httpx.Client(transport=InProcessTransport(create_app(str(xero_file))), base_url="http://x") as http:
        calls = http.get("/__sandbox__/stats").json()["calls"]
    return {c: n for c, n in calls.items() if "api.xro" in c and not c.startswith("GET")}


def personal_data(practice) -> set[bytes]:
    found = set()
    for p in practice.patients:
        if p.get("first_name") and p.get("last_name"):
            found.add(f"{p['first_name']} {p['last_name']}".encode())
        if p.get("email"):
            found.add(p["email"].encode())
    return found


def test_a_partition_range_is_one_run_reconciled_per_day_and_leaves_no_personal_data_at_rest(tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    first = materialize(home)
    assert first.returncode == 0, first.stderr[-3000:]
    xero_file = home / "clinic-etl" / "sandbox" / "xero.sqlite"
    written = xero_writes(xero_file)
    assert sum(written.values()) > 10

    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs()
        assert len(runs) == 1 and runs[0].is_success
        records = instance.fetch_materializations(dg.AssetKey("xero_reconciliation"), limit=100).records
        per_day = {r.asset_materialization.partition: r.asset_materialization.metadata for r in records}
        assert len(per_day) == 14
        assert all(m["reconciled"].value is True and m["mismatches"].value == 0 for m in per_day.values())
        checks = instance.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(dg.AssetKey("xero_reconciliation"), "xero_matches_source"), limit=100
        )
        by_partition = {c.partition: c.status.value for c in checks}
        assert by_partition == {None: "SUCCEEDED", **dict.fromkeys(per_day, "SUCCEEDED")}  # each day its own

    again = materialize(home)
    assert again.returncode == 0, again.stderr[-3000:]
    assert xero_writes(xero_file) == written  # the re-run wrote nothing

    private = personal_data(build_practice())
    assert len(private) > 300
    output = (first.stdout + first.stderr + again.stdout + again.stderr).encode()
    leaks = [p for p in private if p in output]
    files = [f for f in home.rglob("*") if f.is_file() and f != xero_file]
    assert len(files) > 5 and any("storage" in f.parts or "history" in f.parts for f in files)
    for path in files:
        content = path.read_bytes()
        leaks += [f"{path.relative_to(home)}: {p[:3]!r}..." for p in private if p in content]
    assert not leaks, leaks[:10]
    # the control: the simulated Xero does hold them, so the search would find a leak
    assert any(p in xero_file.read_bytes() for p in private)
