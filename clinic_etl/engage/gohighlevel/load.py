"""Onboard new patients into GoHighLevel, once, planned against the state store (`engage_contacts`).

For each patient read (`contacts.contact_rows`):

- not yet in GHL and booked their first appointment in the window: upserted (GHL matches by its duplicate setting,
  e-mail then phone, never by name, so two patients of the same name stay two contacts), then given the configured
  tags, then added to the configured workflow. Each step is recorded as it succeeds, so a re-run after a stop
  finishes the steps left and never repeats one.
- in GHL already, with a changed hash (e-mail, phone, name, consent): the contact is updated (`PUT /contacts/{id}`,
  never an upsert, which would find the new e-mail's owner); with the same hash: nothing is sent.
- without consent, or with nothing to match on: declined or skipped with the reason, never sent; looked at again if
  the patient changes.
- sharing an e-mail or phone with another patient in GHL (a family's shared address): GHL would merge the two, so
  the second is skipped with a reason, unless `allow_duplicate_contacts` (then created with
  `createNewIfDuplicateAllowed`). Should GHL still answer with another patient's contact, nothing more is applied
  to it and the patient is skipped with the reason.
- GHL refusing a contact (400/422): skipped with GHL's message (scrubbed), looked at again when the patient changes.
  401/403, a 429 or 5xx past the core's retries: the step stops (nothing half-recorded); a re-run resumes.

A retried `POST .../workflow/{id}` (a lost answer) may enrol twice: GHL has no idempotency key (FACTS §9). The window
is one request; a workflow's own "allow re-entry" setting (off by default in GHL's UI, unverified) is the backstop.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace

import pandas as pd

from clinic_etl.engage.gohighlevel.client import GhlClient
from clinic_etl.engage.redact import scrub
from clinic_etl.http.errors import ApiError, ApiStatusError
from clinic_etl.mapping import GoHighLevel
from clinic_etl.store import EngageContact, StateStore

SERVICE = "gohighlevel"
OUTCOME_COLUMNS = ["source_key", "day", "action", "reason"]
#: what the sync did for a patient: sent (created, matched, updated, tagged, enrolled), or not (unchanged, declined,
#: skipped)
CHANGES = ("created", "matched", "updated", "tagged", "enrolled")
REFUSED = frozenset({400, 404, 409, 422})


@dataclass
class Onboarding:
    client: GhlClient
    store: StateStore
    config: GoHighLevel
    default_day: str
    outcomes: list[dict] = field(default_factory=list)

    @property
    def account(self) -> str:
        return self.client.location_id

    def note(self, key: str, day: str | None, action: str, reason: str = "") -> None:
        self.outcomes.append({"source_key": key, "day": day or self.default_day, "action": action, "reason": reason})

    def save(self, record: EngageContact) -> EngageContact:
        self.store.record_engage_contacts([record])
        return record

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.outcomes, columns=OUTCOME_COLUMNS)


class StepRefused(ApiError):
    """GHL refused an onboarding step for a reason the mapping file can fix (a workflow id it does not know)."""


def _done(record: EngageContact) -> dict:
    return dict(json.loads(record.steps).get("done", {})) if record.steps else {}


def onboard(
    client: GhlClient, store: StateStore, config: GoHighLevel, rows: pd.DataFrame, default_day: str
) -> pd.DataFrame:
    """Send what the state store says is missing; returns one outcome per action (ids and reasons only)."""
    run = Onboarding(client, store, config, default_day)
    known = store.engage_contacts(SERVICE, run.account, list(rows["source_key"]))
    taken = _taken(run, rows, known)
    for row in sorted(rows.to_dict("records"), key=lambda r: (r["day"] or "", r["source_key"])):
        record = known.get(row["source_key"])
        if record is not None and record.in_system:
            _keep_up(run, row, record)
        elif row["first"] or record is not None:  # a new patient, or one declined or skipped before who changed
            _onboard(run, row, record, taken)
    return run.frame()


def _taken(run: Onboarding, rows: pd.DataFrame, known: dict[str, EngageContact]) -> dict[str, str]:
    """E-mail and phone hashes already used by a patient in GHL -> that patient's key."""
    emails = [h for h in rows["email_hash"] if isinstance(h, str)]
    phones = [h for h in rows["phone_hash"] if isinstance(h, str)]
    taken: dict[str, str] = {}
    for other in run.store.engage_contacts_sharing(SERVICE, run.account, emails, phones):
        for digest in (other.email_hash, other.phone_hash):
            if digest:
                taken.setdefault(digest, other.source_key)
    return taken


