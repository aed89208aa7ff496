"""The mapping file (CLINIC_ETL_CONFIG): how practice records become Xero documents.

Defaults fit a Xero Australian organisation's standard chart: revenue account 200, tax types OUTPUT
(GST on income) and EXEMPTOUTPUT (GST-free), payments into bank account 090.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)  # `revenue: 200` is "200"


class Accounts(_Strict):
    revenue: str = Field("200", description="Default sales account code for invoice lines.")
    payments: str = Field("090", description="Bank (or payments-enabled) account that receives payments.")
    credit_notes: str | None = Field(None, description="Account for credit notes (default: `revenue`).")
    bad_debts: str | None = Field(None, description="Account of write-offs (rules.closed_invoices: written_off).")
    by_business: dict[str, str] = Field(default_factory=dict, description="Source business id -> account.")
    by_practitioner: dict[str, str] = Field(default_factory=dict, description="Practitioner id -> account.")
    by_item_code: dict[str, str] = Field(default_factory=dict, description="Item code -> account (wins).")


class Taxes(_Strict):
    taxable: str = Field("OUTPUT", description="Xero TaxType for lines taxed at `taxable_rate`.")
    taxable_rate: Decimal = Field(Decimal("10"), description="The rate (percent) `taxable` stands for.")
    exempt: str = Field("EXEMPTOUTPUT", description="Xero TaxType for untaxed (0 %) lines.")
    by_name: dict[str, str] = Field(default_factory=dict, description="Source tax name -> Xero TaxType.")


class Tracking(_Strict):
    name: str = Field(description="Xero tracking category name, e.g. Location.")
    by: str = Field(pattern="^(business|practitioner)$", description="Which source field picks the option.")
    options: dict[str, str] = Field(default_factory=dict, description="Source id -> option name.")
    create_missing: bool = Field(
        False, description="Create an option named in `options` that Xero lacks (else the run stops before writing)."
    )


class Filters(_Strict):
    businesses: list[str] = Field(default_factory=list, description="Only these business ids (empty: all).")
    practitioners: list[str] = Field(default_factory=list, description="Only these practitioner ids (empty: all).")


class Rules(_Strict):
    only_approved: bool = Field(
        False, description="Keep invoices not yet approved at the source out of Xero (else DRAFT)."
    )
    issued_from: date | None = Field(None, description="Only invoices issued on or after this day.")
    issued_until: date | None = Field(None, description="Only invoices issued on or before this day.")
    sync_payments: bool = Field(True, description="Write payments (false: leave Xero's payments as they are).")
    only_paid: bool = Field(False, description="Only invoices paid (or closed) at the source.")
    skip_zero_total: bool = Field(False, description="Keep invoices of 0.00 out of Xero.")
    skip_bill_to: str | None = Field(
        None,
        description="A regular expression (case-insensitive): invoices billed to a match (an insurer, a third"
        " party) stay out of Xero.",
    )
    skip_item_codes: list[str] = Field(
        default_factory=list, description="Invoices with a line of one of these item codes stay out of Xero."
    )
    locked_period: str = Field(
        "quarantine",
        pattern="^(quarantine|move)$",
        description="A record dated in Xero's locked period: held in quarantine, or moved to the first open day.",
    )
    excused: dict[str, str] = Field(
        default_factory=dict,
        description="Quarantined records (as `clinic-etl quarantine list` names them, source:entity:id) -> why the"
        " finance team accepts them out of Xero: they no longer fail their day's reconciliation.",
    )
    closed_invoices: str = Field(
        "paid",
        pattern="^(paid|written_off)$",
        description="Cliniko 30 Closed: paid in full, or written off with a credit note to accounts.bad_debts.",
    )


class GoHighLevel(_Strict):
    """New patients into GoHighLevel (`clinic_etl.engage.gohighlevel`): on when the section is present."""

    workflow_id: str | None = Field(None, min_length=1, description="GHL workflow each new patient is added to, once.")
    tags: list[str] = Field(default_factory=list, description="Tags added to each new patient's contact, once.")
    consent: str = Field(
        "email_or_sms",
        pattern="^(email|sms|email_or_sms|none)$",
        description="Cliniko consent a patient needs to be sent (accepted_email_marketing / accepted_sms_marketing); "
        "`none` sends every new patient. A channel without consent is sent as DND in GHL.",
    )
    allow_duplicate_contacts: bool = Field(
        False,
        description="Two patients sharing an e-mail or phone: false keeps the second out (GHL's duplicate rule would "
        "merge them); true sends it with createNewIfDuplicateAllowed (the location must allow duplicates).",
    )
    source: str = Field("clinic_etl", max_length=100, description="The GHL contact's `source`.")


class Journey(_Strict):
    journey_id: int = Field(ge=1, description="Customer Journey id (in the journey's API trigger URL).")
    step_id: int = Field(ge=1, description="The step with the 'Customer Journeys API' condition.")


class Mailchimp(_Strict):
    """Overdue invoices followed up through Mailchimp (`clinic_etl.engage.mailchimp`): on when the section is
    present."""

    tag: str = Field("overdue-invoice", min_length=1, max_length=100, description="Tag set on an overdue debtor.")
    status_if_new: str = Field(
        "transactional",
        pattern="^(subscribed|pending|transactional|unsubscribed)$",
        description="Status of a debtor new to the audience (an existing member's status is never changed).",
    )
    journey: Journey | None = Field(None, description="A Customer Journey step triggered per overdue invoice.")
    days_overdue: int = Field(7, ge=1, le=365, description="Days past its DueDate before an invoice is followed up.")
    follow_up_every_days: int = Field(14, ge=1, le=365, description="At most one follow-up per invoice per N days.")
    merge_names: bool = Field(
        True,
        description="Send the debtor's first and last name as FNAME and LNAME (an audience's default merge fields).",
    )
    alert_overdue_total: Decimal | None = Field(
        None,
        ge=0,
        description="Overdue money (this sync's invoices past their DueDate) above which a warning check fails.",
    )


class Summary(_Strict):
    """Summary mode (`mode: summary`): one invoice per day and business to a configured customer, no patient in Xero."""

    contact_name: str = Field(
        "{source} sales - {business}",
        min_length=1,
        max_length=255,
        description="Name of the Xero contact each business's daily summary is billed to; `{business}` is the"
        " business's name (`businesses` below) or id, `{source}` the source's name (Cliniko, Clio).",
    )
    businesses: dict[str, str] = Field(
        default_factory=dict, description="Source business id -> the name used in the summary contact's name."
    )
    number_prefix: str = Field(
        "SUM-", min_length=1, max_length=20, description="Summary invoices are numbered <prefix><YYYYMMDD>-<business>."
    )


class Tenant(_Strict):
    """One Xero organisation of a practice that books its businesses (locations) to several. Every key after
    `businesses` is optional and, when set, replaces the top-level key of the same name for this organisation."""

    name: str = Field(pattern="^[a-z0-9][a-z0-9_-]{0,39}$", description="Short name, in the run's metadata.")
    tenant_id: str = Field(min_length=1, description="The Xero organisation's tenant id (GET /connections).")
    businesses: list[str] = Field(
        default_factory=list,
        description="Source business ids booked to this organisation; empty on one tenant: every other business.",
    )
    invoice_number_prefix: str | None = Field(None, max_length=20)
    currency: str | None = Field(None, pattern="^[A-Z]{3}$")
    invoice_status: str | None = Field(None, pattern="^(DRAFT|AUTHORISED)$")
    send_invoices: bool | None = None
    mode: str | None = Field(None, pattern="^(detailed|summary)$")
    summary: Summary | None = None
    accounts: Accounts | None = None
    taxes: Taxes | None = None
    tracking: list[Tracking] | None = Field(None, max_length=2)


OVERRIDABLE = tuple(k for k in Tenant.model_fields if k not in ("name", "tenant_id", "businesses"))


class Mapping(_Strict):
    invoice_number_prefix: str = Field("CLK-", max_length=20)
    currency: str = Field("AUD", pattern="^[A-Z]{3}$")
    due_days: int = Field(0, ge=0, le=365, description="DueDate = issue date + due_days.")
    invoice_status: str = Field("AUTHORISED", pattern="^(DRAFT|AUTHORISED)$")
    send_invoices: bool = Field(False, description="Xero e-mails each approved invoice to its contact, once.")
    invoice_from: str = Field(
        "invoices",
        pattern="^(invoices|appointments)$",
        description="Cliniko: `appointments` makes every completed individual appointment an invoice, unless Cliniko"
        " holds an invoice for it (then that one is synced).",
    )
    require_arrival: bool = Field(
        False, description="invoice_from appointments: only appointments marked arrived at the source."
    )
    mode: str = Field(
        "detailed",
        pattern="^(detailed|summary)$",
        description="detailed: an invoice per source invoice, a contact per patient; summary: one invoice per day and"
        " business to the `summary` contact, no patient in Xero.",
    )
    summary: Summary = Summary()
    tenants: list[Tenant] = Field(
        default_factory=list,
        description="Several Xero organisations, businesses routed to each (empty: the one organisation of"
        " XERO_TENANT_ID or the connection).",
    )
    accounts: Accounts = Accounts()
    taxes: Taxes = Taxes()
    tracking: list[Tracking] = Field(default_factory=list, max_length=2)
    filters: Filters = Filters()
    rules: Rules = Rules()
    gohighlevel: GoHighLevel | None = None  # new patients into GoHighLevel (off unless present)
    mailchimp: Mailchimp | None = None  # overdue invoices followed up through Mailchimp (off unless present)

    @model_validator(mode="after")
    def _patterns_compile(self) -> Mapping:
        if self.rules.skip_bill_to:
            try:
                re.compile(self.rules.skip_bill_to)
            except re.error as exc:
                raise ValueError(f"rules.skip_bill_to is not a valid regular expression: {exc}") from None
        return self

    @model_validator(mode="after")
    def _write_offs_need_an_account(self) -> Mapping:
        if self.rules.closed_invoices == "written_off" and not self.accounts.bad_debts:
            raise ValueError("rules.closed_invoices is written_off: set accounts.bad_debts to the bad-debt account")
        return self

    @model_validator(mode="after")
    def _tenants_route_each_business_once(self) -> Mapping:
        names = [t.name for t in self.tenants]
        ids = [t.tenant_id.lower() for t in self.tenants]
        if len(set(names)) != len(names) or len(set(ids)) != len(ids):
            raise ValueError("tenants: each name and each tenant_id may appear once")
        if len([t for t in self.tenants if not t.businesses]) > 1:
            raise ValueError("tenants: at most one tenant may leave `businesses` empty (it takes every other business)")
        seen: dict[str, str] = {}
        for tenant in self.tenants:
            for business in tenant.businesses:
                if business in seen:
                    raise ValueError(f"tenants: business {business} is routed to {seen[business]} and {tenant.name}")
                seen[business] = tenant.name
        return self

    def for_tenant(self, tenant: Tenant | None) -> Mapping:
        """The mapping as one organisation sees it: the tenant's keys replace the top-level ones."""
        if tenant is None:
            return self
        return self.model_copy(
            update={k: getattr(tenant, k) for k in OVERRIDABLE if getattr(tenant, k) is not None} | {"tenants": []}
        )


class MappingError(ValueError):
    """The mapping file is invalid; the message says where and how to fix it."""


def load_mapping(path: str | Path | None) -> Mapping:
    if not path:
        return Mapping()
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        return Mapping.model_validate(raw)
    except FileNotFoundError as exc:
        raise MappingError(f"mapping file {path} not found (CLINIC_ETL_CONFIG)") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "cannot be parsed"
        raise MappingError(f"mapping file {path} is not valid YAML{where}: {problem}") from exc
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise MappingError(f"mapping file {path} is invalid: {problems}") from exc
