"""The CLI as a finance team uses it: every bad input is one line naming the variable, file, key or day and the
fix, exit 2, no traceback, before any API call; a sandbox range prints a closing table whose totals match what the
simulated Xero holds; money held back exits 1 with the amount; refused credentials exit 3."""

import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from clinic_etl.sandbox.transport import InProcessTransport
from clinic_etl.sandbox.xero import create_app

BIN = Path(sys.executable).parent


def cli(args: list[str], home: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CLINIC_ETL_", "XERO_", "CLINIKO_"))}
    return subprocess.run(
        [str(BIN / "clinic-etl"), *args],
        env={**clean, "DAGSTER_HOME": str(home), "COLUMNS": "140", **env},
        capture_output=True,
        text=True,
        timeout=300,
        cwd=home,
    )


def bad_yaml(tmp: Path) -> str:
    (tmp / "bad.yaml").write_text("accounts: [unclosed\n")
    return str(tmp / "bad.yaml")


def unknown_key(tmp: Path) -> str:
    (tmp / "typo.yaml").write_text("acounts:\n  revenue: '200'\n")
    return str(tmp / "typo.yaml")


CASES = [
    (["sync", "2026-10-14"], {"CLINIC_ETL_TIMEZONE": "Sydney"}, "CLINIC_ETL_TIMEZONE"),
    (["sync", "2026-10-14"], {"CLINIC_ETL_START_DATE": "01/01/2025"}, "CLINIC_ETL_START_DATE"),
    (["sync", "2026-10-14"], {"CLINIC_ETL_SOURCE": "clinko"}, "CLINIC_ETL_SOURCE"),
    (["sync", "2026-10-14"], {"CLINIC_ETL_SOURCE": "cliniko"}, "CLINIKO_API_KEY"),
    (["sync", "2026-10-14"], {"CLINIC_ETL_DATABASE_URL": "postgres//nohost"}, "CLINIC_ETL_DATABASE_URL"),
    (["sync", "2026-10-14"], {"CLINIC_ETL_DATABASE_URL": "sqlite:////no/such/folder/state.db"}, "does not exist"),
    (["sync", "2026-10-14"], {"CLINIC_ETL_CONFIG": "/no/such/mapping.yaml"}, "CLINIC_ETL_CONFIG"),
    (["sync", "2026-10-14"], {"CLINIC_ETL_CONFIG": bad_yaml}, "not valid YAML"),
    (["sync", "2026-10-14"], {"CLINIC_ETL_CONFIG": unknown_key}, "acounts"),
    (["sync", "2030-01-01"], {}, "DAY 2030-01-01 is not a day that can be synced"),
    (["sync", "2024-12-31"], {}, "CLINIC_ETL_START_DATE (2025-01-01)"),
    (["sync", "2026-10-15", "--until", "2026-10-01"], {}, "--until 2026-10-01 is before DAY"),
    (["sync", "14/10/2026"], {}, "DAY '14/10/2026' is not a day"),
    (["status", "--month", "2026-13"], {}, "--month '2026-13' is not a month"),
]


@pytest.mark.parametrize(("args", "env", "named"), CASES, ids=[f"{c[2][:30]}" for c in CASES])
def test_bad_input_is_one_line_exit_2_and_no_api_call(args, env, named, tmp_path):
    env = {k: (v(tmp_path) if callable(v) else v) for k, v in env.items()}
    done = cli(args, tmp_path, **env)
    assert done.returncode == 2, (done.returncode, done.stdout[-500:], done.stderr[-500:])
    assert "Traceback" not in done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("clinic-etl: ") and named in lines[0], lines
    assert not (tmp_path / "clinic-etl" / "sandbox").exists()  # no API was called: the simulated Xero never started


def total_row(output: str) -> list[str]:
    row = next(line for line in output.splitlines() if line.startswith("│ total"))
    return [cell.strip() for cell in row.strip("│").split("│")]


def xero_invoices(home: Path) -> list[dict]:
    transport = InProcessTransport(create_app(str(home / "clinic-etl" / "sandbox" / "xero.sqlite")))
    with httpx.Client(transport=transport, base_url="http://x") as http:
        token = http.post(
            "/connect/token",
            data={"grant_type": "client_credentials"},
            auth=("sandbox-client-id", "sandbox-client-secret"),
        ).json()["access_token"]
        tenant = http.get("/connections", headers={"Authorization": f"Bearer {token}"}).json()[0]["tenantId"]
        headers = {"Authorization": f"Bearer {token}", "xero-tenant-id": tenant, "Accept": "application/json"}
        out, page = [], 1
        while batch := http.get("/api.xro/2.0/Invoices", params={"page": page}, headers=headers).json()["Invoices"]:
            out, page = out + batch, page + 1
        return out


def test_a_range_prints_per_day_lines_and_a_total_that_matches_the_simulated_xero(tmp_path):
    done = cli(["sync", "2026-10-13", "--until", "2026-10-16"], tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert len(re.findall(r"│ 2026-10-1[3-6] ", done.stdout)) == 4
    day, invoices, payments, skipped, quarantined, in_xero, held, verdict = total_row(done.stdout)
    live = [i for i in xero_invoices(tmp_path) if i["Status"] not in ("VOIDED", "DELETED")]
    assert int(invoices) == len(xero_invoices(tmp_path)) and quarantined == "0" and verdict == "all reconciled"
    assert Decimal(in_xero.replace(",", "")) == sum(Decimal(str(i["Total"])) for i in live)
    paid = [i for i in live if Decimal(str(i["AmountPaid"])) > 0]
    assert int(payments) == len(paid)
    again = cli(["sync", "2026-10-13", "--until", "2026-10-16"], tmp_path)
    assert again.returncode == 0 and total_row(again.stdout)[1:3] == ["0", "0"]


def test_money_held_back_exits_1_with_the_amount_and_the_first_reasons(tmp_path):
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("taxes:\n  by_name: {'GST': 'EXEMPTOUTPUT'}\n")  # 0 % in Xero, 10 % at the source
    done = cli(["sync", "2026-10-14"], tmp_path, CLINIC_ETL_CONFIG=str(mapping))
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-1000:]
    assert "held in quarantine" in done.stdout and "EXEMPTOUTPUT" in done.stdout and "Traceback" not in done.stderr
    held = total_row(done.stdout.replace("│ 2026-10-14", "│ total", 1))[6]
    assert Decimal(held.replace(",", "")) > 0
    assert "not every day reconciled" in done.stderr


def test_a_mapping_naming_an_account_xero_lacks_exits_2_naming_the_key_and_writes_nothing(tmp_path):
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("accounts:\n  by_business: {'514810976554457178': '999'}\n")  # the sandbox's Surry Hills
    done = cli(["sync", "2026-10-14"], tmp_path, CLINIC_ETL_CONFIG=str(mapping))
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-1000:]
    assert "accounts.by_business['514810976554457178']: account code '999'" in done.stdout.replace("\n", "")
    assert "Traceback" not in done.stderr and "mapping file must change" in done.stderr
    assert xero_invoices(tmp_path) == []


