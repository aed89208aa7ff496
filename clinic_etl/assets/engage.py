"""The outbound assets, each present only when the mapping file has its section (`gohighlevel`, `mailchimp`)."""

from __future__ import annotations

import dagster as dg

from clinic_etl.assets import follow_ups, onboarding
from clinic_etl.mapping import Mapping


def engage_assets(partitions: dg.PartitionsDefinition, mapping: Mapping) -> list[dg.AssetsDefinition]:
    out = []
    if mapping.gohighlevel is not None:
        out.append(onboarding.build(partitions))
    if mapping.mailchimp is not None:
        out.append(follow_ups.build(partitions, mapping.mailchimp))
    return out
