"""The kill test's driver: learn the write points of an uninterrupted scenario, then kill the sync at each chosen
point in its own DAGSTER_HOME, re-run, and compare what Xero holds with the uninterrupted scenario.

The kill test's scenario is two runs: FIRST (the base practice: contacts, invoices and payments created) and then
LATER with the practice edited in between (`harness.kill_scenario_practice`: reversals, voids, updates, new totals,
a late payment, a contact update). A kill in FIRST is followed by FIRST again and then LATER; a kill in LATER starts
from a copy of the uninterrupted FIRST's DAGSTER_HOME and is followed by LATER again. (`test_kill_then_edit.py`'s
scenario, at the end of this module: FIRST killed, the practice edited, FIRST re-run.)

Each sync runs in a child of a `killable --serve` process (four of them: two cores busy while runs sleep in Xero's
minute limit): a real process that dies by SIGKILL at the point, its exit code -9 checked.
"""

from __future__ import annotations

import json
import os
import queue
import shlex
import shutil
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clinic_etl_tests.resilience import harness

ROOT = Path(__file__).resolve().parents[2]
FIRST, LATER = harness.KILL_FIRST, harness.KILL_LATER
MODULE = "clinic_etl_tests.resilience.killable"


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


class KillServer:
    """`python -m clinic_etl_tests.resilience.killable --serve`: one job (a line of arguments) at a time."""

    def __init__(self, log: Path) -> None:
        self.log = open(log, "a")  # noqa: SIM115 - the server's stderr, closed with it
        self.proc = subprocess.Popen(
            [sys.executable, "-m", MODULE, "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            cwd=ROOT,
            env=child_env(),
        )
        self.seconds: list[float] = []  # of each job, as the server measured it

    def __call__(self, *args: object) -> int:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(shlex.join(str(a) for a in args) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the kill server stopped (exit {self.proc.poll()}); see {self.log.name}")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(answer["error"])
        self.seconds.append(float(answer.get("seconds", 0)))
        return int(answer["code"])

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@dataclass(frozen=True)
class Point:
    run: str  # FIRST or LATER
    kind: str  # "write": after Xero's write returned, before its record; "record": after the record
    index: int  # 1-based, per kind, within that run
    what: str

    def __str__(self) -> str:
        return f"{self.run} {self.kind}:{self.index} ({self.what})"


@dataclass
class Outcome:
    point: Point
    killed_code: int
    codes: list[int]
    differences: dict[str, Any] = field(default_factory=dict)  # per stage compared: what differs
    duplicates: list[str] = field(default_factory=list)
    failed_steps: list[str] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)  # of the killed run and of each re-run

    @property
    def ok(self) -> bool:
        converged = not self.differences and not self.duplicates
        return self.killed_code == -signal.SIGKILL and all(c == 0 for c in self.codes) and converged


def read_points(trace: Path, run: str) -> list[Point]:
    rows = [json.loads(line) for line in trace.read_text().splitlines() if line.strip()]
    return [Point(run, r["kind"], r["index"], r["what"]) for r in rows]


def spread(points: list[Point]) -> list[Point]:
    """Every write point, and the first and last record after each write (a batch partly and fully recorded)."""
    chosen: list[Point] = []
    group: list[Point] = []

    def close_group() -> None:
        chosen.extend(dict.fromkeys([group[0], group[-1]]) if group else [])
        group.clear()

    for point in points:
        if point.kind == "write":
            close_group()
            chosen.append(point)
        else:
            group.append(point)
    close_group()
    return chosen


def interleave(*lists: list[Point]) -> list[Point]:
    """The points of all lists, each list's spread evenly over the result (stable within a list)."""
    keyed = [((n + 0.5) / len(points), i, point) for i, points in enumerate(lists) for n, point in enumerate(points)]
    return [point for _, _, point in sorted(keyed, key=lambda k: (k[0], k[1]))]


@dataclass
class Reference:
    first_points: list[Point]
    later_points: list[Point]
    first_state: dict
    later_state: dict
    after_first: Path  # a copy of the DAGSTER_HOME after the uninterrupted FIRST
    duplicates: list[str]


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def reference(server: KillServer, tmp: Path, ttl: float) -> Reference:
    home = tmp / "reference"
    assert server(home, FIRST, "--ttl", ttl, "--trace", tmp / "first.trace", "--snapshot", tmp / "first.json") == 0
    shutil.copytree(home, tmp / "after-first")
    later = ("--edited", "--ttl", ttl, "--trace", tmp / "later.trace", "--snapshot", tmp / "later.json")
    assert server(home, LATER, *later) == 0
    first, second = load(tmp / "first.json"), load(tmp / "later.json")
    return Reference(
        read_points(tmp / "first.trace", FIRST),
        read_points(tmp / "later.trace", LATER),
        first["state"],
        second["state"],
        tmp / "after-first",
        first["duplicates"] + second["duplicates"],
    )


def kill_and_rerun(server: KillServer, tmp: Path, ref: Reference, point: Point, ttl: float) -> Outcome:
    home = tmp / f"{point.run}-{point.kind}-{point.index}"
    kill = ("--kill", f"{point.kind}:{point.index}", "--ttl", ttl)
    snaps = {FIRST: home.with_suffix(".first.json"), LATER: home.with_suffix(".later.json")}
    codes, jobs = [], len(server.seconds)
    if point.run == FIRST:
        harness.prepare_home(home)
        killed = server(home, FIRST, *kill)
        codes.append(server(home, FIRST, "--ttl", ttl, "--snapshot", snaps[FIRST]))
    else:
        shutil.copytree(ref.after_first, home)
        killed = server(home, LATER, "--edited", *kill)
    codes.append(server(home, LATER, "--edited", "--ttl", ttl, "--snapshot", snaps[LATER]))
    outcome = Outcome(point, killed, codes, seconds=server.seconds[jobs:])
    expected = {FIRST: ref.first_state, LATER: ref.later_state}
    for run, path in snaps.items():
        if not path.exists():
            continue
        got = load(path)
        diff = harness.differences(expected[run], got["state"])
        if diff:
            outcome.differences[f"after {run}"] = diff
        outcome.duplicates += [f"after {run}: {d}" for d in got["duplicates"]]
        outcome.failed_steps += [f"{run}: {s}" for s in got["failed_steps"]]
    return outcome


def every_kill_point(tmp: Path, ttl: float, workers: int = 4) -> tuple[Reference, list[Outcome]]:
    """The uninterrupted reference, then each chosen kill point (all of them with CLINIC_ETL_KILL_POINTS=all)."""
    servers: queue.Queue[KillServer] = queue.Queue()
    started = [KillServer(tmp / f"server-{n}.log") for n in range(workers)]
    for server in started:
        servers.put(server)
    try:
        ref = reference(started[0], tmp, ttl)
        everything = os.environ.get("CLINIC_ETL_KILL_POINTS") == "all"
        first = ref.first_points if everything else spread(ref.first_points)
        later = ref.later_points if everything else spread(ref.later_points)
        # interleaved: a kill in FIRST costs three runs, and its LATER may sleep in Xero's minute limit (the
        # re-run's adoptions read Xero once per record); the other workers go on meanwhile
        points = interleave(first, later)

        def one(point: Point) -> Outcome:
            server = servers.get()
            try:
                return kill_and_rerun(server, tmp, ref, point, ttl)
            finally:
                servers.put(server)

        with ThreadPoolExecutor(max_workers=workers) as pool:
            order = {point: n for n, point in enumerate([*first, *later])}  # reported in the runs' order
            outcomes = sorted(pool.map(one, points), key=lambda o: order[o.point])
    finally:
        for server in started:
            server.close()
    return ref, outcomes


def report(ref: Reference, outcomes: list[Outcome]) -> str:
    lines = [
        f"{len(ref.first_points)} write points in {FIRST}, {len(ref.later_points)} in {LATER}; "
        f"{len(outcomes)} killed, {sum(not o.ok for o in outcomes)} not converged"
    ]
    for o in outcomes:
        verdict = "ok" if o.ok else "DIFFERS"
        lines.append(f"  {verdict:<8}{o.point} exit {o.killed_code}, re-runs {o.codes}, seconds {o.seconds}")
        if not o.ok:
            detail = {"differences": o.differences, "duplicates": o.duplicates, "failed_steps": o.failed_steps}
            lines.append("          " + json.dumps(detail)[:3000])
    return "\n".join(lines)


def check_scenario(ref: Reference) -> None:
    """The uninterrupted scenario does what the kill test needs: every kind of write, nothing doubled."""
    assert not ref.duplicates, ref.duplicates
    writes = {p.what.split("/")[0] for p in ref.later_points if p.kind == "write"}
    assert {"PUT Contacts", "POST Contacts", "PUT Invoices", "POST Invoices", "POST Payments", "PUT Payments"} <= (
        writes
    ), writes
    invoices = ref.later_state["invoices"]
    assert any(i["Status"] == "VOIDED" for i in invoices.values())
    assert any(any(p[1] == "DELETED" for p in rows) for rows in ref.later_state["payments"].values())
    assert any("(amended)" in line[0] for i in invoices.values() for line in i["LineItems"])
    before = ref.first_state["invoices"]
    assert any(i["Total"] != before[n]["Total"] for n, i in invoices.items() if n in before)  # repriced


def check_outcomes(ref: Reference, outcomes: list[Outcome]) -> None:
    summary = report(ref, outcomes)
    print(summary)
    covered = {(o.point.run, o.point.kind) for o in outcomes}
    assert covered == {(FIRST, "write"), (FIRST, "record"), (LATER, "write"), (LATER, "record")}, covered
    for run in (ref.first_points, ref.later_points):  # the first and last point of each kind were killed
        for kind in ("write", "record"):
            of_kind = [p for p in run if p.kind == kind]
            assert {of_kind[0], of_kind[-1]} <= {o.point for o in outcomes}
    assert all(o.killed_code == -signal.SIGKILL for o in outcomes), summary
    assert all(c == 0 for o in outcomes for c in o.codes), summary
    assert not [o for o in outcomes if o.duplicates], summary
    assert all(o.ok for o in outcomes), summary


# ---- killed, then the practice edited before the re-run ---------------------------------------------------------
def edited_reference(server: KillServer, tmp: Path, ttl: float) -> tuple[list[Point], dict]:
    """FIRST uninterrupted on the base practice (its write points), then FIRST again on the edited practice: the
    effective state (`harness.effective`) every crash of FIRST followed by the edits and a re-run must reach."""
    home = tmp / "edited-reference"
    assert server(home, FIRST, "--ttl", ttl, "--trace", tmp / "edited-first.trace") == 0
    assert server(home, FIRST, "--edited", "--ttl", ttl, "--snapshot", tmp / "edited-reference.json") == 0
    reference = load(tmp / "edited-reference.json")
    assert not reference["duplicates"] and not reference["failed_steps"], reference
    return read_points(tmp / "edited-first.trace", FIRST), harness.effective(reference["state"])


def kill_edit_rerun(server: KillServer, tmp: Path, expected: dict, point: Point, ttl: float) -> Outcome:
    """FIRST killed at `point` on the base practice, then FIRST re-run on the edited practice (the practice changed
    between the crash and the re-run); compared with the edited reference's effective state."""
    home = tmp / f"edited-{point.kind}-{point.index}"
    killed = server(home, FIRST, "--kill", f"{point.kind}:{point.index}", "--ttl", ttl)
    code = server(home, FIRST, "--edited", "--ttl", ttl, "--snapshot", home.with_suffix(".json"))
    got = load(home.with_suffix(".json"))
    outcome = Outcome(point, killed, [code], duplicates=got["duplicates"], failed_steps=got["failed_steps"])
    if diff := harness.differences(expected, harness.effective(got["state"])):
        outcome.differences["after the re-run"] = diff
    return outcome