def _keep_up(run: Onboarding, row: dict, record: EngageContact) -> None:
    """A patient in GHL: update the contact if what is sent changed; finish onboarding steps left by a stop."""
    day = row["day"] or record.partition_key
    if record.content_hash != row["content_hash"]:
        try:
            run.client.update_contact(str(record.remote_id), row["body"])
        except ApiStatusError as error:
            if error.status_code not in REFUSED:
                raise
            run.note(row["source_key"], day, "skipped", f"GHL refused the update: {error}")
            return
        record = run.save(
            replace(
                record,
                content_hash=row["content_hash"],
                email_hash=row["email_hash"],
                phone_hash=row["phone_hash"],
            )
        )
        run.note(row["source_key"], day, "updated")
    if record.status == "contact":
        _apply_steps(run, record, day)
    elif record.content_hash == row["content_hash"]:
        run.note(row["source_key"], day, "unchanged")


def _onboard(run: Onboarding, row: dict, record: EngageContact | None, taken: dict[str, str]) -> None:
    key, day = row["source_key"], row["day"] or (record.partition_key if record else None)
    base = EngageContact(SERVICE, run.account, key, "skipped", partition_key=day)
    if not row["eligible"]:
        status = "declined" if "consent" in row["reason"] else "skipped"
        if record is None or record.status != status or record.reason != row["reason"]:
            run.save(replace(base, status=status, reason=row["reason"], content_hash=row["content_hash"]))
        run.note(key, day, status, row["reason"])
        return
    shared = [taken[h] for h in (row["email_hash"], row["phone_hash"]) if h in taken and taken[h] != key]
    if shared and not run.config.allow_duplicate_contacts:
        reason = (
            f"shares an e-mail or phone with {shared[0]}, already in GHL: GHL's duplicate rule would merge them "
            "(set gohighlevel.allow_duplicate_contacts and allow duplicates in the location to keep both)"
        )
        run.save(replace(base, reason=reason, content_hash=row["content_hash"]))
        run.note(key, day, "skipped", reason)
        return
    body = {**row["body"], **({"createNewIfDuplicateAllowed": True} if shared else {})}
    try:
        new, contact = run.client.upsert_contact(body)
    except ApiStatusError as error:
        if error.status_code not in REFUSED:
            raise
        reason = f"GHL refused the contact: {scrub(str(error))}"
        run.save(replace(base, reason=reason, content_hash=row["content_hash"]))
        run.note(key, day, "skipped", reason)
        return
    holder = _holder_of(run, contact["id"], key)
    if holder is not None:
        reason = f"GHL answered with {holder}'s contact (its duplicate setting matched them): nothing applied"
        run.save(replace(base, reason=reason, content_hash=row["content_hash"]))
        run.note(key, day, "skipped", reason)
        return
    record = run.save(
        EngageContact(
            SERVICE,
            run.account,
            key,
            "contact",
            remote_id=contact["id"],
            content_hash=row["content_hash"],
            email_hash=row["email_hash"],
            phone_hash=row["phone_hash"],
            steps=json.dumps({"done": {}}),
            partition_key=day,
        )
    )
    for digest in (row["email_hash"], row["phone_hash"]):
        if digest:
            taken.setdefault(digest, key)
    run.note(key, day, "created" if new else "matched")
    _apply_steps(run, record, day)


def _holder_of(run: Onboarding, contact_id: str, key: str) -> str | None:
    """Another patient the state store maps to this GHL contact, if any."""
    for other in run.store.engage_contacts(SERVICE, run.account).values():
        if other.remote_id == contact_id and other.source_key != key and other.in_system:
            return other.source_key
    return None


def _apply_steps(run: Onboarding, record: EngageContact, day: str | None) -> None:
    """The configured tags, then the workflow, each sent once and recorded as it succeeds. A step not done yet takes
    the mapping as it is now (a workflow id fixed after GHL refused it is used on the re-run); a contact onboarded
    once is never given later tags or workflows."""
    done = _done(record)
    contact = str(record.remote_id)
    steps = (
        ("tags", list(run.config.tags), run.client.add_tags, "tagged", "gohighlevel.tags"),
        ("workflow", run.config.workflow_id, run.client.add_to_workflow, "enrolled", "gohighlevel.workflow_id"),
    )
    for name, wanted, send, action, mapping_key in steps:
        if not wanted or done.get(name):
            continue
        try:
            send(contact, wanted)
        except ApiStatusError as error:
            if error.status_code not in REFUSED:
                raise
            raise StepRefused(f"{error}: check {mapping_key} in the mapping file, then re-run") from None
        done[name] = wanted
        record = run.save(replace(record, steps=json.dumps({"done": done})))
        run.note(record.source_key, day, action)
    run.save(replace(record, status="onboarded", steps=json.dumps({"done": done})))
