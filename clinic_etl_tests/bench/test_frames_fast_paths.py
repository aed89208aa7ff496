"""The transform's shortcuts give what the general code gives: `clean` text is what `one_line` leaves alone, and
`_Rules.priced` (answers kept per distinct question) equals `quantity_price`, Decimal exponents and signs included."""

import random
from decimal import Decimal

from clinic_etl.mapping import Mapping
from clinic_etl.xero.fields import one_line
from clinic_etl.xero.frames import _Rules, clean
from clinic_etl.xero.lines import quantity_price
from clinic_etl.xero.org import XeroOrg

ALPHABET = "ab Z9-'\t\n\r\x00\x7f\xa0\u2028\u2029\u3000\ud800é李 "


def test_clean_text_is_left_alone_by_one_line():
    rng = random.Random(5)
    texts = ["", " ", "a", "a  b", " a", "a ", "Zoë Ångström", "O'Connor", "x\u2028y", "nb\xa0sp"]
    texts += ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 6))) for _ in range(20_000)]
    for text in texts:
        if clean(text):
            assert one_line(text) == text, repr(text)
    assert clean("Emily Chen") and not clean("Emily  Chen") and not clean("Emily\nChen")


def test_priced_equals_quantity_price_twice_over():
    rng = random.Random(11)
    values = ["0", "-0", "0.00", "1", "1.0", "2", "5", "1.50", "3.000"]
    prices = ["0", "-0", "0.00", "95", "95.0", "95.00", "63.636", "36.364", "18.182", "12.34567", "100"]
    rates = ["0", "0.0", "10", "10.0", "12.5"]
    amounts = ["0.00", "90.00", "104.50", "110.00", "181.82", "200.00", "1.00", "-0.00"]
    rules = _Rules(Mapping(), XeroOrg())
    for _ in range(20_000):
        args = [Decimal(rng.choice(options)) for options in (values, prices, rates, amounts)]
        expected = quantity_price(*args)
        got = rules.priced(*args)
        assert repr(got) == repr(expected), args
        assert [k for k in got] == [k for k in expected]
