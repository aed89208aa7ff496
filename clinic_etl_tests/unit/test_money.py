"""Exact money: parsing, rounding, allocation and JSON bodies never go through binary float."""

import json
from decimal import Decimal

import pytest

from clinic_etl.ledger.money import allocate, cents, places, to_decimal
from clinic_etl.xero import jsonbody


def test_to_decimal_accepts_strings_and_json_numbers_without_float_noise():
    assert to_decimal("81.818") == Decimal("81.818")
    assert to_decimal(0.1) == Decimal("0.1")  # via str, not Decimal(0.1000000000000000055...)
    with pytest.raises(ArithmeticError):
        to_decimal("NaN")


def test_cents_rounds_half_up():
    assert cents(Decimal("0.005")) == Decimal("0.01")
    assert cents(Decimal("2.675")) == Decimal("2.68")
    assert places(Decimal("81.8180")) == 3


@pytest.mark.parametrize(
    ("total", "parts"),
    [
        ("100.00", ["33.333", "33.333", "33.334"]),
        ("0.03", ["0.011", "0.011", "0.008"]),
        ("90.00", ["81.818", "8.182"]),
        ("-10.00", ["-3.333", "-3.333", "-3.334"]),
    ],
)
def test_allocate_adds_up_exactly(total, parts):
    shares = allocate(Decimal(total), [Decimal(p) for p in parts])
    assert sum(shares) == Decimal(total)
    assert all(places(s) <= 2 for s in shares)
    assert all(abs(s - Decimal(p)) < Decimal("0.01") for s, p in zip(shares, parts, strict=True))


def test_json_body_keeps_decimal_digits_exactly():
    body = jsonbody.dumps({"Amount": Decimal("1234567.89"), "UnitAmount": Decimal("81.8182"), "Name": "Zoë", "X": None})
    assert b'"Amount":1234567.89' in body
    assert b'"UnitAmount":81.8182' in body
    assert "X" not in json.loads(body)
    assert json.loads(body)["Name"] == "Zoë"
