"""A mapping that names an account, tax type or tracking option the Xero organisation lacks is refused before any
write, one line per key with the fix; a mapping that fits passes."""

from decimal import Decimal

import pytest

from clinic_etl.mapping import Mapping
from clinic_etl.xero.check_mapping import MappingMismatch, check, problems
from clinic_etl.xero.org import XeroOrg

ORG = XeroOrg(
    accounts={
        "090": {"Code": "090", "Type": "BANK"},
        "200": {"Code": "200", "Type": "REVENUE"},
        "260": {"Code": "260", "Type": "REVENUE"},
    },
    tax_rates={"OUTPUT": Decimal("10"), "EXEMPTOUTPUT": Decimal("0")},
    tracking={"Location": {"Sydney", "Melbourne"}},
)


def mapping(**keys) -> Mapping:
    return Mapping.model_validate(keys)


def test_the_defaults_fit_a_standard_organisation():
    assert problems(Mapping(), ORG) == []
    fits = mapping(
        accounts={"by_business": {"1": "260"}, "credit_notes": "260"},
        tracking=[{"name": "Location", "by": "business", "options": {"1": "Sydney"}}],
    )
    assert problems(fits, ORG) == []


@pytest.mark.parametrize(
    ("keys", "says"),
    [
        ({"accounts": {"revenue": "201"}}, "accounts.revenue: account code '201'"),
        ({"accounts": {"by_item_code": {"MASSAGE": "299"}}}, "accounts.by_item_code['MASSAGE']: account code '299'"),
        ({"accounts": {"payments": "200"}}, "accounts.payments: account '200' takes no payments"),
        ({"accounts": {"payments": "091"}}, "accounts.payments: account code '091'"),
        ({"taxes": {"by_name": {"GST": "GST10"}}}, "taxes.by_name['GST']: TaxType 'GST10'"),
        ({"taxes": {"exempt": "FREE"}}, "taxes.exempt: TaxType 'FREE'"),
        ({"taxes": {"taxable_rate": "15"}}, "taxes.taxable_rate: 15% but Xero's OUTPUT is 10%"),
        ({"tracking": [{"name": "Region", "by": "business"}]}, "tracking[0].name: Xero has no active tracking"),
        (
            {"tracking": [{"name": "Location", "by": "business", "options": {"2": "Perth"}}]},
            "tracking[0].options['2']: 'Location' has no active option 'Perth'",
        ),
    ],
)
def test_each_missing_name_is_named_with_its_key(keys, says):
    found = problems(mapping(**keys), ORG)
    assert len(found) == 1 and found[0].startswith(says), found
    with pytest.raises(MappingMismatch, match="nothing was written"):
        check(mapping(**keys), ORG, "sydney")
