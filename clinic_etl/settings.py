"""Environment configuration: the variables a deployment sets, read in one place.

Secrets (API keys, client secrets, refresh tokens) are not read here: resources take them through
Dagster's ``EnvVar`` so they never appear in the UI, logs or run config.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SOURCES = ("sandbox", "cliniko")
DEFAULT_START_DATE = "2025-01-01"


class SettingsError(ValueError):
    """A configuration value is wrong; the message names the variable and the fix."""


def state_dir() -> Path:
    """Where clinic_etl keeps local files: under DAGSTER_HOME, else ./.clinic_etl."""
    home = os.environ.get("DAGSTER_HOME")
    return Path(home) / "clinic_etl" if home else Path.cwd() / ".clinic_etl"


@dataclass(frozen=True)
class Settings:
    source: str
    timezone: str
    database_url: str
    config_path: str | None
    start_date: str

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        source = env.get("CLINIC_ETL_SOURCE", "sandbox").strip().lower() or "sandbox"
        if source not in SOURCES:
            raise SettingsError(f"CLINIC_ETL_SOURCE={source!r} is not supported; use one of {', '.join(SOURCES)}")
        timezone = env.get("CLINIC_ETL_TIMEZONE", "Australia/Sydney").strip() or "Australia/Sydney"
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SettingsError(
                f"CLINIC_ETL_TIMEZONE={timezone!r} is not an IANA time zone (e.g. Australia/Sydney)"
            ) from exc
        database_url = env.get("CLINIC_ETL_DATABASE_URL") or f"sqlite:///{state_dir() / 'state.db'}"
        config_path = env.get("CLINIC_ETL_CONFIG") or None
        if config_path and not Path(config_path).is_file():
            raise SettingsError(f"CLINIC_ETL_CONFIG={config_path!r}: no such file")
        start_date = env.get("CLINIC_ETL_START_DATE", DEFAULT_START_DATE)
        return cls(source, timezone, database_url, config_path, start_date)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
