"""A deployment against real accounts never needs the simulators: with their packages made unimportable (as after
`pip install clinic-etl` without the `[sandbox]` extra), the code location loads with real credentials and
imports neither `clinic_etl.sandbox` nor starlette, uvicorn or jsonschema; the sandbox chosen without the extra
is one line naming the fix."""

import os
import subprocess
import sys
import textwrap

SIMULATOR_PACKAGES = ("starlette", "uvicorn", "jsonschema", "referencing")

# a meta-path finder that makes the simulators' dependencies absent, then loads the definitions as Dagster does
PROGRAM = textwrap.dedent(
    f"""
    import sys

    class Absent:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {SIMULATOR_PACKAGES!r}:
                raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
            return None

    sys.meta_path.insert(0, Absent())
    from clinic_etl.definitions import defs
    job = defs().resolve_job_def("daily_sync")
    simulators = {SIMULATOR_PACKAGES!r}
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in simulators or m.startswith("clinic_etl.sandbox"))
    print("loaded:", loaded)
    """
)


def run(env: dict[str, str], tmp_path) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CLINIC_ETL_", "XERO_", "CLINIKO_"))}
    return subprocess.run(
        [sys.executable, "-c", PROGRAM],
        env={**clean, "DAGSTER_HOME": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_real_credentials_load_without_the_simulators(tmp_path):
    real = {
        "CLINIC_ETL_SOURCE": "cliniko",
        "CLINIKO_API_KEY": "key-au2",
        "XERO_CLIENT_ID": "id",
        "XERO_CLIENT_SECRET": "s",
    }
    done = run(real, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "loaded: []" in done.stdout


def test_the_sandbox_without_its_extra_is_one_line_naming_the_fix(tmp_path):
    done = run({}, tmp_path)
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [
        "clinic-etl: the embedded sandbox needs the [sandbox] extra (starlette is not installed): "
        "pip install 'clinic-etl[sandbox]', or set CLINIC_ETL_SOURCE=cliniko with real credentials"
    ]
