"""`clinic-etl`: sync a day (or a range), serve the sandbox APIs, report quarantine."""

from __future__ import annotations

import argparse
import sys
from datetime import date


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="clinic-etl", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    sync = commands.add_parser("sync", help="sync one practice day (or DAY..UNTIL) into Xero and reconcile it")
    sync.add_argument("day", help="YYYY-MM-DD, a day in the practice's time zone")
    sync.add_argument("--until", help="last day of a range (inclusive), synced in one run (a single-run backfill)")
    sandbox = commands.add_parser("sandbox", help="the built-in Cliniko and Xero simulators")
    sandbox_commands = sandbox.add_subparsers(dest="sandbox_command", required=True)
    serve = sandbox_commands.add_parser("serve", help="serve both simulators over HTTP on loopback")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--xero-state", help="SQLite file of the simulated Xero (default: under DAGSTER_HOME)")
    commands.add_parser("quarantine", help="list open quarantined records (ids and reasons)")
    args = parser.parse_args(argv)

    from clinic_etl.mapping import MappingError
    from clinic_etl.settings import Settings, SettingsError

    try:
        settings = Settings.from_env()
        if args.command == "sandbox":
            from clinic_etl.sandbox.serve import serve as run_server

            run_server(args.host, args.port, args.xero_state or settings.state_dir / "sandbox" / "xero.sqlite")
            return 0
        if args.command == "quarantine":
            from clinic_etl.report import print_quarantine

            return print_quarantine(settings)
        first, last = (_day(d, name) for d, name in ((args.day, "DAY"), (args.until or args.day, "--until")))
        if last < first:
            raise ValueError(f"--until {last} is before DAY {first}: give the range's first day, then its last")
        from clinic_etl.run import sync

        ok = sync(settings, first, last)
    except (SettingsError, MappingError, ValueError) as error:
        print(f"clinic-etl: {error}", file=sys.stderr)
        return 2
    return 0 if ok else 1


def _day(value: str, name: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise ValueError(f"{name} {value!r} is not a day: use YYYY-MM-DD, e.g. 2026-10-14") from None


if __name__ == "__main__":
    sys.exit(main())
