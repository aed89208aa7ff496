"""The UI tells the story of the money (issue 10), read through Dagster's GraphQL API as the UI reads it, from the
webserver of the production profile: the five assets with their descriptions and groups (source -> ledger -> Xero
-> proof), their dependencies, the daily partitions in the practice's zone, the checks (the blocking ones marked),
the column schemas from the ledger's pandera models, and a synced day's money and counts as numbers the UI plots
(the source's total next to Xero's), with no personal data anywhere."""

import json
import re

from clinic_etl.sandbox.cliniko import build_practice

DAY = "2026-10-14"
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
GRAPH = {
    "source_records": ("source", []),
    "practice_ledger": ("ledger", ["source_records"]),
    "xero_documents": ("xero", ["practice_ledger"]),
    "xero_sync": ("xero", ["xero_documents"]),
    "xero_reconciliation": ("proof", ["practice_ledger", "xero_documents", "xero_sync"]),
}
NODES = """{ assetNodes {
  assetKey { path } groupName description isPartitioned pools kinds
  dependencyKeys { path }
  partitionDefinition { type description }
  assetChecksOrError { ... on AssetChecks { checks { name blocking description } } }
  metadataEntries { label __typename ... on TableSchemaMetadataEntry { schema { columns { name type description } } } }
} }"""
DAY_METADATA = """query ($path: [String!]!, $day: String!) { assetOrError(assetKey: {path: $path}) { ... on Asset {
  assetMaterializations(partitions: [$day], limit: 1) { partition runId metadataEntries { label __typename
    ... on FloatMetadataEntry { floatValue } ... on IntMetadataEntry { intValue } ... on TextMetadataEntry { text }
    ... on BoolMetadataEntry { boolValue } ... on JsonMetadataEntry { jsonString } } }
} } }"""
STATUSES = """query ($path: [String!]!) { assetNodeOrError(assetKey: {path: $path}) { ... on AssetNode {
  assetPartitionStatuses { ... on TimePartitionStatuses { ranges { startKey endKey status } } }
} } }"""


def synced(deployment) -> None:
    """The day is synced (by the deployment test's runs, or by one launched here)."""
    found = deployment.graphql(DAY_METADATA, {"path": ["xero_reconciliation"], "day": DAY})
    if not found["assetOrError"]["assetMaterializations"]:
        run = deployment.launch({"dagster/partition": DAY})
        assert deployment.wait([run])[run]["status"] == "SUCCESS"


def entries(deployment, asset: str) -> dict:
    found = deployment.graphql(DAY_METADATA, {"path": [asset], "day": DAY})["assetOrError"]
    (materialization,) = found["assetMaterializations"]
    return {e["label"]: e for e in materialization["metadataEntries"]}


def test_the_ui_sees_the_graph_its_partitions_checks_schemas_and_a_days_numbers(deployment):
    synced(deployment)
    nodes = {tuple(n["assetKey"]["path"])[0]: n for n in deployment.graphql(NODES)["assetNodes"]}
    assert set(GRAPH) <= set(nodes)
    for name, (group, upstream) in GRAPH.items():
        node = nodes[name]
        assert node["groupName"] == group and node["isPartitioned"], name
        assert sorted(d["path"][0] for d in node["dependencyKeys"]) == upstream, name
        assert node["description"] and node["partitionDefinition"]["type"] == "TIME_WINDOW"
        assert "Australia/Sydney" in node["partitionDefinition"]["description"]
    assert [n["description"][:2] for n in map(nodes.get, GRAPH)] == ["1.", "2.", "3.", "4.", "5."]  # the story
    assert nodes["xero_sync"]["pools"] == ["xero_api"] and nodes["source_records"]["pools"] == ["cliniko_api"]
    checks = {c["name"]: c["blocking"] for a in GRAPH for c in nodes[a]["assetChecksOrError"].get("checks", [])}
    assert checks == {"lines_add_up_to_source_totals": True, "xero_matches_source": True, "nothing_quarantined": True}

    # the ledger's columns, from its pandera models (types, descriptions), and the Xero frames'
    ledger = {e["label"]: e for e in nodes["practice_ledger"]["metadataEntries"]}
    columns = {c["name"]: c for c in ledger["dagster/column_schema"]["schema"]["columns"]}
    assert columns["invoice_key"]["description"] == "e.g. cliniko:invoice:108" and columns["day"]["type"] == "str"
    assert {"columns: invoices", "columns: payments", "columns: credit_notes"} <= set(ledger)
    xero = {e["label"]: e for e in nodes["xero_documents"]["metadataEntries"]}
    assert "InvoiceNumber" in [c["name"] for c in xero["columns: invoices"]["schema"]["columns"]]

    # the day's partition is materialized, and its figures are numbers (plotted across days), exact text beside them
    ranges = deployment.graphql(STATUSES, {"path": ["xero_reconciliation"]})["assetNodeOrError"]
    done = [r for r in ranges["assetPartitionStatuses"]["ranges"] if r["status"] == "MATERIALIZED"]
    assert any(r["startKey"] <= DAY <= r["endKey"] for r in done)
    proof = entries(deployment, "xero_reconciliation")
    for label in ("source_total", "xero_total", "difference", "source_paid", "xero_paid"):
        assert proof[label]["__typename"] == "FloatMetadataEntry", label
    assert proof["source_total"]["floatValue"] == proof["xero_total"]["floatValue"] > 0
    assert proof["difference"]["floatValue"] == 0
    assert proof["invoices_compared"]["__typename"] == "IntMetadataEntry" and proof["invoices_compared"]["intValue"] > 0
    assert proof["reconciled"]["boolValue"] is True
    exact = json.loads(proof["amounts"]["jsonString"])
    assert exact["difference"] == "0.00" and float(exact["source_total"]) == proof["source_total"]["floatValue"]
    ledger_day = entries(deployment, "practice_ledger")
    assert ledger_day["invoice_total"]["__typename"] == "FloatMetadataEntry"
    assert ledger_day["invoices"]["intValue"] > 0 and ledger_day["payments"]["__typename"] == "IntMetadataEntry"
    written = entries(deployment, "xero_sync")
    assert written["writes"]["__typename"] == "IntMetadataEntry"

    # no personal data in what the UI shows of the graph or the day
    shown = json.dumps([nodes, proof, ledger_day, written, entries(deployment, "xero_documents")])
    people = build_practice().patients
    names = {str(p[k]) for p in people for k in ("last_name", "email") if p.get(k) and len(str(p[k])) > 3}
    assert not [n for n in names if re.search(rf"\b{re.escape(n)}\b", shown)]