def test_a_dry_run_plans_exactly_what_the_real_run_writes_and_sends_nothing(tmp_path):
    dry = cli(["sync", "2026-10-13", "--until", "2026-10-14", "--dry-run"], tmp_path)
    assert dry.returncode == 0, dry.stdout[-2000:] + dry.stderr[-1000:]
    assert "DRY RUN" in dry.stdout
    xero_file = tmp_path / "clinic-etl" / "sandbox" / "xero.sqlite"
    with httpx.Client(transport=InProcessTransport(create_app(str(xero_file))), base_url="http://x") as http:
        calls = http.get("/__sandbox__/stats").json()["calls"]
    assert not [c for c, n in calls.items() if "api.xro" in c and not c.startswith("GET") and n]
    assert xero_invoices(tmp_path) == []
    real = cli(["sync", "2026-10-13", "--until", "2026-10-14"], tmp_path)
    assert real.returncode == 0
    assert total_row(real.stdout)[1:4] == total_row(dry.stdout)[1:4]  # invoices, payments, skipped
    assert total_row(real.stdout)[5] == total_row(dry.stdout)[5]  # the money


@pytest.mark.parametrize(
    ("url", "code", "named"),
    [
        ("postgresql+psycopg://postgres@127.0.0.1:1/test", 3, "cannot be reached"),
        ("postgresql+psycopg://postgres@127.0.0.1:5432/clinic_etl_no_such_db", 2, "does not exist"),
    ],
    ids=["postgres-unreachable", "database-missing"],
)
def test_a_state_store_that_cannot_open_is_one_line_before_any_api_call(url, code, named, tmp_path):
    done = cli(["sync", "2026-10-14"], tmp_path, CLINIC_ETL_DATABASE_URL=url)
    assert done.returncode == code, done.stderr[-1000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "CLINIC_ETL_DATABASE_URL" in lines[0] and named in lines[0]
    assert "Traceback" not in done.stderr and not (tmp_path / "clinic-etl" / "sandbox").exists()


def test_the_law_firm_sandbox_lists_trust_money_kept_out_by_id_and_amount_and_no_name(tmp_path):
    from clinic_etl.sandbox.clio import build_firm

    done = cli(["sync", "2026-09-28", "--until", "2026-10-02"], tmp_path, CLINIC_ETL_SOURCE="clio-sandbox")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    (line,) = [x for x in done.stdout.splitlines() if x.startswith("kept out by rule trust")]
    firm = build_firm()
    trust_bills = [
        b for b in firm.bills if b["kind"] == "trust_kind" and "2026-09-28" <= b["issued_at"] <= "2026-10-02"
    ]
    assert trust_bills and all(f"clio:bill:{b['id']}" in done.stdout for b in trust_bills[:3])
    assert "USD" in line and total_row(done.stdout)[-1] == "all reconciled"
    names = {c["name"] for c in firm.contacts if c.get("name")} | {
        c["first_name"] for c in firm.contacts if c.get("first_name")
    }
    assert not [n for n in names if len(n) > 3 and n in done.stdout + done.stderr]
