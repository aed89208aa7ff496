"""The one settings object: every environment variable clinic_etl reads, validated once when Definitions load.

Nothing else in clinic_etl reads the environment. A bad value stops the load with one line that names the
variable and the fix (`SettingsError`). Secrets are checked for presence here, but resources take them through
Dagster's ``EnvVar`` so their values never appear in the UI, logs or run config.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from datetime import date
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

SOURCES = ("sandbox", "cliniko", "clio", "clio-sandbox")
SANDBOXES = ("sandbox", "clio-sandbox")  # the embedded simulators, with the embedded Xero
# The Clio sandbox firm's defaults (`clinic_etl.sandbox.clio`: FIRM_TIME_ZONE, SANDBOX_WINDOW[0] and its mapping file),
# written out here so that settings never import the simulators (a test checks they agree).
CLIO_SANDBOX_DEFAULTS = {
    "CLINIC_ETL_TIMEZONE": "America/New_York",
    "CLINIC_ETL_START_DATE": "2026-09-28",
    "CLINIC_ETL_CONFIG": str(Path(__file__).parent / "sandbox" / "clio" / "mapping.yaml"),
}
CLIO_APP_FIX = (
    "register an app in Clio's developer portal of the firm's region (developers.clio.com, eu., ca. or au.) and "
    "authorise it once to obtain a refresh token"
)


MAILCHIMP_DC = re.compile(r"-[a-z]+\d+$")  # an API key's data-centre suffix: ...-us21
GHL_LOCATION_FIX = "the sub-account's location id (in its URL: .../v2/location/<id>/...)"
MAILCHIMP_AUDIENCE_FIX = "the audience (list) id: Audience > Settings > Audience name and defaults"


class SettingsError(ValueError):
    """A configuration value is wrong; the message names the variable and the fix."""


def _env(name: str) -> AliasChoices:
    return AliasChoices(name)


class Settings(BaseSettings):
    """The deployment's configuration, read from the environment (names in the README's table)."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", populate_by_name=False, env_ignore_empty=True)

    source: Literal["sandbox", "cliniko", "clio", "clio-sandbox"] = Field(
        "sandbox", validation_alias=_env("CLINIC_ETL_SOURCE")
    )
    timezone: str = Field("Australia/Sydney", validation_alias=_env("CLINIC_ETL_TIMEZONE"))
    start_date: date = Field(date(2025, 1, 1), validation_alias=_env("CLINIC_ETL_START_DATE"))
    database_url: str | None = Field(None, validation_alias=_env("CLINIC_ETL_DATABASE_URL"))
    config_path: str | None = Field(None, validation_alias=_env("CLINIC_ETL_CONFIG"))
    dagster_home: str | None = Field(None, validation_alias=_env("DAGSTER_HOME"))
    xero_calls_per_minute: int = Field(60, ge=0, le=60, validation_alias=_env("CLINIC_ETL_XERO_CALLS_PER_MINUTE"))
    # clinic_etl's share of Xero's 5,000 calls a day per organisation (the rest: other apps on it); 0: no quota
    xero_calls_per_day: int = Field(4800, ge=0, le=5000, validation_alias=_env("CLINIC_ETL_XERO_CALLS_PER_DAY"))
    cliniko_calls_per_minute: int = Field(
        200, ge=0, le=200, validation_alias=_env("CLINIC_ETL_CLINIKO_CALLS_PER_MINUTE")
    )
    # the source's and Xero's connection (secrets: presence only; resources read them through EnvVar)
    cliniko_api_key: SecretStr | None = Field(None, validation_alias=_env("CLINIKO_API_KEY"))
    cliniko_base_url: str | None = Field(None, validation_alias=_env("CLINIKO_BASE_URL"))
    clio_client_id: str | None = Field(None, validation_alias=_env("CLIO_CLIENT_ID"))
    clio_client_secret: SecretStr | None = Field(None, validation_alias=_env("CLIO_CLIENT_SECRET"))
    clio_refresh_token: SecretStr | None = Field(None, validation_alias=_env("CLIO_REFRESH_TOKEN"))
    clio_base_url: str | None = Field(None, validation_alias=_env("CLIO_BASE_URL"))
    xero_client_id: str | None = Field(None, validation_alias=_env("XERO_CLIENT_ID"))
    xero_client_secret: SecretStr | None = Field(None, validation_alias=_env("XERO_CLIENT_SECRET"))
    xero_refresh_token: SecretStr | None = Field(None, validation_alias=_env("XERO_REFRESH_TOKEN"))
    xero_tenant_id: str | None = Field(None, validation_alias=_env("XERO_TENANT_ID"))
    secret_key: SecretStr | None = Field(None, validation_alias=_env("CLINIC_ETL_SECRET_KEY"))
    xero_api_url: str | None = Field(None, validation_alias=_env("XERO_API_URL"))
    xero_identity_url: str | None = Field(None, validation_alias=_env("XERO_IDENTITY_URL"))
    # the outbound systems (clinic_etl.engage): on when the mapping file has their section; the sandbox's simulators
    # stand in for them unless a token or key is set
    ghl_token: SecretStr | None = Field(None, validation_alias=_env("GHL_TOKEN"))
    ghl_location_id: str | None = Field(None, validation_alias=_env("GHL_LOCATION_ID"))
    ghl_base_url: str | None = Field(None, validation_alias=_env("GHL_BASE_URL"))
    mailchimp_api_key: SecretStr | None = Field(None, validation_alias=_env("MAILCHIMP_API_KEY"))
    mailchimp_audience_id: str | None = Field(None, validation_alias=_env("MAILCHIMP_AUDIENCE_ID"))
    mailchimp_base_url: str | None = Field(None, validation_alias=_env("MAILCHIMP_BASE_URL"))
    # where the call budgets live: unset, a SQLite file on this machine; redis://... or postgresql://... to hold them
    # across machines (a secret: it may carry a password)
    call_budget_url: SecretStr | None = Field(None, validation_alias=_env("CLINIC_ETL_CALL_BUDGET_URL"))
    # alerts (off unless a webhook or an SMTP server is set; `clinic_etl.alerts`)
    alert_webhook: SecretStr | None = Field(None, validation_alias=_env("CLINIC_ETL_ALERT_WEBHOOK"))
    alert_smtp_host: str | None = Field(None, validation_alias=_env("CLINIC_ETL_ALERT_SMTP_HOST"))
    alert_smtp_port: int = Field(587, ge=1, le=65535, validation_alias=_env("CLINIC_ETL_ALERT_SMTP_PORT"))
    alert_smtp_tls: Literal["starttls", "ssl", "none"] = Field(
        "starttls", validation_alias=_env("CLINIC_ETL_ALERT_SMTP_TLS")
    )
    alert_smtp_user: str | None = Field(None, validation_alias=_env("CLINIC_ETL_ALERT_SMTP_USER"))
    alert_smtp_password: SecretStr | None = Field(None, validation_alias=_env("CLINIC_ETL_ALERT_SMTP_PASSWORD"))
    alert_smtp_from: str | None = Field(None, validation_alias=_env("CLINIC_ETL_ALERT_SMTP_FROM"))
    alert_smtp_to: str | None = Field(None, validation_alias=_env("CLINIC_ETL_ALERT_SMTP_TO"))
    alert_ui_url: str | None = Field(None, validation_alias=_env("CLINIC_ETL_ALERT_UI_URL"))

    @model_validator(mode="before")
    @classmethod
    def _sandbox_firm(cls, data: object) -> object:
        """The Clio sandbox's firm is in New York and its bills start on 2026-09-28: its zone, first partition and
        mapping file are the defaults there (a variable that is set still wins)."""
        if isinstance(data, dict):
            source = data.get("CLINIC_ETL_SOURCE")
            if isinstance(source, str) and source.strip().lower() == "clio-sandbox":
                return {**CLIO_SANDBOX_DEFAULTS, **data}
        return data

    @field_validator("source", mode="before")
    @classmethod
    def _source(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("clio_base_url")
    @classmethod
    def _clio_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.query:
            raise ValueError(
                "is not the root URL of a Clio region: use https://app.clio.com (or https://eu.app.clio.com, "
                "https://ca.app.clio.com, https://au.app.clio.com)"
            )
        return value.strip()

    @field_validator("alert_webhook", "alert_ui_url")
    @classmethod
    def _http_url(cls, value: SecretStr | str | None) -> SecretStr | str | None:
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        if raw is not None:
            parts = urlsplit(raw.strip())
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError("is not an http(s) URL: give the full address, e.g. https://hooks.example.com/...")
        return value

    @field_validator("xero_calls_per_day")
    @classmethod
    def _day_quota(cls, value: int) -> int:
        if 0 < value < 100:
            raise ValueError(
                "is too small: a re-run after a stop first reads back up to one batch (50) and the organisation, so "
                "use 0 (no quota) or at least 100 (default 4800 of Xero's 5,000)"
            )
        return value

    @field_validator("call_budget_url")
    @classmethod
    def _budget_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            scheme = urlsplit(value.get_secret_value().strip()).scheme.split("+")[0]
            if scheme not in ("redis", "rediss", "postgresql", "postgres"):
                raise ValueError(
                    "names an unsupported budget store: use redis://host:6379/0 or postgresql://user@host/db "
                    "(unset: a file on this machine)"
                )
        return value

    @field_validator("alert_smtp_tls", mode="before")
    @classmethod
    def _tls(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("ghl_base_url", "mailchimp_base_url")
    @classmethod
    def _api_root(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.query:
            raise ValueError("is not an API root URL: use https://host[/path], or unset it for the default")
        return value.strip().rstrip("/")

    @field_validator("mailchimp_api_key")
    @classmethod
    def _mailchimp_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not MAILCHIMP_DC.search(value.get_secret_value().strip()):
            raise ValueError(
                "has no data-centre suffix (e.g. -us21): copy the whole key from Mailchimp (Profile > Extras > "
                "API keys); the suffix picks https://<dc>.api.mailchimp.com"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value.strip())
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("is not an IANA time zone: use a name such as Australia/Sydney") from exc
        return value.strip()

    @field_validator("start_date", mode="before")
    @classmethod
    def _start(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                raise ValueError("is not a date: use YYYY-MM-DD, e.g. 2025-01-01") from None
        return value

    @field_validator("database_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(
                "is not a SQLAlchemy URL: use sqlite:///path/state.db or postgresql+psycopg://user@host/db"
            ) from None
        if url.get_backend_name() not in ("sqlite", "postgresql", "postgres"):
            raise ValueError("names an unsupported database: use sqlite:///... or postgresql+psycopg://...")
        folder = Path(url.database or "").expanduser().parent if url.get_backend_name() == "sqlite" else None
        if folder is not None and url.database and not folder.is_dir():
            raise ValueError(
                f"names a SQLite file in a folder that does not exist ({folder}): a typo would start a new, empty "
                "state store; create the folder or fix the path"
            )
        return value

    @field_validator("config_path")
    @classmethod
    def _config(cls, value: str | None) -> str | None:
        if value is not None and not Path(value).is_file():
            raise ValueError("is not a file: give the path of the mapping YAML, or unset it for the defaults")
        return value

    @field_validator("secret_key")
    @classmethod
    def _key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            try:
                raw = base64.urlsafe_b64decode(value.get_secret_value().encode())
            except (ValueError, binascii.Error):
                raw = b""
            if len(raw) != 32:
                raise ValueError(
                    "is not a Fernet key (32 url-safe base64 bytes): make one with "
                    'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
                )
        return value

    @model_validator(mode="after")
    def _credentials(self) -> Settings:
        missing = []
        if self.source == "cliniko" and self.cliniko_api_key is None:
            missing.append(("CLINIKO_API_KEY", "create a key in Cliniko (My Info > Manage API keys)"))
        if self.source == "clio":
            for name, value in (
                ("CLIO_CLIENT_ID", self.clio_client_id),
                ("CLIO_CLIENT_SECRET", self.clio_client_secret),
                ("CLIO_REFRESH_TOKEN", self.clio_refresh_token),
            ):
                if value is None:
                    missing.append((name, CLIO_APP_FIX))
        if self.real_xero:
            for name, value in (
                ("XERO_CLIENT_ID", self.xero_client_id),
                ("XERO_CLIENT_SECRET", self.xero_client_secret),
            ):
                if value is None:
                    missing.append((name, "the client id and secret of your Xero app (developer.xero.com)"))
        if self.xero_refresh_token is not None and self.secret_key is None:
            missing.append(
                (
                    "CLINIC_ETL_SECRET_KEY",
                    "rotated Xero refresh tokens are kept encrypted with it; make one with "
                    'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"',
                )
            )
        if self.alert_smtp_host is not None:
            for name, value in (
                ("CLINIC_ETL_ALERT_SMTP_FROM", self.alert_smtp_from),
                ("CLINIC_ETL_ALERT_SMTP_TO", self.alert_smtp_to),
            ):
                if not value or "@" not in value:
                    raise ValueError(
                        f"{name} is not set (or not an address), and CLINIC_ETL_ALERT_SMTP_HOST needs it: the sender "
                        "and the comma-separated recipients of the alerts"
                    )
        pairs = (
            ("GHL_TOKEN", self.ghl_token, "GHL_LOCATION_ID", self.ghl_location_id, GHL_LOCATION_FIX),
            ("MAILCHIMP_API_KEY", self.mailchimp_api_key, "MAILCHIMP_AUDIENCE_ID", self.mailchimp_audience_id,
             MAILCHIMP_AUDIENCE_FIX),
        )  # fmt: skip
        for given, value, needed, other, fix in pairs:
            if value is not None and other is None:
                raise ValueError(f"{needed} is not set, and {given} needs it: {fix}")
        if missing:
            name, fix = missing[0]
            others = f" (also missing: {', '.join(n for n, _ in missing[1:])})" if len(missing) > 1 else ""
            need = (
                "XERO_REFRESH_TOKEN needs it"
                if name == "CLINIC_ETL_SECRET_KEY"
                else f"CLINIC_ETL_SOURCE={self.source} needs it"
            )
            raise ValueError(f"{name} is not set, and {need}: {fix}{others}")
        return self

    # ---- derived values
    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def real_xero(self) -> bool:
        """The real Xero API (or a server standing in for it) rather than the embedded simulator."""
        return self.source not in SANDBOXES or any(
            v is not None for v in (self.xero_client_id, self.xero_refresh_token, self.xero_api_url)
        )

    @property
    def real_ghl(self) -> bool:
        """GoHighLevel itself (or a server standing in for it) rather than the embedded simulator."""
        return self.source not in SANDBOXES or self.ghl_token is not None

    @property
    def real_mailchimp(self) -> bool:
        """Mailchimp itself (or a server standing in for it) rather than the embedded simulator."""
        return self.source not in SANDBOXES or self.mailchimp_api_key is not None

    @property
    def state_dir(self) -> Path:
        """Where clinic_etl keeps local files: $DAGSTER_HOME/clinic-etl, else ./.clinic_etl. (Not `clinic_etl`:
        a folder of that name in the working directory would shadow the package for `dagster -m`.)"""
        return Path(self.dagster_home) / "clinic-etl" if self.dagster_home else Path.cwd() / ".clinic_etl"

    @property
    def store_url(self) -> str:
        return self.database_url or f"sqlite:///{self.state_dir / 'state.db'}"

    @property
    def alerts_on(self) -> bool:
        """Alerts are sent when a webhook or an SMTP server is configured."""
        return self.alert_webhook is not None or self.alert_smtp_host is not None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Read and validate; raises SettingsError with one line per problem, naming the variable."""
        try:
            if env is None:
                return cls()
            return cls.model_validate({k: v for k, v in env.items() if v != ""})
        except ValidationError as exc:
            raise SettingsError(_explain(exc, env)) from None


SECRETS = (
    "CLINIKO_API_KEY",
    "CLIO_CLIENT_SECRET",
    "CLIO_REFRESH_TOKEN",
    "XERO_CLIENT_SECRET",
    "XERO_REFRESH_TOKEN",
    "CLINIC_ETL_SECRET_KEY",
    "CLINIC_ETL_CALL_BUDGET_URL",
    "CLINIC_ETL_ALERT_WEBHOOK",
    "CLINIC_ETL_ALERT_SMTP_PASSWORD",
    "GHL_TOKEN",
    "MAILCHIMP_API_KEY",
)


def _variable(field: str) -> str:
    if field not in Settings.model_fields:
        return field  # already the variable's name (the alias)
    alias = Settings.model_fields[field].validation_alias
    return alias.choices[0] if isinstance(alias, AliasChoices) else field.upper()  # type: ignore[return-value]


def _explain(exc: ValidationError, env: dict[str, str] | None) -> str:
    source = os.environ if env is None else env
    lines = []
    for error in exc.errors(include_url=False):
        if not error["loc"]:
            lines.append(str(error["msg"]).removeprefix("Value error, "))
            continue
        name = _variable(str(error["loc"][0]))
        shown = "<secret>" if name.startswith(SECRETS) else repr(source.get(name, error.get("input")))
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "literal_error" and name == "CLINIC_ETL_SOURCE":
            message = f"is not supported: use one of {', '.join(SOURCES)}"
        elif error["type"] == "literal_error":
            message = "is not supported: use starttls, ssl or none"
        lines.append(f"{name}={shown} {message}")
    return "; ".join(lines)
