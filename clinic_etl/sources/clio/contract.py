"""The ledger's contract checked on what the Clio mapping built: a row breaking it (a gap in the mapping's own checks)
names the record that answers for it, to be rejected rather than fail the run."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from clinic_etl.ledger.models import LEDGER_MODELS

# which record answers for a row of each ledger frame that breaks the contract
OWNERS = {
    "invoices": ("invoice_key", "bill"),
    "lines": ("invoice_key", "bill"),
    "payments": ("payment_key", "allocation"),
    "credit_notes": ("credit_note_key", "credit_memo"),
    "credit_allocations": ("allocation_key", "allocation"),
    "refunds": ("refund_key", "refund"),
    "excluded": ("record_key", None),
}


def contract_failures(ledger: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], list[tuple[str, str, str]]]:
    """Validate the ledger frames; each row breaking the contract (a gap in the checks above) names the record that
    answers for it, to be rejected rather than fail the run. A failure of a whole frame is a bug and raises."""
    failures, validated = [], {}
    for name, frame in ledger.items():
        try:
            validated[name] = LEDGER_MODELS[name].validate(frame, lazy=True)
        except pa.errors.SchemaErrors as err:
            for case in err.failure_cases.itertuples(index=False):
                if pd.isna(case.index):
                    raise
                reason = f"its ledger {name} row breaks the contract ({case.column} fails {case.check})"
                if name == "contacts":
                    contact = frame.at[case.index, "contact_key"]
                    for other, column_name, entity in (
                        ("invoices", "invoice_key", "bill"),
                        ("credit_notes", "credit_note_key", "credit_memo"),
                    ):
                        rows = ledger[other][ledger[other]["contact_key"] == contact]
                        failures += [(entity, k.rsplit(":", 1)[-1], reason) for k in rows[column_name]]
                    continue
                column_name, entity = OWNERS[name]
                record_key = str(frame.at[case.index, column_name])
                entity = entity or record_key.split(":")[1]
                failures.append((entity, record_key.rsplit(":", 1)[-1], reason))
    return validated, failures
