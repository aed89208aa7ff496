"""One alert: what happened, to which day, asset and check, why, and what to do. Ids and amounts only.

The reason and the details come from clinic_etl's own errors and check metadata, which carry source ids
(`cliniko:invoice:123`), invoice numbers, amounts and the variable to fix, never a patient's name or e-mail.
"""

from __future__ import annotations

from dataclasses import dataclass, field

KINDS = ("reconnect", "quota", "run_failed", "check_failed", "quarantine_grew")


@dataclass(frozen=True)
class Alert:
    kind: str  # one of KINDS
    title: str  # one line: the subject of the e-mail, the first line of the webhook's text
    days: tuple[str, ...]  # the practice days concerned (a run's window, or one partition)
    reason: str
    action: str  # what a person does next
    asset: str | None = None
    check: str | None = None
    run_id: str | None = None
    details: tuple[str, ...] = field(default_factory=tuple)  # ids with what is wrong, at most MAX_DETAILS
    link: str | None = None  # the run in the Dagster UI, when CLINIC_ETL_ALERT_UI_URL is set

    MAX_DETAILS = 20

    @property
    def day_range(self) -> str:
        if not self.days:
            return "no day"
        return self.days[0] if len(self.days) == 1 else f"{self.days[0]}..{self.days[-1]}"

    def text(self) -> str:
        lines = [self.title, "", f"day: {self.day_range}"]
        if self.asset:
            lines.append(f"asset: {self.asset}")
        if self.check:
            lines.append(f"check: {self.check}")
        lines.append(f"reason: {self.reason}")
        lines += [f"  - {d}" for d in self.details[: self.MAX_DETAILS]]
        if len(self.details) > self.MAX_DETAILS:
            lines.append(f"  ... and {len(self.details) - self.MAX_DETAILS} more")
        lines.append(f"what to do: {self.action}")
        if self.run_id:
            lines.append(f"run: {self.run_id}" + (f" ({self.link})" if self.link else ""))
        return "\n".join(lines)

    def payload(self) -> dict[str, object]:
        """The webhook's JSON: `text` (what Slack, Mattermost or Google Chat show) and the fields, for a machine."""
        return {
            "text": self.text(),
            "alert": {
                "kind": self.kind,
                "title": self.title,
                "days": list(self.days),
                "asset": self.asset,
                "check": self.check,
                "reason": self.reason,
                "details": list(self.details[: self.MAX_DETAILS]),
                "action": self.action,
                "run_id": self.run_id,
                "link": self.link,
            },
        }
