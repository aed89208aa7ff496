"""Where alerts go: a webhook (JSON POST, Slack-compatible `text`) and/or an SMTP server. Secrets (the webhook's
URL, the SMTP password) reach this resource through Dagster `EnvVar`s, never the UI or run config.

Every configured channel is tried; if one fails the sensor's tick fails (shown in the UI, tried again on the next
tick), so an alert is delivered at least once.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

import dagster as dg
import httpx

from clinic_etl.alerts.message import Alert

TIMEOUT_S = 15.0


class AlertDeliveryError(RuntimeError):
    """A channel refused or could not be reached; the message names the channel, never its secret."""


class AlertResource(dg.ConfigurableResource):
    """CLINIC_ETL_ALERT_WEBHOOK and/or CLINIC_ETL_ALERT_SMTP_* (README, "Alerts")."""

    webhook_url: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_tls: str = "starttls"  # starttls, ssl or none
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str | None = None
    smtp_to: str | None = None  # comma-separated
    ui_url: str | None = None  # the Dagster UI's address, to link the run

    @property
    def configured(self) -> bool:
        return bool(self.webhook_url or self.smtp_host)

    def link(self, run_id: str | None) -> str | None:
        return f"{self.ui_url.rstrip('/')}/runs/{run_id}" if self.ui_url and run_id else None

    def send(self, alert: Alert) -> list[str]:
        """Deliver to every configured channel; the channels reached, or AlertDeliveryError naming those not."""
        sent, failed = [], []
        for name, deliver in (("webhook", self._webhook), ("smtp", self._smtp)):
            if (name == "webhook" and not self.webhook_url) or (name == "smtp" and not self.smtp_host):
                continue
            try:
                deliver(alert)
                sent.append(name)
            except (httpx.HTTPError, smtplib.SMTPException, OSError, AlertDeliveryError) as error:
                failed.append(f"{name}: {type(error).__name__}{_status(error)}")
        if failed:
            raise AlertDeliveryError(f"alert not delivered ({'; '.join(failed)}); delivered: {sent or 'none'}")
        return sent

    def _webhook(self, alert: Alert) -> None:
        assert self.webhook_url
        response = httpx.post(self.webhook_url, json=alert.payload(), timeout=TIMEOUT_S)
        if response.status_code >= 300:
            raise AlertDeliveryError(f"the webhook answered HTTP {response.status_code}")

    def _smtp(self, alert: Alert) -> None:
        assert self.smtp_host and self.smtp_from and self.smtp_to
        message = EmailMessage()
        message["Subject"] = f"[clinic-etl] {alert.title}"
        message["From"] = self.smtp_from
        message["To"] = ", ".join(a.strip() for a in self.smtp_to.split(",") if a.strip())
        message["X-Clinic-ETL-Alert"] = alert.kind
        message.set_content(alert.text())
        tls = self.smtp_tls.lower()
        if tls == "ssl":
            server: smtplib.SMTP = smtplib.SMTP_SSL(
                self.smtp_host, self.smtp_port, timeout=TIMEOUT_S, context=ssl.create_default_context()
            )
        else:
            server = smtplib.SMTP(self.smtp_host, self.smtp_port, timeout=TIMEOUT_S)
        with server:
            if tls == "starttls":
                server.starttls(context=ssl.create_default_context())
            if self.smtp_user:
                server.login(self.smtp_user, self.smtp_password or "")
            server.send_message(message)


def _status(error: Exception) -> str:
    text = str(error)
    return f" ({text})" if isinstance(error, AlertDeliveryError) else ""
