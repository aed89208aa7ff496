"""The state store's outbound records (migration 0004): contacts and follow-ups round-trip, a patient sharing an
e-mail or phone is found by its salted hash (never the value), and 0004 downgrades and upgrades cleanly."""

import pytest
from sqlalchemy import inspect, text

from clinic_etl.store import EngageContact, FollowUp, StateStore, personal_hash
from clinic_etl.store.migrate import downgrade, upgrade


@pytest.fixture
def store(tmp_path):
    with StateStore.open(f"sqlite:///{tmp_path / 'state.db'}") as opened:
        yield opened


def test_contacts_round_trip_and_a_shared_email_is_found_by_its_hash(store):
    email = personal_hash("email", " Jo@Example.org ")
    assert email == personal_hash("email", "jo@example.org") and "jo" not in email
    store.record_engage_contacts(
        [
            EngageContact("gohighlevel", "loc", "cliniko:patient:1", "onboarded", "c1", "h1", email, None, "{}"),
            EngageContact("gohighlevel", "loc", "cliniko:patient:2", "declined", reason="no consent"),
        ]
    )
    found = store.engage_contacts("gohighlevel", "loc")
    assert found["cliniko:patient:1"].in_system and not found["cliniko:patient:2"].in_system
    assert found["cliniko:patient:1"].updated_at is not None
    sharing = store.engage_contacts_sharing("gohighlevel", "loc", [email], [personal_hash("phone", "+61400")])
    assert [c.source_key for c in sharing] == ["cliniko:patient:1"]
    assert store.engage_contacts_sharing("gohighlevel", "other-location", [email], []) == []
    with pytest.raises(ValueError):
        store.record_engage_contacts([EngageContact("gohighlevel", "loc", "k", "merged")])


def test_follow_ups_round_trip_by_status(store):
    store.record_follow_ups(
        [
            FollowUp("mailchimp", "aud", "cliniko:invoice:1", "X1", "overdue", "CLK-1", "m1", 1, "2026-10-14"),
            FollowUp("mailchimp", "aud", "cliniko:invoice:2", "X2", "skipped", "CLK-2", reason="Mailchimp: ..."),
        ]
    )
    assert list(store.follow_ups("mailchimp", "aud", status="overdue")) == ["cliniko:invoice:1"]
    assert store.follow_ups("mailchimp", "aud", ["cliniko:invoice:2"])["cliniko:invoice:2"].reason == "Mailchimp: ..."


def test_0004_downgrades_and_upgrades(store):
    store.record_follow_ups([FollowUp("mailchimp", "aud", "k", "X1", "overdue")])
    downgrade(store.engine, "0003")
    with store.engine.connect() as conn:
        assert not {"engage_contacts", "engage_follow_ups"} & set(inspect(conn).get_table_names())
    upgrade(store.engine)
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM engage_follow_ups")).scalar() == 0
    assert store.follow_ups("mailchimp", "aud") == {}
