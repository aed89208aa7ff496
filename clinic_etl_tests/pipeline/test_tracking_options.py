"""Tracking by business: an option the mapping names and Xero lacks is created in Xero when the category says
`create_missing` (once: a re-run creates nothing), else the run stops before any write, naming the key."""

import yaml

from clinic_etl.sandbox.xero.org import add_tracking_category

from .conftest import DAY, checks, metadata

BUSINESSES = {"514810976554457178": "Surry Hills", "514810976554457305": "Newtown", "733190518264881540": "Glebe"}


def mapping_file(tmp_path, create: bool) -> str:
    category = {"name": "Location", "by": "business", "options": BUSINESSES, "create_missing": create}
    path = tmp_path / f"tracking-{create}.yaml"
    path.write_text(yaml.safe_dump({"tracking": [category]}), encoding="utf-8")
    return str(path)


def options_in_xero(sandbox) -> set[str]:
    (category,) = sandbox.xero().get("TrackingCategories")["TrackingCategories"]
    return {o["Name"] for o in category["Options"]}


def tracked(sandbox) -> set[str]:
    out = set()
    for invoice in sandbox.xero().get_all("Invoices", "Invoices"):
        full = sandbox.xero().get(f"Invoices/{invoice['InvoiceID']}")["Invoices"][0]
        out |= {t["Option"] for line in full["LineItems"] for t in line.get("Tracking") or []}
    return out


def test_missing_options_stop_the_run_unless_created_and_then_only_once(sandbox, tmp_path):
    add_tracking_category(sandbox.xero_state, "Location", ["Surry Hills"])
    refused = sandbox.sync(DAY, mapping=mapping_file(tmp_path, create=False))
    failed = [e for e in refused.all_events if e.is_step_failure]
    assert [e.step_key for e in failed] == ["xero_documents"]
    assert "tracking[0].options['514810976554457305']: 'Location' has no active option 'Newtown'" in (
        failed[0].step_failure_data.error.message
    )
    assert options_in_xero(sandbox) == {"Surry Hills"}

    created = sandbox.sync(DAY, mapping=mapping_file(tmp_path, create=True))
    assert created.success and checks(created)["xero_matches_source"]
    assert options_in_xero(sandbox) == set(BUSINESSES.values())
    made = metadata(created, "xero_documents")["tracking_options_created"]
    assert made == {"default": ["Location: Glebe", "Location: Newtown"]}
    assert tracked(sandbox) <= set(BUSINESSES.values()) and "Newtown" in tracked(sandbox)

    again = sandbox.sync(DAY, mapping=mapping_file(tmp_path, create=True))
    assert again.success and "tracking_options_created" not in metadata(again, "xero_documents")
    assert metadata(again, "xero_sync")["writes"] == 0
