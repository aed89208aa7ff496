"""A patient archived (or deleted) at the source: the Xero contact this project made for them is archived, once,
after the run's documents; a contact never synced is left alone."""

import pandas as pd

from clinic_etl.xero.load import load_documents

from .handmade import DAY, ledger, loader


def contact(client, key: str) -> dict:
    """The contact by its ContactNumber, archived ones included (Xero lists them only when asked)."""
    found = client.get_all("Contacts", "Contacts", includeArchived="true")
    return next(c for c in found if c.get("ContactNumber") == key)


def test_the_contact_of_an_archived_patient_is_archived_once_and_a_never_synced_one_is_left_alone(sandbox):
    run, client, store = loader(sandbox)
    run(ledger([]))
    assert contact(client, "test:client:1")["ContactStatus"] == "ACTIVE"
    documents = {
        **run.documents,
        "archived_contacts": pd.DataFrame({"contact_key": ["test:client:1", "test:client:9"]}),
    }

    outcome = load_documents(client, store, documents, DAY, "AUD", run_id="archive-1")
    archived = outcome[outcome["action"] == "archived"]
    assert list(archived["key"]) == ["test:client:1"]
    assert contact(client, "test:client:1")["ContactStatus"] == "ARCHIVED"
    assert contact(client, "test:client:2")["ContactStatus"] == "ACTIVE"
    assert "test:client:9" not in set(outcome["key"])  # never in Xero: nothing to archive, nothing made
    assert [w["action"] for w in store.writes(run_id="archive-1")] == ["archived"]

    again = load_documents(client, store, documents, DAY, "AUD", run_id="archive-2")
    assert store.writes(run_id="archive-2") == []
    assert set(again.loc[again["key"] == "test:client:1", "action"]) == {"unchanged"}
