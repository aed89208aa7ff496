"""A patient whose name Xero's limits or line breaks would refuse still syncs, cleaned and cut to Xero's schema."""

from .conftest import DAY, EditableCliniko, checks, metadata


def test_a_long_multiline_first_name_syncs_cut_to_xeros_limit(sandbox, editable):
    slot, practice = editable
    invoice = next(i for i in practice.invoices if i["issue_date"] == DAY and not i.get("deleted_at"))
    patient = next(p for p in practice.patients if str(p["id"]) == str(invoice["patient_id"]))
    patient["first_name"] = "Marie-" + "A" * 300 + "\r\nLouise"
    result = sandbox.sync(DAY, cliniko=EditableCliniko(slot=slot))
    assert result.success and checks(result)["xero_matches_source"]
    rec = metadata(result, "xero_reconciliation", DAY)
    assert rec["reconciled"] is True, [(q.entity, q.source_id, q.reason) for q in sandbox.store().open_quarantine(DAY)]
    found = sandbox.xero().contact_by_number(f"cliniko:patient:{patient['id']}")
    assert len(found["FirstName"]) == 255 and "\r" not in found["FirstName"] and "\n" not in found["Name"]
