"""Tracking options the mapping names and Xero lacks: created in Xero when the category's `create_missing` is set
(PUT /TrackingCategories/{id}/Options, one option a call), else the mapping check stops the run before any write.
A business or practitioner the mapping has no option for is quarantined per invoice either way (the mapping must
name it)."""

from __future__ import annotations

from dataclasses import replace

from clinic_etl.mapping import Mapping
from clinic_etl.xero.client import XeroClient
from clinic_etl.xero.org import XeroOrg


def missing_options(mapping: Mapping, org: XeroOrg) -> list[tuple[str, str]]:
    """(category, option) the mapping names under a `create_missing` category that Xero has, and Xero lacks."""
    return sorted(
        {
            (t.name, option)
            for t in mapping.tracking
            if t.create_missing and t.name in org.tracking
            for option in t.options.values()
            if option not in org.tracking[t.name]
        }
    )


def create_missing(client: XeroClient, mapping: Mapping, org: XeroOrg) -> tuple[XeroOrg, list[tuple[str, str]]]:
    """Create the missing options (a dry run only plans them); the organisation's chart with them, and what was made."""
    wanted = missing_options(mapping, org)
    if not wanted:
        return org, []
    ids = {c["Name"]: c["TrackingCategoryID"] for c in client.get("TrackingCategories").get("TrackingCategories", [])}
    tracking = {name: set(options) for name, options in org.tracking.items()}
    for category, option in wanted:
        client.write("PUT", f"TrackingCategories/{ids[category]}/Options", {"Name": option})
        tracking[category].add(option)
    return replace(org, tracking=tracking), wanted
