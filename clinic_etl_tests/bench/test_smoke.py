"""`clinic-etl bench --quick` prints every labelled figure with a number (no figure is judged here: performance is
never asserted by a test), and no patient's name."""

import re
import subprocess
import sys

from clinic_etl.bench import report
from clinic_etl.sandbox.cliniko import build_practice

NUMBER = r"[-+>=\s]*[0-9][0-9,]*(\.[0-9]+)?"


def test_bench_quick_prints_every_labelled_figure():
    done = subprocess.run(
        [sys.executable, "-c", "from clinic_etl.cli import main; main()", "bench", "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = done.stdout
    assert done.returncode == 0, done.stderr[-2000:] + out[-2000:]
    for label, times in [*((label, 1) for label in report.ONCE), *((label, 2) for label in report.PER_CLINIC)]:
        found = re.findall(rf"^  {re.escape(label)}\s+({NUMBER})", out, flags=re.MULTILINE)
        assert len(found) == times, f"{label!r} printed {len(found)} times with a number, expected {times}:\n{out}"
    assert "FAILED" not in out and "NOT reconciled" not in out, out
    names = {f"{p['first_name']} {p['last_name']}" for p in build_practice().patients}
    assert not [n for n in names if n in out]
