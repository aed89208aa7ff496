"""Contacts the finance team made in Xero before the sync: one with the same name and e-mail as a source contact is
matched (given its ContactNumber, never duplicated); one with the same name and another e-mail is someone else, and
the source contact gets a disambiguated name."""

from __future__ import annotations

import pytest

from clinic_etl_tests.pipeline.handmade import ledger


@pytest.fixture
def load(handmade):
    return handmade


def test_same_name_and_email_is_matched_same_name_other_email_is_not(load):
    run, client, _ = load
    made = client.write_batches(
        "PUT",
        "Contacts",
        [
            {"Name": "Client Number 1", "EmailAddress": "One@Example.org"},
            {"Name": "Client Number 2", "EmailAddress": "someone.else@example.org"},
        ],
    )
    existing = {c["Name"]: c["ContactID"] for c in made}

    done = run(ledger([], emails={"1": "one@example.org", "2": "two@example.org"}))
    assert done["adopted"] == ["test:client:1"]
    assert done["updated"] == ["test:client:1"]  # given our ContactNumber and the source's fields
    assert "test:client:2" in done["created"]
    contacts = {c["ContactNumber"]: c for c in client.get_all("Contacts", "Contacts") if c.get("ContactNumber")}
    assert contacts["test:client:1"]["ContactID"] == existing["Client Number 1"]
    assert contacts["test:client:2"]["ContactID"] != existing["Client Number 2"]
    assert contacts["test:client:2"]["Name"] == "Client Number 2 (2)"
    assert len(client.get_all("Contacts", "Contacts")) == 3
